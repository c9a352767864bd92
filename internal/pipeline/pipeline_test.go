package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/capture"
	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/internal/pipeline"
	"github.com/fruitcam/fruitcam/internal/pipeline/pipelinetest"
)

func TestBatchFlushWhenFull(t *testing.T) {
	h := start(t, pipeline.Options{BatchSize: 4, BatchTimeout: time.Hour}, 1)
	for i := range 8 {
		h.p.Submit(newFrame("cam", uint64(i+1), 1, t0, 1, 0, 0).Frame)
	}
	got := h.wait(t, 8)
	if b := h.batches(); !slices.Equal(b, []int{4, 4}) {
		t.Errorf("batches %v, want [4 4]", b)
	}
	for i, r := range got {
		if r.Seq != uint64(i+1) || r.Item != uint64(i+1) {
			t.Errorf("result %d: seq %d item %d, want %d and %d", i, r.Seq, r.Item, i+1, i+1)
		}
	}
}

func TestBatchFlushOnTimeout(t *testing.T) {
	const timeout = 10 * time.Millisecond
	h := start(t, pipeline.Options{BatchSize: 4, BatchTimeout: timeout}, 1)
	h.cls[0].Hook = func([]image.Image) error { h.clock.Advance(6 * time.Millisecond); return nil }
	frames := make([]testFrame, 3)
	for i := range frames {
		frames[i] = newFrame("cam", uint64(i+1), 1, t0.Add(-time.Millisecond), 0, 1, 0)
		h.p.Submit(frames[i].Frame)
	}
	// The collector waits for the oldest frame's deadline, not longer
	// and not shorter.
	if err := h.clock.WaitDeadline(h.ctx, t0.Add(timeout)); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(timeout - time.Millisecond)
	if b := h.batches(); len(b) != 0 {
		t.Fatalf("batch ran before the timeout: %v", b)
	}
	h.clock.Advance(time.Millisecond)
	got := h.wait(t, 3)
	if b := h.batches(); !slices.Equal(b, []int{3}) {
		t.Errorf("batches %v, want [3]", b)
	}
	for i, r := range got {
		// Captured 1 ms before t0, flushed at t0+10ms, 6 ms of inference
		// for a batch of three.
		if want := 2 * time.Millisecond; r.Inference != want {
			t.Errorf("result %d: inference %v, want %v", i, r.Inference, want)
		}
		if got, want := r.Done.Sub(r.Captured), 17*time.Millisecond; got != want {
			t.Errorf("result %d: latency %v, want %v", i, got, want)
		}
		if r.Label != "banana" || r.Index != 1 || r.Frames != 1 {
			t.Errorf("result %d: %s (%d), %d frames; want banana (1), 1 frame", i, r.Label, r.Index, r.Frames)
		}
		if n := frames[i].released.Load(); n != 1 {
			t.Errorf("frame %d released %d times, want 1", i, n)
		}
	}
}

func TestBatchTimeoutZeroRunsWhatIsQueued(t *testing.T) {
	h := start(t, pipeline.Options{BatchSize: 8}, 1)
	block := make(chan struct{})
	started := make(chan struct{}, 1)
	h.cls[0].Hook = func(images []image.Image) error {
		if h.cls[0].Calls() == 0 {
			started <- struct{}{}
			<-block
		}
		return nil
	}
	h.p.Submit(newFrame("cam", 1, 1, t0, 1, 0, 0).Frame)
	<-started
	for i := range 3 {
		h.p.Submit(newFrame("cam", uint64(i+2), 1, t0, 1, 0, 0).Frame)
	}
	close(block)
	h.wait(t, 4)
	if b := h.batches(); !slices.Equal(b, []int{1, 3}) {
		t.Errorf("batches %v, want [1 3]", b)
	}
}

