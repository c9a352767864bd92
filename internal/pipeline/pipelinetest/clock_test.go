package pipelinetest_test

import (
	"context"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/internal/pipeline/pipelinetest"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func received(tm interface{ C() <-chan time.Time }) (time.Time, bool) {
	select {
	case at := <-tm.C():
		return at, true
	default:
		return time.Time{}, false
	}
}

func TestClock(t *testing.T) {
	c := pipelinetest.NewClock(t0)
	a, b := c.NewTimer(), c.NewTimer()
	a.Reset(t0.Add(20 * time.Millisecond))
	b.Reset(t0.Add(10 * time.Millisecond))
	if next, ok := c.Next(); !ok || !next.Equal(t0.Add(10*time.Millisecond)) || c.Timers() != 2 {
		t.Fatalf("next %v %v, %d timers; want t0+10ms and 2", next, ok, c.Timers())
	}
	c.Advance(15 * time.Millisecond)
	if at, ok := received(b); !ok || !at.Equal(t0.Add(10*time.Millisecond)) {
		t.Errorf("b fired %v at %v, want at t0+10ms", ok, at)
	}
	if _, ok := received(a); ok {
		t.Error("a fired early")
	}
	if got := c.Now(); !got.Equal(t0.Add(15 * time.Millisecond)) {
		t.Errorf("now %v", got)
	}
	// Reset discards a value not received; a past deadline fires at once.
	c.Advance(10 * time.Millisecond)
	a.Reset(t0)
	if at, ok := received(a); !ok || !at.Equal(t0) {
		t.Errorf("past reset: fired %v at %v, want at once with t0", ok, at)
	}
	a.Reset(t0.Add(time.Second))
	a.Stop()
	c.Advance(time.Hour)
	if _, ok := received(a); ok || c.Timers() != 0 {
		t.Error("stopped timer fired")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := c.WaitTimers(ctx, 1); err == nil {
		t.Error("WaitTimers returned without a timer")
	}
	go b.Reset(c.Now().Add(time.Minute))
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if err := c.WaitDeadline(ctx2, c.Now().Add(time.Minute)); err != nil {
		t.Error(err)
	}
}
