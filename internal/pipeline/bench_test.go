package pipeline_test

import (
	"context"
	"fmt"
	"image"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/capture"
	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/internal/pipeline"
	"github.com/fruitcam/fruitcam/internal/pipeline/pipelinetest"
	"github.com/fruitcam/fruitcam/internal/testdata"
	"github.com/fruitcam/fruitcam/internal/testmodels"
)

// BenchmarkAgent measures the agent's frame path, 640×480 YUYV camera
// frames to results, for each model and batch size (`make bench` prints
// it as a table with .ci/bench_agent.sh). Models: "fake", a classifier
// that does nothing (with MobileNet's 1001 classes, so aggregation costs
// as much), which leaves the pipeline alone; MobileNet v2 1.0 224 and
// MobileNet v1 0.25 128 (uint8, ImageNet); the workshop's fruit CNN
// (int8, 20×20, 16 classes). The native engine runs with one thread and
// the pipeline with one worker and the agent's default batch timeout.
//
// Three leaves per model and batch size:
//
//   - bare: infer.Classifier.ClassifyInto on batches of the same frames,
//     no pipeline: the model's own time per frame (preprocessing, engine,
//     ranking) and its allocations. An op is one batch.
//   - pipeline: closed loop, an op is one batch's worth of frames.
//     2×batch frames are kept in flight, so while the worker classifies
//     one batch the next is already queued: the worker never waits for
//     frames and frames/s is the capacity of pipeline plus model. The
//     pipeline's overhead is its ms/frame minus bare's; outside-ms/frame
//     is the same run's time per frame outside the Classify calls (the
//     sum of Result.Inference taken from the elapsed time), the overhead
//     without the run-to-run noise of two measurements. Its allocs/frame
//     minus bare's are the pipeline's own (the fake model's are all its
//     own). Its latency is that of a saturated queue (each frame waits
//     behind one batch), not what a camera sees.
//   - camera: open loop, an op is one frame: frames arrive on a clock,
//     as from a camera, at 30 fps or at 70% of the bare capacity,
//     whichever is lower, so nothing queues up and the capture→result
//     latency (Result.Done − Captured) is batching wait plus inference.
//     Below capacity a batch of 8 rarely fills: it runs when the batch
//     timeout expires, with the frames that came. late-ms is how far the
//     benchmark's own clock fell behind (a busy machine); dropped counts
//     frames the full queue dropped. Either makes the latencies suspect.
func BenchmarkAgent(b *testing.B) {
	models := []struct {
		name string
		file func(b *testing.B) string // nil: the fake classifier
	}{
		{"fake", nil},
		{"mobilenet_v2", coral("mobilenet_v2_1.0_224_quant.tflite")},
		{"mobilenet_v1_0.25", coral("mobilenet_v1_0.25_128_quant.tflite")},
		{"fruit_cnn", fruitCNN},
	}
	for _, m := range models {
		b.Run("model="+m.name, func(b *testing.B) {
			var f *infer.File
			if m.file != nil {
				var err error
				f, err = infer.ReadFile(m.file(b))
				check(b, err)
			}
			for _, batch := range []int{1, 8} {
				b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
					r := newRig(b, f, batch)
					b.Run("bare", r.bare)
					b.Run("pipeline", r.closedLoop)
					b.Run("camera", r.camera)
				})
			}
		})
	}
}

const (
	// batchTimeout is the agent's default infer.batch.timeout.
	batchTimeout = 20 * time.Millisecond
	// cameraFPS and cameraLoad set the camera leaf's frame rate: a camera
	// at 30 fps, slowed to 70% of the model's capacity when it cannot keep
	// up, so that latency is measured without a standing queue.
	cameraFPS  = 30
	cameraLoad = 0.7
)

// rig is one model at one batch size: its classifier and the frames the
// leaves feed it. The testing package runs a leaf several times with a
// growing b.N; the rig lives for all of them.
type rig struct {
	c      pipeline.Classifier
	batch  int
	frames []image.Image // 2×batch distinct frames, as from a camera's buffers
	// results are bare's, reused from batch to batch.
	results []infer.Result
	// perFrame is the bare time per frame, measured once for the camera's
	// rate.
	perFrame time.Duration
}

// newRig builds a classifier of f (the fake one when f is nil) for
// batches of batch frames.
func newRig(b *testing.B, f *infer.File, batch int) *rig {
	r := &rig{batch: batch, frames: benchFrames(2 * batch)}
	if f == nil {
		r.c = pipelinetest.NewClassifier(make([]string, 1001)...)
		return r
	}
	md, err := f.Metadata()
	check(b, err)
	e, err := infer.NewEngine(f, infer.Options{Threads: 1})
	check(b, err)
	b.Cleanup(func() { e.Close() })
	r.c, err = infer.NewClassifier(e, md, infer.ClassifierOptions{MaxBatch: batch, Graph: f.Model})
	check(b, err)
	return r
}

