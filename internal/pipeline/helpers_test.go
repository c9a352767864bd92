package pipeline_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/capture"
	"github.com/fruitcam/fruitcam/internal/pipeline"
	"github.com/fruitcam/fruitcam/internal/pipeline/pipelinetest"
)

var (
	labels = []string{"apple", "banana", "cherry"}
	t0     = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
)

// testFrame is a frame whose Release is counted.
type testFrame struct {
	*capture.Frame
	released *atomic.Int32
}

// newFrame returns a frame of (camera, item) classified as scores.
func newFrame(camera string, item uint64, itemFrames int, captured time.Time, scores ...float32) testFrame {
	var n atomic.Int32
	f := capture.NewFrame(&pipelinetest.Image{Scores: scores}, func() { n.Add(1) })
	f.Camera, f.Item, f.ItemFrames, f.Captured = camera, item, itemFrames, captured
	return testFrame{f, &n}
}

// harness runs a pipeline with fakes until the test ends.
type harness struct {
	p      *pipeline.Pipeline
	clock  *pipelinetest.Clock
	sink   *pipelinetest.Sink
	cls    []*pipelinetest.Classifier
	ctx    context.Context // ends with the test, bounds every wait
	runErr chan error
}

// start builds a pipeline with workers fake classifiers and a fake
// clock (unless opts has a clock) and runs it.
func start(t *testing.T, opts pipeline.Options, workers int) *harness {
	t.Helper()
	h := &harness{sink: &pipelinetest.Sink{}, runErr: make(chan error, 1)}
	if opts.Clock == nil {
		h.clock = pipelinetest.NewClock(t0)
		opts.Clock = h.clock
	}
	var cs []pipeline.Classifier
	for range workers {
		c := pipelinetest.NewClassifier(labels...)
		h.cls = append(h.cls, c)
		cs = append(cs, c)
	}
	p, err := pipeline.New(opts, cs, h.sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.p = p
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	h.ctx = ctx
	go func() { h.runErr <- p.Run(context.Background()) }()
	t.Cleanup(func() {
		p.Close()
		cancel()
	})
	return h
}

// wait returns the first n results, failing the test if they do not come.
func (h *harness) wait(t *testing.T, n int) []pipeline.Result {
	t.Helper()
	got, err := h.sink.Wait(h.ctx, n)
	if err != nil {
		t.Fatalf("waiting for %d results: got %d: %v", n, len(got), err)
	}
	return got
}

// batches returns the batch sizes every classifier saw.
func (h *harness) batches() []int {
	var b []int
	for _, c := range h.cls {
		b = append(b, c.Batches()...)
	}
	return b
}

// waitFor polls cond until it holds or the test's time runs out.
func (h *harness) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-h.ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(100 * time.Microsecond):
		}
	}
}
