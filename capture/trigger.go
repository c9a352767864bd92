package capture

import (
	"context"
	"fmt"
	"time"
)

// ContinuousTrigger makes every frame an item, at most FPS of them per
// second. A Camera recognises it and takes one frame per item whatever
// its Frames say.
type ContinuousTrigger struct {
	FPS   float64
	clock clock
	pace  pacer
}

// Continuous returns a trigger that fires for every frame, at most fps
// times a second (0: as fast as the source delivers).
func Continuous(fps float64) (*ContinuousTrigger, error) {
	if fps < 0 {
		return nil, fmt.Errorf("capture: continuous trigger rate %g frames/s is negative; use 0 for every frame", fps)
	}
	return &ContinuousTrigger{FPS: fps, clock: realClock{}, pace: pacer{period: period(fps)}}, nil
}

// Wait implements Trigger.
func (c *ContinuousTrigger) Wait(ctx context.Context) (time.Time, error) {
	return c.pace.wait(ctx, c.clock)
}

// IntervalTrigger starts an item every Period, on a grid from the first
// Wait; ticks missed while the camera was busy are skipped, not queued.
type IntervalTrigger struct {
	Period time.Duration
	clock  clock
	pace   pacer
}

// Interval returns a trigger that starts an item every d.
func Interval(d time.Duration) (*IntervalTrigger, error) {
	if d <= 0 {
		return nil, fmt.Errorf("capture: trigger interval %v must be positive", d)
	}
	return &IntervalTrigger{Period: d, clock: realClock{}, pace: pacer{period: d}}, nil
}

// Wait implements Trigger.
func (t *IntervalTrigger) Wait(ctx context.Context) (time.Time, error) {
	return t.pace.wait(ctx, t.clock)
}

// DefaultCommandQueue is how many fired commands wait for the camera.
const DefaultCommandQueue = 16

// Command is a trigger fired from code: an MQTT "trigger" command, a test.
// Each Fire is one item; up to DefaultCommandQueue wait while the camera
// is busy with earlier ones.
type Command struct {
	ch  chan time.Time
	now func() time.Time
}

// NewCommand returns a command trigger.
func NewCommand() *Command {
	return &Command{ch: make(chan time.Time, DefaultCommandQueue), now: time.Now}
}

// Fire starts an item now. It never blocks: it reports false, and the
// item is lost, when DefaultCommandQueue items are already waiting. Safe
// for concurrent use.
func (c *Command) Fire() bool {
	select {
	case c.ch <- c.now():
		return true
	default:
		return false
	}
}

// Wait implements Trigger: it returns the time of the oldest unserved
// Fire.
func (c *Command) Wait(ctx context.Context) (time.Time, error) {
	select {
	case t := <-c.ch:
		return t, nil
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
}
