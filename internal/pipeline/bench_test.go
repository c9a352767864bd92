package pipeline_test

import (
	"context"
	"fmt"
	"image"
	"slices"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/capture"
	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/internal/pipeline"
	"github.com/fruitcam/fruitcam/internal/pipeline/pipelinetest"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// benchFrame is a 640×480 YUYV camera frame with a colour gradient.
func benchFrame() *capture.YUYV {
	img := capture.NewYUYV(image.Rect(0, 0, 640, 480))
	for y := range 480 {
		row := img.Pix[y*img.Stride:]
		for x := 0; x < 640; x += 2 {
			p := row[2*x : 2*x+4]
			p[0], p[1], p[2], p[3] = uint8(16+y*219/480), uint8(x*255/640), uint8(16+x*219/640), uint8(255-y*255/480)
		}
	}
	return img
}

// latencySink records capture→result latencies without allocating.
type latencySink struct {
	lat  []time.Duration
	done chan struct{}
}

func (s *latencySink) Send(ctx context.Context, r pipeline.Result) error {
	s.lat = append(s.lat, r.Done.Sub(r.Captured))
	s.done <- struct{}{}
	return nil
}

// runBench pushes b.N frames through a pipeline of classifiers in a
// closed loop: at most window frames in flight, so nothing is dropped and
// the latency is batching plus inference, not a standing queue. It
// reports frames/s, capture→result p50/p99 and the per-frame inference
// time (ns/op is the wall time per frame).
func runBench(b *testing.B, opts pipeline.Options, cs []pipeline.Classifier, window int) {
	img := benchFrame()
	sink := &latencySink{lat: make([]time.Duration, 0, b.N+window), done: make(chan struct{}, window)}
	opts.Queue = max(opts.Queue, window)
	p, err := pipeline.New(opts, cs, sink, nil)
	if err != nil {
		b.Fatal(err)
	}
	go p.Run(context.Background())
	defer p.Close()
	frames := make([]capture.Frame, window)
	// Warm up: one round through every worker sizes the engines.
	var item uint64 // items must not repeat: a repeated id is a late frame
	submit := func(i int) {
		item++
		f := &frames[i%window]
		*f = capture.Frame{Camera: "bench", Item: item, ItemFrames: 1, Captured: time.Now(), Image: img}
		p.Submit(f)
	}
	for i := range window * len(cs) {
		submit(i)
		if i%window == window-1 {
			for range window {
				<-sink.done
			}
		}
	}
	sink.lat = sink.lat[:0]
	before := p.Stats()

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	inflight := 0
	for i := range b.N {
		if inflight == window {
			<-sink.done
			inflight--
		}
		submit(i)
		inflight++
	}
	for ; inflight > 0; inflight-- {
		<-sink.done
	}
	elapsed := time.Since(start)
	b.StopTimer()

	s := p.Stats()
	if s.Skipped != before.Skipped {
		b.Fatalf("%d frames dropped in a closed loop", s.Skipped-before.Skipped)
	}
	slices.Sort(sink.lat)
	pct := func(q float64) float64 {
		i := min(int(q*float64(len(sink.lat))), len(sink.lat)-1)
		return float64(sink.lat[i]) / 1e6
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "frames/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(s.InferenceP50)/1e6, "infer-ms/frame")
	b.ReportMetric(float64(s.Processed-before.Processed)/float64(max(s.Batches-before.Batches, 1)), "frames/batch")
}

// BenchmarkOverhead is the pipeline's own cost per frame: queue, batch,
// aggregation and result, with a classifier that does nothing.
func BenchmarkOverhead(b *testing.B) {
	for _, batch := range []int{1, 8} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			c := pipelinetest.NewClassifier(make([]string, 1001)...)
			runBench(b, pipeline.Options{BatchSize: batch, BatchTimeout: 5 * time.Millisecond}, []pipeline.Classifier{c}, batch)
		})
	}
}

// BenchmarkInference runs 640×480 YUYV frames through real models on
// the native backend: MobileNet v2 (224×224, 1001 classes) and a small
// MobileNet v1 0.25 (128×128), at batch 1 and 8, one worker.
func BenchmarkInference(b *testing.B) {
	models := []string{
		"models/coral/mobilenet_v2_1.0_224_quant.tflite",
		"models/coral/mobilenet_v1_0.25_128_quant.tflite",
	}
	for _, rel := range models {
		path := testdata.Path(b, rel)
		for _, batch := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/batch=%d", rel[len("models/coral/"):len(rel)-len(".tflite")], batch), func(b *testing.B) {
				f, err := infer.ReadFile(path)
				if err != nil {
					b.Fatal(err)
				}
				md, err := f.Metadata()
				if err != nil {
					b.Fatal(err)
				}
				e, err := infer.NewEngine(f, infer.Options{Threads: 1})
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close()
				c, err := infer.NewClassifier(e, md, infer.ClassifierOptions{MaxBatch: batch, Graph: f.Model})
				if err != nil {
					b.Fatal(err)
				}
				runBench(b, pipeline.Options{BatchSize: batch, BatchTimeout: 50 * time.Millisecond}, []pipeline.Classifier{c}, batch)
			})
		}
	}
}