func TestDropOldest(t *testing.T) {
	h := start(t, pipeline.Options{Queue: 2}, 1)
	block := make(chan struct{})
	started := make(chan struct{}, 1)
	h.cls[0].Hook = func(images []image.Image) error {
		if h.cls[0].Calls() == 0 {
			started <- struct{}{}
			<-block
		}
		return nil
	}
	frames := make([]testFrame, 5)
	for i := range frames {
		frames[i] = newFrame("cam", uint64(i+1), 1, t0, 1, 0, 0)
	}
	h.p.Submit(frames[0].Frame)
	<-started // the worker holds frame 1; the queue is empty
	for _, f := range frames[1:] {
		h.p.Submit(f.Frame)
	}
	// Frames 2 and 3 were dropped for 4 and 5.
	for i, want := range []int32{0, 1, 1, 0, 0} {
		if got := frames[i].released.Load(); got != want {
			t.Errorf("frame %d released %d times before the worker resumed, want %d", i+1, got, want)
		}
	}
	s := h.p.Stats()
	if s.FramesIn != 5 || s.Skipped != 2 || s.QueueDepth != 2 {
		t.Errorf("stats: in %d skipped %d depth %d, want 5, 2, 2", s.FramesIn, s.Skipped, s.QueueDepth)
	}
	close(block)
	got := h.wait(t, 3)
	var items []uint64
	for i, r := range got {
		items = append(items, r.Item)
		if r.Seq != uint64(i+1) {
			t.Errorf("result %d has seq %d", i, r.Seq)
		}
	}
	if !slices.Equal(items, []uint64{1, 4, 5}) {
		t.Errorf("items %v, want [1 4 5]", items)
	}
	h.waitFor(t, "the lost items to be counted", func() bool { return h.p.Stats().Lost == 2 })
	s = h.p.Stats()
	if s.Processed != 3 || s.Items != 3 || s.Lost != 2 {
		t.Errorf("stats: processed %d items %d lost %d, want 3, 3, 2", s.Processed, s.Items, s.Lost)
	}
	for i, f := range frames {
		if n := f.released.Load(); n != 1 {
			t.Errorf("frame %d released %d times, want 1", i+1, n)
		}
	}
}

func TestAggregate(t *testing.T) {
	three := [][]float32{{0.6, 0.3, 0.1}, {0.2, 0.7, 0.1}, {0.5, 0.4, 0.1}}
	tests := []struct {
		name   string
		opts   pipeline.Options
		frames [][]float32
		label  string
		index  int
		score  float32
		top    []string
	}{
		{"mean", pipeline.Options{}, three, "banana", 1, 1.4 / 3, []string{"banana", "apple", "cherry"}},
		{"vote", pipeline.Options{Aggregate: "vote"}, three, "apple", 0, 1.3 / 3, []string{"apple", "banana", "cherry"}},
		{"vote tie by mean", pipeline.Options{Aggregate: "vote"}, [][]float32{{0.45, 0.55, 0}, {0.9, 0.1, 0}}, "apple", 0, 0.675, []string{"apple", "banana", "cherry"}},
		{"vote tie by index", pipeline.Options{Aggregate: "vote"}, [][]float32{{0, 0.5, 0.5}, {0, 0.5, 0.5}}, "banana", 1, 0.5, []string{"banana", "cherry", "apple"}},
		{"mean tie by index", pipeline.Options{}, [][]float32{{0.2, 0.4, 0.4}}, "banana", 1, 0.4, []string{"banana", "cherry", "apple"}},
		{"top k", pipeline.Options{TopK: 2}, three, "banana", 1, 1.4 / 3, []string{"banana", "apple"}},
		{"below threshold", pipeline.Options{Threshold: 0.5}, three, "unknown", -1, 1.4 / 3, []string{"banana", "apple", "cherry"}},
		{"below threshold, own label", pipeline.Options{Threshold: 0.5, Unknown: "reject"}, three, "reject", -1, 1.4 / 3, []string{"banana", "apple", "cherry"}},
		{"at threshold", pipeline.Options{Threshold: 0.6}, [][]float32{{0.6, 0.3, 0.1}}, "apple", 0, 0.6, []string{"apple", "banana", "cherry"}},
		{"vote below threshold", pipeline.Options{Aggregate: "vote", Threshold: 0.5}, three, "unknown", -1, 1.3 / 3, []string{"apple", "banana", "cherry"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, tt.opts, 2)
			for i, s := range tt.frames {
				h.p.Submit(newFrame("cam", 7, len(tt.frames), t0.Add(time.Duration(i)*time.Millisecond), s...).Frame)
			}
			got := h.wait(t, 1)
			r := got[0]
			if r.Label != tt.label || r.Index != tt.index || math.Abs(float64(r.Score-tt.score)) > 1e-6 {
				t.Errorf("got %s (%d) %.6f, want %s (%d) %.6f", r.Label, r.Index, r.Score, tt.label, tt.index, tt.score)
			}
			var top []string
			for _, c := range r.Top {
				top = append(top, c.Label)
				if c.Label != labels[c.Index] {
					t.Errorf("top class %d labelled %s", c.Index, c.Label)
				}
			}
			if !slices.Equal(top, tt.top) {
				t.Errorf("top %v, want %v", top, tt.top)
			}
			if r.Frames != len(tt.frames) || r.Item != 7 || r.Camera != "cam" || r.Seq != 1 || !r.Captured.Equal(t0) {
				t.Errorf("got frames %d item %d camera %q seq %d captured %v, want %d, 7, cam, 1, %v", r.Frames, r.Item, r.Camera, r.Seq, r.Captured, len(tt.frames), t0)
			}
		})
	}
}

