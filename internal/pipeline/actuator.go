package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Gate is one actuator rule: every result with Label pulses Pin. Several
// gates may share a label (one item, several pins) or a pin (several
// labels, one gate).
type Gate struct {
	// Label is matched exactly against Result.Label; the pipeline's
	// Unknown label may be used to divert unrecognised items.
	Label string
	Pin   gpio.PinOut
	// Delay is the time from the item's capture (Result.Captured) to the
	// start of the pulse: how long the belt takes to carry the item from
	// the camera to the gate. 0 pulses as soon as the result is known.
	Delay time.Duration
	// Pulse is how long the pin stays active; it must be positive.
	Pulse time.Duration
	// ActiveLow drives the pin low while active and high while idle (for
	// relay boards that switch on low). Gates sharing a pin must agree.
	ActiveLow bool
}

// ActuatorOptions configure an Actuator.
type ActuatorOptions struct {
	Gates []Gate
	// Pending bounds the pulses waiting per pin; a result beyond it is
	// refused with an error. 0 means 64.
	Pending int
	// Clock is the time source; nil means SystemClock.
	Clock Clock
}

// ActuatorStats counts what an Actuator did.
type ActuatorStats struct {
	// Pulses counts pulses started or merged into a running one.
	Pulses uint64
	// Merged counts pulses that began while their pin was already active
	// and only extended it.
	Merged uint64
	// Missed counts pulses refused because the result came too late
	// (after the pulse would have ended) or the pin's queue was full.
	Missed uint64
	// Errors counts failed pin writes.
	Errors uint64
}

// Actuator is a Sink that pulses GPIO outputs for chosen labels, timed
// from each item's capture so the pulse meets the item at the gate.
//
// Overlapping pulses on one pin merge: when a pulse is due while the pin
// is active, the pin stays active until the later of the two ends, so a
// gate never closes and reopens between two items it should catch. A
// result that comes after its pulse's start still gets a full pulse,
// starting at once, as long as it is within Pulse of the start; a later
// one is refused (Send returns an error, counted in Missed).
//
// The Actuator owns one goroutine, from NewActuator to Close.
type Actuator struct {
	gates []Gate
	pins  []*actPin
	gate  []int // gate index → pin index
	clock Clock
	log   *slog.Logger
	max   int

	wake    chan struct{}
	quit    chan struct{}
	done    chan struct{}
	settled func() // tests: the scheduler is about to wait or return

	mu      sync.Mutex
	closing bool
	stats   ActuatorStats
}

// actPin is the schedule of one output pin.
type actPin struct {
	pin              gpio.PinOut
	active, inactive gpio.Level
	on               bool
	until            time.Time  // while on: when the pin goes inactive
	pending          []interval // sorted by start
}

type interval struct{ start, end time.Time }

// NewActuator checks the gates, drives every pin inactive and starts the
// scheduler. log may be nil.
func NewActuator(opts ActuatorOptions, log *slog.Logger) (*Actuator, error) {
	return newActuator(opts, log, nil)
}

func newActuator(opts ActuatorOptions, log *slog.Logger, settled func()) (*Actuator, error) {
	if len(opts.Gates) == 0 {
		return nil, errors.New("pipeline: actuator: no gates configured")
	}
	if opts.Pending < 0 {
		return nil, fmt.Errorf("pipeline: actuator: pending is %d; want 0 (default 64) or more", opts.Pending)
	}
	if opts.Pending == 0 {
		opts.Pending = 64
	}
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Actuator{
		gates: opts.Gates, gate: make([]int, len(opts.Gates)), clock: opts.Clock, log: log, max: opts.Pending,
		wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}), settled: settled,
	}
	byName := map[string]int{}
	for i, g := range opts.Gates {
		switch {
		case g.Label == "":
			return nil, fmt.Errorf("pipeline: actuator: gate %d has no label", i)
		case g.Pin == nil:
			return nil, fmt.Errorf("pipeline: actuator: gate %d (%s) has no pin", i, g.Label)
		case g.Pulse <= 0:
			return nil, fmt.Errorf("pipeline: actuator: gate %d (%s) pulse is %v; want a positive duration such as 100ms", i, g.Label, g.Pulse)
		case g.Delay < 0:
			return nil, fmt.Errorf("pipeline: actuator: gate %d (%s) delay is %v; want 0 or more", i, g.Label, g.Delay)
		}
		name := g.Pin.Name()
		j, ok := byName[name]
		if !ok {
			j = len(a.pins)
			byName[name] = j
			p := &actPin{pin: g.Pin, active: gpio.High, inactive: gpio.Low}
			if g.ActiveLow {
				p.active, p.inactive = gpio.Low, gpio.High
			}
			a.pins = append(a.pins, p)
		} else if (a.pins[j].active == gpio.Low) != g.ActiveLow {
			return nil, fmt.Errorf("pipeline: actuator: gates on pin %s disagree on active_low; set it the same for all of them", name)
		}
		a.gate[i] = j
	}
	for _, p := range a.pins {
		if err := p.pin.Out(p.inactive); err != nil {
			return nil, fmt.Errorf("pipeline: actuator: pin %s: %w", p.pin.Name(), err)
		}
	}
	go a.run(a.clock.NewTimer())
	return a, nil
}

