package capture

import (
	"context"
	"time"
)

// Source is one camera, folder or pattern.
type Source interface {
	// Read returns the next frame, blocking until there is one. A finite
	// source returns io.EOF when it is done; a camera that disappears is
	// reopened inside Read (see V4L2.Health). Read is not safe for
	// concurrent use.
	Read(ctx context.Context) (*Frame, error)
	Close() error
}

// Trigger says when an item starts: continuous, interval, a GPIO edge, a
// command.
type Trigger interface {
	// Wait blocks until the next item starts and returns when it did.
	Wait(ctx context.Context) (time.Time, error)
}

// clock is the time a source or trigger paces itself by; tests replace it.
type clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done (then it returns ctx.Err()).
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pacer spaces events period apart on a grid from the first one. When the
// caller falls behind by more than a period it starts a new grid instead
// of bursting to catch up: a conveyor does not speed up to make up for a
// slow reader.
type pacer struct {
	period time.Duration
	next   time.Time
}

// wait sleeps until the next event and returns its time (now, when the
// caller is late).
func (p *pacer) wait(ctx context.Context, c clock) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	now := c.Now()
	if p.period <= 0 {
		return now, nil
	}
	if p.next.IsZero() || now.Sub(p.next) > p.period {
		p.next = now
	}
	t := p.next
	p.next = t.Add(p.period)
	if d := t.Sub(now); d > 0 {
		if err := c.Sleep(ctx, d); err != nil {
			p.next = t
			return time.Time{}, err
		}
		return t, nil
	}
	return now, nil // late: the event happens now, the grid stays
}

// period converts a rate in events per second; 0 or less means unpaced.
func period(rate float64) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / rate)
}