func TestItemsOfSeveralCamerasAreApart(t *testing.T) {
	h := start(t, pipeline.Options{BatchSize: 4, BatchTimeout: time.Millisecond}, 1)
	h.p.Submit(newFrame("left", 1, 2, t0, 1, 0, 0).Frame)
	h.p.Submit(newFrame("right", 1, 2, t0, 0, 0, 1).Frame)
	h.p.Submit(newFrame("left", 1, 2, t0, 1, 0, 0).Frame)
	h.p.Submit(newFrame("right", 1, 2, t0, 0, 0, 1).Frame)
	got := h.wait(t, 2)
	for _, r := range got {
		want := map[string]string{"left": "apple", "right": "cherry"}[r.Camera]
		if r.Label != want || r.Frames != 2 {
			t.Errorf("%s: %s from %d frames, want %s from 2", r.Camera, r.Label, r.Frames, want)
		}
	}
}

func TestItemTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	h := start(t, pipeline.Options{ItemTimeout: timeout}, 1)
	h.p.Submit(newFrame("cam", 1, 3, t0, 1, 0, 0).Frame)
	h.p.Submit(newFrame("cam", 1, 3, t0, 1, 0, 0).Frame)
	// Once both frames are classified, the item waits ItemTimeout for its
	// third frame from then.
	h.waitFor(t, "two frames classified", func() bool { return h.p.Stats().Processed == 2 })
	if err := h.clock.WaitDeadline(h.ctx, t0.Add(timeout)); err != nil {
		t.Fatal(err)
	}
	if got := h.sink.Results(); len(got) != 0 {
		t.Fatalf("item sent before its timeout: %+v", got)
	}
	h.clock.Advance(timeout)
	got := h.wait(t, 1)
	if r := got[0]; r.Frames != 2 || r.Label != "apple" {
		t.Errorf("got %s from %d frames, want apple from 2", r.Label, r.Frames)
	}
	// The third frame is late: skipped, released, no second result.
	late := newFrame("cam", 1, 3, t0, 1, 0, 0)
	h.p.Submit(late.Frame)
	if late.released.Load() != 1 {
		t.Error("late frame not released")
	}
	s := h.p.Stats()
	if s.Items != 1 || s.Incomplete != 1 || s.Skipped != 1 || s.Processed != 2 {
		t.Errorf("stats: items %d incomplete %d skipped %d processed %d, want 1, 1, 1, 2", s.Items, s.Incomplete, s.Skipped, s.Processed)
	}
}