// classify runs the i-th batch of frames (the two halves of r.frames
// alternate), reusing the results as the pipeline's workers do.
func (r *rig) classify(b *testing.B, i int) {
	res, err := r.c.ClassifyInto(r.results, r.frames[i%2*r.batch:][:r.batch], 1)
	check(b, err)
	r.results = res
}

// bare is the model without the pipeline, called as the pipeline's
// workers call it (ClassifyInto, top 1).
func (r *rig) bare(b *testing.B) {
	r.classify(b, 0) // sizes the engine for the batch
	allocs := countAllocs()
	b.ResetTimer()
	for i := range b.N {
		r.classify(b, i)
	}
	b.StopTimer()
	frames := b.N * r.batch
	b.ReportMetric(msPerFrame(b.Elapsed(), frames), "ms/frame")
	b.ReportMetric(allocs()/float64(frames), "allocs/frame")
}

// closedLoop is the pipeline at capacity: b.N batches' worth of frames,
// 2×batch in flight.
func (r *rig) closedLoop(b *testing.B) {
	window := 2 * r.batch
	n := b.N * r.batch
	sink := newLatencySink(2*window + n)
	p := r.start(b, sink, window)
	// Frame slots are reused: with one worker and one frame per item the
	// results come in submission order, and a frame is released before
	// its result is sent, so slot i%window is free once the result of
	// frame i-window has arrived.
	slots := make([]capture.Frame, window)
	var item uint64 // item ids must not repeat: a repeated one is a late frame
	inflight := 0
	submit := func() {
		if inflight == window {
			<-sink.done
			inflight--
		}
		item++
		i := int(item) % window
		slots[i] = capture.Frame{Camera: "bench", Item: item, ItemFrames: 1, Captured: time.Now(), Image: r.frames[i]}
		p.Submit(&slots[i])
		inflight++
	}
	drain := func() {
		for ; inflight > 0; inflight-- {
			<-sink.done
		}
	}
	// Warm up: two windows fill the pipeline's item pool and buffers.
	for range 2 * window {
		submit()
	}
	drain()
	sink.reset()
	before := p.Stats()
	allocs := countAllocs()

	b.ResetTimer()
	for range n {
		submit()
	}
	drain()
	b.StopTimer()

	s := p.Stats()
	if d := s.Skipped - before.Skipped; d != 0 {
		b.Fatalf("%d frames dropped in a closed loop", d)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "frames/s")
	b.ReportMetric(msPerFrame(b.Elapsed(), n), "ms/frame")
	b.ReportMetric(msPerFrame(b.Elapsed()-sink.inference, n), "outside-ms/frame")
	b.ReportMetric(allocs()/float64(n), "allocs/frame")
	b.ReportMetric(float64(s.Processed-before.Processed)/float64(s.Batches-before.Batches), "frames/batch")
	b.ReportMetric(sink.percentileMS(0.50), "p50-ms")
	b.ReportMetric(sink.percentileMS(0.99), "p99-ms")
}

// camera is the pipeline fed on a clock below capacity: b.N frames.
func (r *rig) camera(b *testing.B) {
	if r.perFrame == 0 {
		r.perFrame = r.measure(b)
	}
	fps := min(cameraFPS, cameraLoad/r.perFrame.Seconds())
	period := time.Duration(float64(time.Second) / fps)
	const warm = 2 // frames, one at a time: the batches the camera makes
	sink := newLatencySink(warm + b.N)
	p := r.start(b, sink, 0)
	// Every frame has its own slot: in an open loop the pipeline, not the
	// benchmark, decides how many are in flight.
	slots := make([]capture.Frame, warm+b.N)
	submit := func(i int) {
		slots[i] = capture.Frame{Camera: "bench", Item: uint64(i + 1), ItemFrames: 1, Captured: time.Now(), Image: r.frames[i%len(r.frames)]}
		p.Submit(&slots[i])
	}
	for i := range warm {
		submit(i)
		<-sink.done
	}
	sink.reset()
	before := p.Stats()
	allocs := countAllocs()

	b.ResetTimer()
	start := time.Now()
	var late time.Duration // the camera's own lag behind its clock
	for i := range b.N {
		due := start.Add(time.Duration(i) * period)
		time.Sleep(time.Until(due))
		late = max(late, time.Since(due))
		submit(warm + i)
	}
	// A dropped frame is a lost item (one frame each): no result.
	dropped := int(p.Stats().Skipped - before.Skipped)
	for range b.N - dropped {
		<-sink.done
	}
	b.StopTimer()
	allocated := allocs()

	s := p.Stats()
	b.ReportMetric(fps, "fps")
	b.ReportMetric(sink.percentileMS(0.50), "p50-ms")
	b.ReportMetric(sink.percentileMS(0.99), "p99-ms")
	b.ReportMetric(float64(s.Processed-before.Processed)/float64(max(s.Batches-before.Batches, 1)), "frames/batch")
	b.ReportMetric(float64(dropped), "dropped")
	b.ReportMetric(float64(late)/1e6, "late-ms")
	b.ReportMetric(allocated/float64(b.N), "allocs/frame")
}

