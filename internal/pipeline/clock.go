package pipeline

import "time"

// Clock is the time source of a Pipeline and an Actuator. Tests inject a
// fake (pipelinetest.Clock) so batching, item timeouts and actuator
// pulses can be checked without sleeping.
type Clock interface {
	Now() time.Time
	// NewTimer returns a stopped timer.
	NewTimer() Timer
}

// Timer fires at an absolute time of its Clock. Deadlines are absolute so
// that a goroutine computing one from a reading of the clock that is
// already old still fires at the right moment (and a fake clock's tests
// cannot race with it).
type Timer interface {
	// C delivers the deadline when the timer fires.
	C() <-chan time.Time
	// Reset arms the timer for t, firing at once if t has passed. After
	// Reset or Stop returns, nothing from an earlier arming is received.
	Reset(t time.Time)
	Stop()
}

// SystemClock is the wall clock (time.Now and time.Timer).
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// NewTimer returns a stopped timer on a *time.Timer.
func (SystemClock) NewTimer() Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return sysTimer{t}
}

type sysTimer struct{ t *time.Timer }

func (t sysTimer) C() <-chan time.Time { return t.t.C }

// Reset relies on Go 1.23 timer semantics: Reset discards a value not yet
// received.
func (t sysTimer) Reset(at time.Time) { t.t.Reset(time.Until(at)) }
func (t sysTimer) Stop()              { t.t.Stop() }