// Send schedules the pulses of r's label. It returns at once; the pins
// move on the Actuator's goroutine.
func (a *Actuator) Send(ctx context.Context, r Result) error {
	now := a.clock.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closing {
		return errors.New("pipeline: actuator: closed")
	}
	var errs []error
	scheduled := false
	for i, g := range a.gates {
		if g.Label != r.Label {
			continue
		}
		p := a.pins[a.gate[i]]
		start := r.Captured.Add(g.Delay)
		if late := now.Sub(start); late > 0 {
			if late >= g.Pulse {
				a.stats.Missed++
				errs = append(errs, fmt.Errorf("pipeline: actuator: item %d (%s) came %v after capture, past its pulse on %s (delay %v + pulse %v); pulse skipped: raise the delay or speed up inference",
					r.Item, r.Label, now.Sub(r.Captured).Round(time.Millisecond), p.pin.Name(), g.Delay, g.Pulse))
				continue
			}
			start = now
		}
		if len(p.pending) >= a.max {
			a.stats.Missed++
			errs = append(errs, fmt.Errorf("pipeline: actuator: pin %s has %d pulses pending; item %d (%s) skipped", p.pin.Name(), len(p.pending), r.Item, r.Label))
			continue
		}
		p.insert(interval{start, start.Add(g.Pulse)})
		a.stats.Pulses++
		scheduled = true
	}
	if scheduled {
		select {
		case a.wake <- struct{}{}:
		default:
		}
	}
	return errors.Join(errs...)
}

// Close refuses further results, lets the scheduled pulses run to their
// end (at most the longest Delay+Pulse), leaves every pin inactive and
// stops the goroutine.
func (a *Actuator) Close() error {
	a.mu.Lock()
	if !a.closing {
		a.closing = true
		close(a.quit)
	}
	a.mu.Unlock()
	<-a.done
	return nil
}

// Stats returns a snapshot of the counters.
func (a *Actuator) Stats() ActuatorStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats
}

// run is the scheduler goroutine: it moves the pins at their times.
func (a *Actuator) run(timer Timer) {
	defer close(a.done)
	quit := a.quit
	for {
		a.mu.Lock()
		now := a.clock.Now()
		var next time.Time
		for _, p := range a.pins {
			if t := a.step(p, now); !t.IsZero() && (next.IsZero() || t.Before(next)) {
				next = t
			}
		}
		idle := next.IsZero()
		a.mu.Unlock()
		if idle && quit == nil {
			a.settle()
			return
		}
		if !next.IsZero() {
			timer.Reset(next)
		}
		a.settle()
		select {
		case <-a.wake:
		case <-timer.C():
		case <-quit:
			quit = nil // closing: finish what is scheduled, then return
		}
		timer.Stop()
	}
}

// step applies p's transitions due at now and returns the time of its
// next one, zero when idle. a.mu is held.
func (a *Actuator) step(p *actPin, now time.Time) time.Time {
	for {
		if p.on {
			// Pulses starting before this one ends extend it.
			for len(p.pending) > 0 && !p.pending[0].start.After(p.until) {
				if p.pending[0].end.After(p.until) {
					p.until = p.pending[0].end
				}
				a.stats.Merged++
				p.popFront()
			}
			if now.Before(p.until) {
				return p.until
			}
			a.out(p, p.inactive)
			p.on = false
			continue
		}
		if len(p.pending) == 0 {
			return time.Time{}
		}
		if now.Before(p.pending[0].start) {
			return p.pending[0].start
		}
		a.out(p, p.active)
		p.on, p.until = true, p.pending[0].end
		p.popFront()
	}
}

func (a *Actuator) settle() {
	if a.settled != nil {
		a.settled()
	}
}

func (a *Actuator) out(p *actPin, l gpio.Level) {
	if err := p.pin.Out(l); err != nil {
		a.stats.Errors++
		a.log.Error("pipeline: actuator: pin write failed", "pin", p.pin.Name(), "level", l, "err", err)
	}
}

// insert adds iv to the pending pulses, keeping them sorted by start.
func (p *actPin) insert(iv interval) {
	i := len(p.pending)
	for i > 0 && p.pending[i-1].start.After(iv.start) {
		i--
	}
	p.pending = append(p.pending, interval{})
	copy(p.pending[i+1:], p.pending[i:])
	p.pending[i] = iv
}

// popFront removes the first pending pulse, keeping the slice's array.
func (p *actPin) popFront() {
	p.pending = p.pending[:copy(p.pending, p.pending[1:])]
}
