package capturetest_test

import (
	"context"
	"errors"
	"image"
	"io"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/capture"
	"github.com/fruitcam/fruitcam/capture/capturetest"
)

var _ capture.Source = (*capturetest.Source)(nil)

func TestSourceThroughCamera(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	src := &capturetest.Source{
		Images:   []image.Image{capturetest.Uniform(8, 6, [3]uint8{255, 0, 0}), capturetest.Uniform(8, 6, [3]uint8{0, 255, 0})},
		Start:    start,
		Interval: 40 * time.Millisecond,
	}
	cam := &capture.Camera{Name: "fake", Source: src, ROI: image.Rect(1, 1, 7, 5)}
	var got []*capture.Frame
	if err := cam.Run(context.Background(), func(f *capture.Frame) { got = append(got, f) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || src.Frames() != 2 || src.Outstanding() != 2 {
		t.Fatalf("%d frames emitted, %d read, %d outstanding; want 2, 2, 2", len(got), src.Frames(), src.Outstanding())
	}
	if got[1].Captured.Sub(start) != 40*time.Millisecond || got[1].Image.Bounds() != image.Rect(1, 1, 7, 5) {
		t.Errorf("second frame at %v bounds %v", got[1].Captured.Sub(start), got[1].Image.Bounds())
	}
	for _, f := range got {
		f.Release()
		f.Release()
	}
	if src.Outstanding() != 0 {
		t.Errorf("outstanding after release: %d", src.Outstanding())
	}
}

func TestSourceLoopErrClose(t *testing.T) {
	boom := errors.New("boom")
	src := &capturetest.Source{Images: []image.Image{capturetest.Uniform(2, 2, [3]uint8{})}, Err: boom}
	ctx := context.Background()
	f, err := src.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.Release()
	if _, err := src.Read(ctx); !errors.Is(err, boom) {
		t.Errorf("after the images: %v, want boom", err)
	}
	loop := &capturetest.Source{Images: src.Images, Loop: true}
	for range 5 {
		f, err := loop.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		f.Release()
	}
	empty := &capturetest.Source{}
	if _, err := empty.Read(ctx); !errors.Is(err, io.EOF) {
		t.Errorf("empty source: %v", err)
	}
	loop.Close()
	if _, err := loop.Read(ctx); err == nil || !loop.Closed() {
		t.Error("read after Close: no error")
	}
}
