package capture

import (
	"context"
	"errors"
	"image"
	"strings"
	"testing"
	"time"
)

type emitted struct {
	seq, item uint64
	n         int
	at        time.Duration
	bounds    image.Rectangle
	camera    string
}

// collect runs cam until it returns (or stop frames were seen, then
// cancels) and records what it emitted, releasing every frame.
func collect(t *testing.T, cam *Camera, t0 time.Time, stop int) ([]emitted, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out []emitted
	err := cam.Run(ctx, func(f *Frame) {
		out = append(out, emitted{f.Seq, f.Item, f.ItemFrames, f.Captured.Sub(t0), f.Image.Bounds(), f.Camera})
		f.Release()
		if len(out) == stop {
			cancel()
		}
	})
	return out, err
}

// TestCameraItems: a command trigger fired three times, three frames per
// item 100ms apart, a ROI; then the source ends mid-item.
func TestCameraItems(t *testing.T) {
	c := newFakeClock()
	p, _ := NewPattern(PatternOptions{Width: 64, Height: 48, Frames: 8})
	p.clock = c
	cmd := NewCommand()
	cmd.now = c.Now
	for range 3 {
		cmd.Fire()
	}
	roi := image.Rect(8, 4, 56, 44)
	cam := &Camera{Name: "belt", Source: p, Trigger: cmd, Frames: 3, FrameInterval: 100 * time.Millisecond, ROI: roi, clock: c}
	t0 := c.Now()
	got, err := collect(t, cam, t0, 0)
	if err != nil {
		t.Fatalf("Run at the end of the source: %v, want nil", err)
	}
	if len(got) != 8 {
		t.Fatalf("emitted %d frames, want 8 (the source's)", len(got))
	}
	for i, e := range got {
		item := uint64(i/3 + 1)
		if e.seq != uint64(i+1) || e.item != item || e.n != 3 || e.bounds != roi || e.camera != "belt" {
			t.Errorf("frame %d: %+v; want seq %d item %d of 3, bounds %v", i, e, i+1, item, roi)
		}
	}
	// All three fires happened at t0, so the items' frames are due at
	// t0, +100ms, +200ms; the first item ends at 200ms, so the next
	// item's frames are late and taken at once.
	if got[0].at != 0 || got[1].at != 100*time.Millisecond || got[2].at != 200*time.Millisecond {
		t.Errorf("first item at %v %v %v, want 0 100ms 200ms", got[0].at, got[1].at, got[2].at)
	}
	if p.pool.inUse() != 0 {
		t.Errorf("%d frames not released", p.pool.inUse())
	}
}

// TestCameraContinuous: every frame its own item whatever Frames says;
// Run returns nil when ctx is cancelled.
func TestCameraContinuous(t *testing.T) {
	src := &sliceSource{images: []image.Image{uniform(8, 8)}, loop: true}
	tr, _ := Continuous(0)
	cam := &Camera{Name: "c", Source: src, Trigger: tr, Frames: 5}
	got, err := collect(t, cam, time.Time{}, 4)
	if err != nil {
		t.Fatalf("Run after cancel: %v, want nil", err)
	}
	for i, e := range got {
		if e.item != uint64(i+1) || e.n != 1 || e.seq != uint64(i+1) {
			t.Errorf("frame %d: %+v, want item %d of 1", i, e, i+1)
		}
	}
	if src.outstanding() != 0 {
		t.Errorf("%d frames not released", src.outstanding())
	}
	// A nil trigger is continuous too.
	cam2 := &Camera{Source: &sliceSource{images: src.images}, Frames: 2}
	got, err = collect(t, cam2, time.Time{}, 0)
	if err != nil || len(got) != 1 || got[0].n != 1 {
		t.Errorf("nil trigger: %v %+v", err, got)
	}
}

func TestCameraDropsStaleFrames(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	src := &sliceSource{
		images:   []image.Image{uniform(4, 4)},
		loop:     true,
		captured: []time.Time{t0.Add(-2 * time.Second), t0.Add(-time.Second), t0.Add(time.Millisecond)},
	}
	cmd := NewCommand()
	cmd.now = func() time.Time { return t0 }
	cmd.Fire()
	got, err := collect(t, &Camera{Source: src, Trigger: cmd}, t0, 1)
	if err != nil || len(got) != 1 || got[0].at != time.Millisecond {
		t.Errorf("got %+v, %v; want the one frame taken after the trigger", got, err)
	}
	if src.reads != 3 || src.outstanding() != 0 {
		t.Errorf("reads %d outstanding %d; want 3 reads, stale frames released", src.reads, src.outstanding())
	}
}

func TestCameraErrors(t *testing.T) {
	img := []image.Image{uniform(32, 24)}
	boom := errors.New("boom")
	for _, c := range []struct {
		cam  *Camera
		want string
	}{
		{&Camera{Name: "x"}, "no source"},
		{&Camera{Source: &sliceSource{images: img}, Frames: -1}, "frames per item"},
		{&Camera{Source: &sliceSource{images: img}, FrameInterval: -1}, "negative frame interval"},
		{&Camera{Name: "belt", Source: &sliceSource{images: img}, ROI: image.Rect(0, 0, 64, 48)}, `camera "belt": region of interest`},
		{&Camera{Source: &sliceSource{images: img, err: boom}}, "boom"},
	} {
		_, err := collect(t, c.cam, time.Time{}, 0)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want an error with %q", err, c.want)
		}
	}
	src := &sliceSource{images: img, loop: true}
	_, err := collect(t, &Camera{Source: src, ROI: image.Rect(0, 0, 64, 48)}, time.Time{}, 0)
	if err == nil || src.outstanding() != 0 {
		t.Errorf("ROI error: %v, %d frames not released", err, src.outstanding())
	}
}

// TestCameraROIOnForeignImages: ROI crops images that are not pooled
// (folder files, fakes) through their SubImage.
func TestCameraROIOnForeignImages(t *testing.T) {
	src := &sliceSource{images: []image.Image{uniform(32, 24)}}
	roi := image.Rect(2, 3, 30, 20)
	got, err := collect(t, &Camera{Source: src, ROI: roi}, time.Time{}, 0)
	if err != nil || len(got) != 1 || got[0].bounds != roi {
		t.Errorf("got %+v %v, want one frame of %v", got, err, roi)
	}
}
