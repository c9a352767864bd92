package capture

import (
	"context"
	"errors"
	"image"
	"io"
	"sync"
	"time"
)

// fakeClock advances only when slept on; it records the sleeps.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	if d > 0 {
		c.now = c.now.Add(d)
	}
	return nil
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// fakeDevice is a streaming camera: frames[k % len] are the bytes of the
// k-th frame; ready frames wait in the driver's queue; every Wait makes a
// frame ready (one frame period passes) unless stalled.
type fakeDevice struct {
	format   Format
	frames   [][]byte
	clock    *fakeClock
	period   time.Duration
	ready    int // filled buffers waiting to be dequeued
	next     int // index of the next frame to fill
	out      int // dequeued, not yet enqueued
	failAt   int // Dequeue fails once this many frames were dequeued (0: never)
	dequeued int
	stalled  bool // Wait never produces a frame
	closed   bool
}

var errUnplugged = errors.New("no such device")

func (d *fakeDevice) Format() Format { return d.format }

func (d *fakeDevice) Dequeue() ([]byte, uint32, error) {
	if d.closed {
		return nil, 0, errors.New("dequeue on a closed device")
	}
	if d.failAt > 0 && d.dequeued >= d.failAt {
		return nil, 0, errUnplugged
	}
	if d.ready == 0 {
		return nil, 0, errAgain
	}
	d.ready--
	d.dequeued++
	d.out++
	f := d.frames[d.next%len(d.frames)]
	i := uint32(d.next % 4)
	d.next++
	return f, i, nil
}

func (d *fakeDevice) Enqueue(uint32) error {
	d.out--
	return nil
}

func (d *fakeDevice) Wait(t time.Duration) error {
	if d.stalled {
		d.clock.advance(t)
		return errWaitTimeout
	}
	d.clock.advance(d.period)
	d.ready++
	return nil
}

func (d *fakeDevice) Close() error {
	d.closed = true
	return nil
}

// sliceSource replays images; it counts frames out and released.
type sliceSource struct {
	images   []image.Image
	loop     bool
	err      error // after the images, instead of io.EOF
	next     int
	reads    int
	released int
	captured []time.Time // Captured of read k (the last repeats); nil: time.Now
}

func (s *sliceSource) Read(ctx context.Context) (*Frame, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.next == len(s.images) {
		if !s.loop || len(s.images) == 0 {
			if s.err != nil {
				return nil, s.err
			}
			return nil, io.EOF
		}
		s.next = 0
	}
	f := NewFrame(s.images[s.next], func() { s.released++ })
	s.next++
	f.Captured = time.Now()
	if len(s.captured) > 0 {
		f.Captured = s.captured[min(s.reads, len(s.captured)-1)]
	}
	s.reads++
	return f, nil
}

func (s *sliceSource) Close() error     { return nil }
func (s *sliceSource) outstanding() int { return s.reads - s.released }

func uniform(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = 0x80
	}
	return m
}