// measure returns the bare time per frame over at least 200 ms (and at
// least one batch), after a warm-up batch.
func (r *rig) measure(b *testing.B) time.Duration {
	r.classify(b, 0)
	start := time.Now()
	frames := 0
	for i := 0; i == 0 || time.Since(start) < 200*time.Millisecond; i++ {
		r.classify(b, i)
		frames += r.batch
	}
	return time.Since(start) / time.Duration(frames)
}

// start runs a pipeline of r's classifier (one worker) into sink, with a
// queue of at least queue frames, until Close or the end of b.
func (r *rig) start(b *testing.B, sink pipeline.Sink, queue int) *pipeline.Pipeline {
	opts := pipeline.Options{Queue: max(queue, pipeline.DefaultQueue), BatchSize: r.batch, BatchTimeout: batchTimeout}
	p, err := pipeline.New(opts, []pipeline.Classifier{r.c}, sink, nil)
	check(b, err)
	go p.Run(context.Background())
	b.Cleanup(func() { p.Close() })
	return p
}

// latencySink records capture→result latencies and signals each result
// on done. It allocates nothing while the results fit its capacity.
type latencySink struct {
	lat       []time.Duration
	inference time.Duration // the sum of Result.Inference
	done      chan struct{}
}

// newLatencySink returns a sink for up to n results.
func newLatencySink(n int) *latencySink {
	return &latencySink{lat: make([]time.Duration, 0, n), done: make(chan struct{}, n)}
}

func (s *latencySink) Send(ctx context.Context, r pipeline.Result) error {
	s.lat = append(s.lat, r.Done.Sub(r.Captured))
	s.inference += r.Inference
	s.done <- struct{}{}
	return nil
}

// reset forgets the warm-up's latencies; no result may be on its way.
func (s *latencySink) reset() { s.lat, s.inference = s.lat[:0], 0 }

// percentileMS is the nearest-rank percentile q (in (0, 1]) of the
// latencies, in milliseconds.
func (s *latencySink) percentileMS(q float64) float64 {
	if len(s.lat) == 0 {
		return 0
	}
	sorted := slices.Sorted(slices.Values(s.lat))
	i := int(q*float64(len(sorted))+0.999999) - 1
	return float64(sorted[min(max(i, 0), len(sorted)-1)]) / 1e6
}

// countAllocs starts counting heap allocations (of every goroutine, so the
// pipeline's workers are included); the function it returns reads the
// count so far.
func countAllocs() func() float64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	start := m.Mallocs
	return func() float64 {
		runtime.ReadMemStats(&m)
		return float64(m.Mallocs - start)
	}
}

func msPerFrame(d time.Duration, frames int) float64 {
	return float64(d) / 1e6 / float64(frames)
}

// benchFrames returns n distinct 640×480 YUYV camera frames with colour
// gradients.
func benchFrames(n int) []image.Image {
	frames := make([]image.Image, n)
	for k := range frames {
		img := capture.NewYUYV(image.Rect(0, 0, 640, 480))
		for y := range 480 {
			row := img.Pix[y*img.Stride:]
			for x := 0; x < 640; x += 2 {
				p := row[2*x : 2*x+4]
				p[0], p[1], p[2], p[3] = uint8(16+y*219/480), uint8(x*255/640+k*29), uint8(16+x*219/640), uint8(255-y*255/480-k*17)
			}
		}
		frames[k] = img
	}
	return frames
}

// coral returns the path of a Coral test model.
func coral(name string) func(b *testing.B) string {
	return func(b *testing.B) string { return testdata.Path(b, "models/coral/"+name) }
}

// fruitCNN writes the workshop's fruit CNN in int8 (testmodels.FruitCNN)
// and returns its path.
func fruitCNN(b *testing.B) string {
	_, q := testmodels.FruitCNN(b)
	return testmodels.Write(b, q, "fruit_cnn_int8.tflite")
}

// check fails b when err is not nil.
func check(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