func TestDefaultItemTimeout(t *testing.T) {
	tests := []struct {
		batch time.Duration
		want  time.Duration
	}{
		{0, pipeline.MinItemTimeout},
		{20 * time.Millisecond, pipeline.MinItemTimeout},
		{100 * time.Millisecond, 400 * time.Millisecond},
	}
	for _, tt := range tests {
		h := start(t, pipeline.Options{BatchTimeout: tt.batch}, 1)
		h.p.Submit(newFrame("cam", 1, 2, t0, 1, 0, 0).Frame)
		if err := h.clock.WaitDeadline(h.ctx, t0.Add(tt.want)); err != nil {
			next, _ := h.clock.Next()
			t.Errorf("batch timeout %v: item timeout at %v, want %v", tt.batch, next.Sub(t0), tt.want)
		}
	}
}

func TestClassifyError(t *testing.T) {
	h := start(t, pipeline.Options{}, 1)
	h.cls[0].Hook = func(images []image.Image) error {
		if h.cls[0].Calls() == 0 && images[0].(*pipelinetest.Image).Scores[2] == 1 {
			return errors.New("engine on fire")
		}
		return nil
	}
	bad := newFrame("cam", 1, 1, t0, 0, 0, 1)
	h.p.Submit(bad.Frame)
	h.waitFor(t, "the failure", func() bool { return h.p.Stats().Failed == 1 })
	h.p.Submit(newFrame("cam", 2, 1, t0, 1, 0, 0).Frame)
	got := h.wait(t, 1)
	if r := got[0]; r.Item != 2 || r.Seq != 1 {
		t.Errorf("got item %d seq %d, want item 2 seq 1", r.Item, r.Seq)
	}
	if bad.released.Load() != 1 {
		t.Error("failed frame not released")
	}
	if s := h.p.Stats(); s.Lost != 1 || s.Processed != 1 {
		t.Errorf("stats: lost %d processed %d, want 1 and 1", s.Lost, s.Processed)
	}
}

// badClassifier answers with the wrong number of scores.
type badClassifier struct{ *pipelinetest.Classifier }

func (c badClassifier) ClassifyInto(dst []infer.Result, images []image.Image, k int) ([]infer.Result, error) {
	res, err := c.Classifier.ClassifyInto(dst, images, k)
	res[0].Scores = res[0].Scores[:1]
	return res, err
}

