// Package capturetest provides a fake capture.Source for tests of code
// that consumes frames (the pipeline, the agent): it replays given images
// and counts the frames handed out and released, so a test can prove
// that every frame was released (capture.Frame.Release runs the hook
// once however often it is called).
package capturetest

import (
	"context"
	"fmt"
	"image"
	"io"
	"sync"
	"time"

	"github.com/fruitcam/fruitcam/capture"
)

// Source replays Images in order (forever when Loop is set, else io.EOF
// after the last). Captured is Start + (Seq-1)*Interval when Start is set,
// else the wall clock; note that a capture.Camera with a trigger other
// than Continuous drops frames captured before the trigger, so leave Start
// zero (or in the future) there. Its counters are safe for concurrent use; Read, like
// any Source's, is not.
type Source struct {
	Images   []image.Image
	Loop     bool
	Start    time.Time     // first frame's capture time; zero: time.Now at each Read
	Interval time.Duration // between capture times when Start is set
	// Err, when set, is returned by Read after the images (instead of
	// io.EOF), to test error paths.
	Err error

	mu       sync.Mutex
	next     int
	read     int
	released int
	closed   bool
}

// Read implements capture.Source.
func (s *Source) Read(ctx context.Context) (*capture.Frame, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("capturetest: read after Close")
	}
	if len(s.Images) == 0 || (s.next == len(s.Images) && !s.Loop) {
		if s.Err != nil {
			return nil, s.Err
		}
		return nil, io.EOF
	}
	img := s.Images[s.next%len(s.Images)]
	s.next = s.next%len(s.Images) + 1
	s.read++
	f := capture.NewFrame(img, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.released++
	})
	f.Seq = uint64(s.read)
	f.Captured = time.Now()
	if !s.Start.IsZero() {
		f.Captured = s.Start.Add(time.Duration(s.read-1) * s.Interval)
	}
	return f, nil
}

// Close implements capture.Source.
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// Frames is how many frames were handed out.
func (s *Source) Frames() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read
}

// Outstanding is how many frames were handed out and not released yet.
func (s *Source) Outstanding() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read - s.released
}

// Closed reports whether Close was called.
func (s *Source) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Uniform returns a w x h image of one colour, a quick frame for tests.
func Uniform(w, h int, c [3]uint8) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c[0], c[1], c[2], 0xff
	}
	return m
}
