package capture

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"time"
)

// Camera ties a Source to a Trigger: on each trigger it takes Frames
// frames, FrameInterval apart, crops them to ROI, stamps them as one item
// and hands them on.
type Camera struct {
	Name    string
	Source  Source
	Trigger Trigger // nil: continuous, every frame an item, unpaced
	// Frames per item (default 1). A ContinuousTrigger makes every frame
	// its own item whatever Frames says.
	Frames int
	// FrameInterval spaces an item's frames from the trigger time: frame
	// k is taken no sooner than trigger + k*FrameInterval (0: back to
	// back).
	FrameInterval time.Duration
	// ROI is the region of interest (the belt) in frame coordinates; the
	// zero rectangle is the whole frame. It must lie inside the frame.
	ROI image.Rectangle

	clock clock
	seq   uint64
	item  uint64
}

// maxStale bounds how many frames taken before a trigger Run throws away
// while looking for one taken after it.
const maxStale = 8

// Run captures until ctx is done (it then returns nil), the source ends
// (io.EOF: nil; the last item may have fewer frames than ItemFrames says)
// or fails (its error). emit receives each frame on Run's goroutine, in
// order, and owns it: it must Release it, and should return quickly (hand
// the frame to a bounded queue), since the camera waits meanwhile.
//
// Item ids start at 1 and increase by one per trigger; Seq counts the
// frames the camera emitted, from 1. With a trigger other than
// Continuous, a frame whose Captured is before its item's trigger (a stale
// buffer of a source that stamps driver times) is dropped and the next one
// taken; V4L2 returns the newest frame anyway.
func (c *Camera) Run(ctx context.Context, emit func(*Frame)) error {
	if c.Source == nil {
		return fmt.Errorf("capture: camera %q has no source", c.Name)
	}
	if c.Frames < 0 {
		return fmt.Errorf("capture: camera %q: %d frames per item; use 1 or more", c.Name, c.Frames)
	}
	if c.FrameInterval < 0 {
		return fmt.Errorf("capture: camera %q: negative frame interval %v", c.Name, c.FrameInterval)
	}
	if c.clock == nil {
		c.clock = realClock{}
	}
	trig := c.Trigger
	if trig == nil {
		trig = &ContinuousTrigger{clock: c.clock}
	}
	perItem := max(c.Frames, 1)
	_, continuous := trig.(*ContinuousTrigger)
	if continuous {
		perItem = 1
	}
	err := c.run(ctx, trig, perItem, !continuous, emit)
	if errors.Is(err, io.EOF) || (ctx.Err() != nil && errors.Is(err, ctx.Err())) {
		return nil
	}
	return err
}

func (c *Camera) run(ctx context.Context, trig Trigger, perItem int, fresh bool, emit func(*Frame)) error {
	for {
		t, err := trig.Wait(ctx)
		if err != nil {
			return err
		}
		c.item++
		for k := range perItem {
			if k > 0 && c.FrameInterval > 0 {
				if d := t.Add(time.Duration(k) * c.FrameInterval).Sub(c.clock.Now()); d > 0 {
					if err := c.clock.Sleep(ctx, d); err != nil {
						return err
					}
				}
			}
			var f *Frame
			if fresh {
				f, err = c.fresh(ctx, t)
			} else {
				f, err = c.Source.Read(ctx)
			}
			if err != nil {
				return err
			}
			if err := f.crop(c.ROI); err != nil {
				f.Release()
				return fmt.Errorf("capture: camera %q: %w", c.Name, err)
			}
			c.seq++
			f.Camera, f.Seq, f.Item, f.ItemFrames = c.Name, c.seq, c.item, perItem
			emit(f)
		}
	}
}

// fresh reads the next frame captured at or after t.
func (c *Camera) fresh(ctx context.Context, t time.Time) (*Frame, error) {
	for range maxStale {
		f, err := c.Source.Read(ctx)
		if err != nil {
			return nil, err
		}
		if !f.Captured.Before(t) {
			return f, nil
		}
		f.Release()
	}
	return c.Source.Read(ctx)
}