func TestClassifierAnswerChecked(t *testing.T) {
	sink := &pipelinetest.Sink{}
	p, err := pipeline.New(pipeline.Options{}, []pipeline.Classifier{badClassifier{pipelinetest.NewClassifier(labels...)}}, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	go p.Run(context.Background())
	defer p.Close()
	p.Submit(newFrame("cam", 1, 1, t0, 1, 0, 0).Frame)
	for p.Stats().Lost == 0 {
		time.Sleep(100 * time.Microsecond)
	}
	if s := p.Stats(); s.Failed != 1 || s.Items != 0 {
		t.Errorf("failed %d items %d, want 1 and 0", s.Failed, s.Items)
	}
}

func TestSinkErrorsCounted(t *testing.T) {
	h := start(t, pipeline.Options{}, 1)
	h.sink.Err = errors.New("broker gone")
	h.p.Submit(newFrame("cam", 1, 1, t0, 1, 0, 0).Frame)
	h.wait(t, 1)
	h.waitFor(t, "the sink error", func() bool { return h.p.Stats().SinkErrors == 1 })
}

// TestSeqWithoutGaps runs several workers and cameras on the real clock,
// with drops, and checks that results arrive numbered 1, 2, 3, ... and
// that every frame is accounted for. Run it with -race.
func TestSeqWithoutGaps(t *testing.T) {
	var (
		mu   sync.Mutex
		seqs []uint64
	)
	sink := sinkFunc(func(ctx context.Context, r pipeline.Result) error {
		mu.Lock()
		seqs = append(seqs, r.Seq)
		mu.Unlock()
		return nil
	})
	var cs []pipeline.Classifier
	for range 3 {
		cs = append(cs, pipelinetest.NewClassifier(labels...))
	}
	p, err := pipeline.New(pipeline.Options{Queue: 16, BatchSize: 4, BatchTimeout: 200 * time.Microsecond}, cs, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error)
	go func() { runErr <- p.Run(context.Background()) }()
	var wg sync.WaitGroup
	const cameras, items = 4, 150
	for c := range cameras {
		wg.Go(func() {
			for item := range uint64(items) {
				n := int(item%3) + 1
				for range n {
					p.Submit(newFrame(fmt.Sprint("cam", c), item, n, time.Now(), 0, 1, 0).Frame)
				}
				if item%4 == 0 {
					time.Sleep(50 * time.Microsecond) // some drops, not only drops
				}
			}
		})
	}
	wg.Wait()
	p.Close()
	if err := <-runErr; err != nil {
		t.Fatal(err)
	}
	s := p.Stats()
	for i, q := range seqs {
		if q != uint64(i+1) {
			t.Fatalf("result %d has seq %d (sequence %v...)", i, q, seqs[:i+1])
		}
	}
	if uint64(len(seqs)) != s.Items || s.Items+s.Lost != cameras*items {
		t.Errorf("%d results, stats items %d lost %d, want %d items in all", len(seqs), s.Items, s.Lost, cameras*items)
	}
	if s.FramesIn != s.Processed+s.Skipped+s.Failed {
		t.Errorf("frames in %d != processed %d + skipped %d + failed %d", s.FramesIn, s.Processed, s.Skipped, s.Failed)
	}
	t.Logf("%d frames, %d skipped, %d batches, %d items (%d incomplete, %d lost)", s.FramesIn, s.Skipped, s.Batches, s.Items, s.Incomplete, s.Lost)
}

type sinkFunc func(ctx context.Context, r pipeline.Result) error

func (f sinkFunc) Send(ctx context.Context, r pipeline.Result) error { return f(ctx, r) }

func TestGracefulShutdown(t *testing.T) {
	for _, how := range []string{"close", "cancel"} {
		t.Run(how, func(t *testing.T) {
			clock := pipelinetest.NewClock(t0)
			c := pipelinetest.NewClassifier(labels...)
			block := make(chan struct{})
			started := make(chan struct{}, 1)
			c.Hook = func(images []image.Image) error {
				if c.Calls() == 0 {
					started <- struct{}{}
					<-block
				}
				return nil
			}
			var ctxErr error
			sink := sinkFunc(func(ctx context.Context, r pipeline.Result) error {
				ctxErr = errors.Join(ctxErr, ctx.Err())
				return nil
			})
			rec := &pipelinetest.Sink{}
			p, err := pipeline.New(pipeline.Options{BatchSize: 2, BatchTimeout: time.Hour, Clock: clock}, []pipeline.Classifier{c}, pipeline.Fanout{sink, rec}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			runErr := make(chan error)
			go func() { runErr <- p.Run(ctx) }()
			// Item 1: two frames in flight (blocked in Classify).
			p.Submit(newFrame("cam", 1, 2, t0, 1, 0, 0).Frame)
			p.Submit(newFrame("cam", 1, 2, t0, 1, 0, 0).Frame)
			<-started
			// Item 2: three of its five frames queued; item 3: one queued
			// single frame.
			for range 3 {
				p.Submit(newFrame("cam", 2, 5, t0.Add(time.Millisecond), 0, 1, 0).Frame)
			}
			p.Submit(newFrame("cam", 3, 1, t0.Add(2*time.Millisecond), 0, 0, 1).Frame)

			stopped := make(chan struct{})
			go func() {
				if how == "close" {
					p.Close()
				} else {
					cancel()
					<-runErr
				}
				close(stopped)
			}()
			// Shutdown stops intake at once (probe frames are refused soon)
			// but waits for the work in hand.
			probes := 0
			for ; p.Stats().Skipped == 0; probes++ {
				p.Submit(newFrame("cam", uint64(100+probes), 1, t0.Add(3*time.Millisecond), 1, 0, 0).Frame)
				time.Sleep(100 * time.Microsecond)
			}
			select {
			case <-stopped:
				t.Fatal("shutdown returned with a batch in flight")
			default:
			}
			close(block)
			<-stopped
			if how == "close" {
				if err := <-runErr; err != nil {
					t.Fatal(err)
				}
			}
			// Complete items go as they complete; item 2, incomplete, when
			// every frame is done.
			want := []string{"1:item1:apple:2", "2:item3:cherry:1"}
			for i := range probes - 1 { // the last probe was refused
				want = append(want, fmt.Sprintf("%d:item%d:apple:1", i+3, 100+i))
			}
			want = append(want, fmt.Sprintf("%d:item2:banana:3", probes+2))
			var got []string
			for _, r := range rec.Results() {
				got = append(got, fmt.Sprintf("%d:item%d:%s:%d", r.Seq, r.Item, r.Label, r.Frames))
			}
			if !slices.Equal(got, want) {
				t.Errorf("results %v, want %v", got, want)
			}
			if ctxErr != nil {
				t.Errorf("the sink's context was cancelled during the drain: %v", ctxErr)
			}
			if err := p.Run(context.Background()); err == nil {
				t.Error("second Run: no error")
			}
		})
	}
}

func TestRunAfterCloseDrains(t *testing.T) {
	sink := &pipelinetest.Sink{}
	p, err := pipeline.New(pipeline.Options{}, []pipeline.Classifier{pipelinetest.NewClassifier(labels...)}, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := newFrame("cam", 1, 1, t0, 1, 0, 0)
	p.Submit(f.Frame)
	p.Close()
	late := newFrame("cam", 2, 1, t0, 1, 0, 0)
	p.Submit(late.Frame)
	if late.released.Load() != 1 {
		t.Error("frame submitted after Close not released")
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.released.Load() != 1 || len(sink.Results()) != 1 {
		t.Errorf("frame released %d times, %d results; want 1 and 1", f.released.Load(), len(sink.Results()))
	}
	if err := p.Run(context.Background()); err == nil {
		t.Error("second Run: no error")
	}
}

func TestStats(t *testing.T) {
	h := start(t, pipeline.Options{BatchSize: 2, BatchTimeout: time.Hour}, 1)
	step := []time.Duration{10 * time.Millisecond, 30 * time.Millisecond}
	h.cls[0].Hook = func([]image.Image) error {
		h.clock.Advance(step[h.cls[0].Calls()%2])
		return nil
	}
	// 40 frames in 20 batches, over 2 s of fake time: per-frame inference
	// alternates 5 ms and 15 ms.
	for i := range 40 {
		h.p.Submit(newFrame("cam", uint64(i), 1, h.clock.Now(), 1, 0, 0).Frame)
		if i%2 == 1 {
			h.wait(t, i+1)
			h.clock.Advance(100*time.Millisecond - step[(i/2)%2])
		}
	}
	s := h.p.Stats()
	if s.FramesIn != 40 || s.Processed != 40 || s.Batches != 20 || s.Items != 40 || s.QueueDepth != 0 {
		t.Errorf("counters %+v", s)
	}
	if s.InferenceP50 != 5*time.Millisecond || s.InferenceP99 != 15*time.Millisecond {
		t.Errorf("inference p50 %v p99 %v, want 5ms and 15ms", s.InferenceP50, s.InferenceP99)
	}
	if s.LatencyP50 != 10*time.Millisecond || s.LatencyP99 != 30*time.Millisecond {
		t.Errorf("latency p50 %v p99 %v, want 10ms and 30ms", s.LatencyP50, s.LatencyP99)
	}
	if math.Abs(s.FPSIn-20) > 0.01 || math.Abs(s.FPSProcessed-20) > 0.01 || s.FPSSkipped != 0 {
		t.Errorf("fps in %.2f processed %.2f skipped %.2f, want 20, 20, 0", s.FPSIn, s.FPSProcessed, s.FPSSkipped)
	}
	// Over RateWindow later, the rates forget.
	h.clock.Advance(pipeline.RateWindow)
	if s := h.p.Stats(); s.FPSIn != 0 {
		t.Errorf("fps in %.2f after an idle window, want 0", s.FPSIn)
	}
}

func TestNewErrors(t *testing.T) {
	c := pipelinetest.NewClassifier(labels...)
	sink := &pipelinetest.Sink{}
	tests := []struct {
		name string
		opts pipeline.Options
		cs   []pipeline.Classifier
		sink pipeline.Sink
		want string
	}{
		{"queue", pipeline.Options{Queue: -1}, []pipeline.Classifier{c}, sink, "queue is -1"},
		{"batch", pipeline.Options{BatchSize: -2}, []pipeline.Classifier{c}, sink, "batch size is -2"},
		{"batch timeout", pipeline.Options{BatchTimeout: -time.Second}, []pipeline.Classifier{c}, sink, "batch timeout is -1s"},
		{"item timeout", pipeline.Options{ItemTimeout: -time.Second}, []pipeline.Classifier{c}, sink, "item timeout is -1s"},
		{"top k", pipeline.Options{TopK: -1}, []pipeline.Classifier{c}, sink, "top k is -1"},
		{"aggregate", pipeline.Options{Aggregate: "median"}, []pipeline.Classifier{c}, sink, `unknown aggregation "median"`},
		{"threshold", pipeline.Options{Threshold: float32(math.NaN())}, []pipeline.Classifier{c}, sink, "threshold is NaN"},
		{"no classifiers", pipeline.Options{}, nil, sink, "no classifiers"},
		{"no sink", pipeline.Options{}, []pipeline.Classifier{c}, nil, "no sink"},
		{"no labels", pipeline.Options{}, []pipeline.Classifier{pipelinetest.NewClassifier()}, sink, "no classes"},
		{"other labels", pipeline.Options{}, []pipeline.Classifier{c, pipelinetest.NewClassifier("x", "y")}, sink, "classifier 1 has other labels"},
	}
	for _, tt := range tests {
		_, err := pipeline.New(tt.opts, tt.cs, tt.sink, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "pipeline: ") {
			t.Errorf("%s: got error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestFanout(t *testing.T) {
	a, b := &pipelinetest.Sink{}, &pipelinetest.Sink{Err: errors.New("b failed")}
	c := &pipelinetest.Sink{}
	r := pipeline.Result{Seq: 3, Label: "apple", Top: []infer.Class{{Label: "apple"}}}
	err := pipeline.Fanout{a, b, c}.Send(context.Background(), r)
	if err == nil || err.Error() != "b failed" {
		t.Errorf("error %v, want b failed", err)
	}
	for i, s := range []*pipelinetest.Sink{a, b, c} {
		if got := s.Results(); len(got) != 1 || got[0].Seq != 3 {
			t.Errorf("sink %d got %+v", i, got)
		}
	}
}

func TestResultClone(t *testing.T) {
	r := pipeline.Result{Top: []infer.Class{{Label: "apple"}}}
	c := r.Clone()
	r.Top[0].Label = "changed"
	if c.Top[0].Label != "apple" {
		t.Error("Clone shares Top")
	}
}

// countSink counts results without keeping them.
type countSink chan struct{}

func (s countSink) Send(ctx context.Context, r pipeline.Result) error {
	s <- struct{}{}
	return nil
}

// TestSteadyStateAllocs checks that a frame's trip through the pipeline
// (queue, batch, classification by a fake that allocates nothing,
// aggregation, result) allocates nothing once warm.
func TestSteadyStateAllocs(t *testing.T) {
	if testing.Short() && raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	for _, tt := range []struct {
		batch, itemFrames int
	}{{1, 1}, {4, 1}, {4, 2}} {
		t.Run(fmt.Sprintf("batch=%d/frames=%d", tt.batch, tt.itemFrames), func(t *testing.T) {
			if raceEnabled {
				t.Skip("allocation counts are meaningless under -race")
			}
			sink := make(countSink, 16)
			p, err := pipeline.New(pipeline.Options{BatchSize: tt.batch, BatchTimeout: time.Second, Aggregate: "vote"},
				[]pipeline.Classifier{pipelinetest.NewClassifier(labels...)}, sink, nil)
			if err != nil {
				t.Fatal(err)
			}
			go p.Run(context.Background())
			defer p.Close()
			frames := make([]capture.Frame, tt.batch)
			img := &pipelinetest.Image{Scores: []float32{0.2, 0.5, 0.3}}
			var item uint64
			round := func() {
				for i := range frames {
					if i%tt.itemFrames == 0 {
						item++
					}
					frames[i] = capture.Frame{Camera: "cam", Item: item, ItemFrames: tt.itemFrames, Captured: t0, Image: img}
					p.Submit(&frames[i])
				}
				for range tt.batch / tt.itemFrames {
					<-sink
				}
			}
			for range 200 {
				round()
			}
			if allocs := testing.AllocsPerRun(200, round); allocs != 0 {
				t.Errorf("%.1f allocations per round of %d frames, want 0", allocs, tt.batch)
			}
		})
	}
}

func TestExtraFrameSkipped(t *testing.T) {
	h := start(t, pipeline.Options{BatchSize: 4, BatchTimeout: time.Hour}, 1)
	extra := newFrame("cam", 1, 2, t0, 1, 0, 0)
	h.p.Submit(newFrame("cam", 1, 2, t0, 1, 0, 0).Frame)
	h.p.Submit(newFrame("cam", 1, 2, t0, 1, 0, 0).Frame)
	h.p.Submit(extra.Frame)
	if extra.released.Load() != 1 || h.p.Stats().Skipped != 1 {
		t.Error("a third frame of a two-frame item was not skipped")
	}
	h.p.Submit(newFrame("cam", 2, 1, t0, 0, 1, 0).Frame)
	h.p.Submit(newFrame("cam", 3, 1, t0, 0, 1, 0).Frame)
	got := h.wait(t, 3)
	if got[0].Frames != 2 {
		t.Errorf("item 1 from %d frames, want 2", got[0].Frames)
	}
}

// TestSubmitWait: a source that can wait is held back instead of losing
// frames, and a cancelled wait gives the frame back.
func TestSubmitWait(t *testing.T) {
	h := start(t, pipeline.Options{Queue: 1}, 1)
	block := make(chan struct{})
	h.cls[0].Hook = func(images []image.Image) error {
		<-block
		return nil
	}
	frames := make([]testFrame, 4)
	for i := range frames {
		frames[i] = newFrame("cam", uint64(i+1), 1, t0, 1, 0, 0)
	}
	done := make(chan error, 1)
	go func() {
		for _, f := range frames {
			if err := h.p.SubmitWait(context.Background(), f.Frame); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	close(block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	h.wait(t, 4)
	if s := h.p.Stats(); s.Skipped != 0 || s.Processed != 4 {
		t.Errorf("stats: skipped %d processed %d, want 0 and 4", s.Skipped, s.Processed)
	}

	// A full queue and an ended context: the frame is released.
	h2 := start(t, pipeline.Options{Queue: 1}, 1)
	hold := make(chan struct{})
	defer close(hold)
	held := make(chan struct{}, 1)
	h2.cls[0].Hook = func(images []image.Image) error {
		held <- struct{}{}
		<-hold
		return nil
	}
	a, b, c := newFrame("cam", 1, 1, t0, 1, 0, 0), newFrame("cam", 2, 1, t0, 1, 0, 0), newFrame("cam", 3, 1, t0, 1, 0, 0)
	h2.p.Submit(a.Frame)
	<-held
	h2.p.Submit(b.Frame) // fills the queue
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h2.p.SubmitWait(ctx, c.Frame); err == nil || c.released.Load() != 1 {
		t.Errorf("SubmitWait on a full queue with an ended context: %v, released %d", err, c.released.Load())
	}
}
