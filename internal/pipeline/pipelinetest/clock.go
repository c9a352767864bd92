package pipelinetest

import (
	"context"
	"sync"
	"time"

	"github.com/fruitcam/fruitcam/internal/pipeline"
)

// Clock is a fake pipeline.Clock: time stands still until Advance. Its
// timers fire during Advance, in deadline order, and follow Go 1.23
// semantics (no stale value after Reset or Stop). Safe for concurrent use.
// Timers fire only during Advance or Set, or at once when armed for a
// time that has passed, so a test steps through the deadlines the code
// under test arms (Next, WaitDeadline) and never races with it.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers map[*timer]struct{} // armed timers
}

// NewClock returns a Clock reading start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start, timers: map[*timer]struct{}{}}
}

// Now returns the fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a stopped timer.
func (c *Clock) NewTimer() pipeline.Timer {
	return &timer{c: c, ch: make(chan time.Time, 1)}
}

// Advance moves the clock forward by d, firing the timers that fall due
// in deadline order; the clock reads each timer's deadline as it fires.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	end := c.now.Add(d)
	for {
		var first *timer
		for t := range c.timers {
			if !t.when.After(end) && (first == nil || t.when.Before(first.when)) {
				first = t
			}
		}
		if first == nil {
			break
		}
		if first.when.After(c.now) {
			c.now = first.when
		}
		first.fire()
	}
	c.now = end
}

// Set moves the clock to t (forward only), as Advance does.
func (c *Clock) Set(t time.Time) {
	c.Advance(t.Sub(c.Now()))
}

// Timers returns the number of armed timers.
func (c *Clock) Timers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// Next returns the deadline of the earliest armed timer, false if none.
func (c *Clock) Next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var next time.Time
	ok := false
	for t := range c.timers {
		if !ok || t.when.Before(next) {
			next, ok = t.when, true
		}
	}
	return next, ok
}

// WaitTimers blocks until n timers are armed, or ctx ends. Tests use it
// to know that a goroutine has reached its wait before they Advance.
func (c *Clock) WaitTimers(ctx context.Context, n int) error {
	return waitFor(ctx, func() bool { return c.Timers() >= n })
}

// WaitDeadline blocks until a timer is armed for exactly t, or ctx ends.
func (c *Clock) WaitDeadline(ctx context.Context, t time.Time) error {
	return waitFor(ctx, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for tm := range c.timers {
			if tm.when.Equal(t) {
				return true
			}
		}
		return false
	})
}

// waitFor polls cond every 100 µs until it holds or ctx ends.
func waitFor(ctx context.Context, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Microsecond):
		}
	}
	return nil
}

type timer struct {
	c    *Clock
	ch   chan time.Time
	when time.Time
}

func (t *timer) C() <-chan time.Time { return t.ch }

// Reset arms t for when; a time not after now fires at once.
func (t *timer) Reset(when time.Time) {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.drain()
	t.when = when
	if when.After(t.c.now) {
		t.c.timers[t] = struct{}{}
	} else {
		t.fire()
	}
}

func (t *timer) Stop() {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	delete(t.c.timers, t)
	t.drain()
}

// fire sends the deadline and disarms t; c.mu is held.
func (t *timer) fire() {
	delete(t.c.timers, t)
	select {
	case t.ch <- t.when:
	default:
	}
}

func (t *timer) drain() {
	select {
	case <-t.ch:
	default:
	}
}
