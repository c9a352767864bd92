package pipeline_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/fruitcam/fruitcam/internal/pipeline"
	"github.com/fruitcam/fruitcam/internal/pipeline/pipelinetest"
)

// recPin is a gpiotest pin that records every level it is driven to,
// with the fake clock's time.
type recPin struct {
	*gpiotest.Pin
	clock *pipelinetest.Clock

	mu     sync.Mutex
	events []string
}

func newPin(name string, clock *pipelinetest.Clock) *recPin {
	return &recPin{Pin: &gpiotest.Pin{N: name}, clock: clock}
}

func (p *recPin) Out(l gpio.Level) error {
	p.mu.Lock()
	p.events = append(p.events, fmt.Sprintf("%s@%v", l, p.clock.Now().Sub(t0)))
	p.mu.Unlock()
	return p.Pin.Out(l)
}

func (p *recPin) Events() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.events)
}

// step is a test action at a fake time: a result sent, or the clock
// advanced to a time.
type step struct {
	at    time.Duration // clock time, from t0
	send  string        // label of a result to send, "" to only advance
	capAt time.Duration // its capture time, from t0
}

func TestActuator(t *testing.T) {
	tests := []struct {
		name      string
		activeLow bool
		steps     []step
		want      []string // events of pin "gate" (the first is New's idle level)
		errs      int      // Send errors expected
		stats     pipeline.ActuatorStats
	}{
		{
			name:  "one pulse after the belt delay",
			steps: []step{{at: 50 * time.Millisecond, send: "apple"}, {at: time.Second}},
			want:  []string{"Low@0s", "High@500ms", "Low@600ms"},
			stats: pipeline.ActuatorStats{Pulses: 1},
		},
		{
			name:      "active low",
			activeLow: true,
			steps:     []step{{at: 50 * time.Millisecond, send: "apple"}, {at: time.Second}},
			want:      []string{"High@0s", "Low@500ms", "High@600ms"},
			stats:     pipeline.ActuatorStats{Pulses: 1},
		},
		{
			name:  "other labels do nothing",
			steps: []step{{at: 50 * time.Millisecond, send: "banana"}, {at: time.Second}},
			want:  []string{"Low@0s"},
		},
		{
			name: "overlapping pulses merge",
			steps: []step{
				{at: 10 * time.Millisecond, send: "apple"},
				{at: 80 * time.Millisecond, send: "apple", capAt: 50 * time.Millisecond},
				{at: time.Second},
			},
			want:  []string{"Low@0s", "High@500ms", "Low@650ms"},
			stats: pipeline.ActuatorStats{Pulses: 2, Merged: 1},
		},
		{
			name: "overlap arriving while active",
			steps: []step{
				{at: 10 * time.Millisecond, send: "apple"},
				{at: 520 * time.Millisecond, send: "apple", capAt: 30 * time.Millisecond},
				{at: time.Second},
			},
			want:  []string{"Low@0s", "High@500ms", "Low@630ms"},
			stats: pipeline.ActuatorStats{Pulses: 2, Merged: 1},
		},
		{
			name: "back to back pulses stay one",
			steps: []step{
				{at: 10 * time.Millisecond, send: "apple"},
				{at: 20 * time.Millisecond, send: "apple", capAt: 100 * time.Millisecond},
				{at: time.Second},
			},
			want:  []string{"Low@0s", "High@500ms", "Low@700ms"},
			stats: pipeline.ActuatorStats{Pulses: 2, Merged: 1},
		},
		{
			name: "separate pulses",
			steps: []step{
				{at: 10 * time.Millisecond, send: "apple"},
				{at: 20 * time.Millisecond, send: "apple", capAt: 200 * time.Millisecond},
				{at: time.Second},
			},
			want:  []string{"Low@0s", "High@500ms", "Low@600ms", "High@700ms", "Low@800ms"},
			stats: pipeline.ActuatorStats{Pulses: 2},
		},
		{
			name:  "late result gets a full pulse at once",
			steps: []step{{at: 550 * time.Millisecond, send: "apple"}, {at: time.Second}},
			want:  []string{"Low@0s", "High@550ms", "Low@650ms"},
			stats: pipeline.ActuatorStats{Pulses: 1},
		},
		{
			name:  "too late is refused",
			steps: []step{{at: 600 * time.Millisecond, send: "apple"}, {at: time.Second}},
			want:  []string{"Low@0s"},
			errs:  1,
			stats: pipeline.ActuatorStats{Missed: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			clock := pipelinetest.NewClock(t0)
			pin := newPin("gate", clock)
			var st settle
			var a *pipeline.Actuator
			st.after(t, ctx, func() {
				var err error
				a, err = pipeline.NewActuatorSettled(pipeline.ActuatorOptions{
					Gates: []pipeline.Gate{{Label: "apple", Pin: pin, Delay: 500 * time.Millisecond, Pulse: 100 * time.Millisecond, ActiveLow: tt.activeLow}},
					Clock: clock,
				}, st.hook)
				if err != nil {
					t.Fatal(err)
				}
			})
			errs := 0
			for _, s := range tt.steps {
				advanceTo(t, ctx, clock, &st, t0.Add(s.at))
				if s.send == "" {
					continue
				}
				var err error
				send := func() { err = a.Send(ctx, pipeline.Result{Label: s.send, Item: 1, Captured: t0.Add(s.capAt)}) }
				if s.send == "apple" && s.at-s.capAt < 600*time.Millisecond {
					st.after(t, ctx, send) // a pulse is scheduled: the scheduler wakes
				} else {
					send()
				}
				if err != nil {
					t.Log(err)
					errs++
				}
			}
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			if got := pin.Events(); !slices.Equal(got, tt.want) {
				t.Errorf("pin events %v, want %v", got, tt.want)
			}
			if errs != tt.errs {
				t.Errorf("%d Send errors, want %d", errs, tt.errs)
			}
			if got := a.Stats(); got != tt.stats {
				t.Errorf("stats %+v, want %+v", got, tt.stats)
			}
		})
	}
}

// settle counts the actuator scheduler's waits.
type settle struct {
	mu sync.Mutex
	n  int
}

func (s *settle) hook() { s.mu.Lock(); s.n++; s.mu.Unlock() }

func (s *settle) count() int { s.mu.Lock(); defer s.mu.Unlock(); return s.n }

// after runs action, which wakes the scheduler, and waits until the
// scheduler has handled it and waits again.
func (s *settle) after(t *testing.T, ctx context.Context, action func()) {
	t.Helper()
	c := s.count()
	action()
	for s.count() <= c {
		select {
		case <-ctx.Done():
			t.Fatal("the actuator's scheduler did not settle")
		case <-time.After(50 * time.Microsecond):
		}
	}
}

// advanceTo moves the clock to end, stopping at every deadline the
// actuator arms on the way and letting its scheduler handle it.
func advanceTo(t *testing.T, ctx context.Context, clock *pipelinetest.Clock, s *settle, end time.Time) {
	t.Helper()
	for {
		next, ok := clock.Next()
		if !ok || next.After(end) {
			break
		}
		s.after(t, ctx, func() { clock.Set(next) })
	}
	clock.Set(end)
}

func TestActuatorCloseFinishesPulses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	clock := pipelinetest.NewClock(t0)
	pin := newPin("gate", clock)
	var st settle
	var a *pipeline.Actuator
	st.after(t, ctx, func() {
		var err error
		a, err = pipeline.NewActuatorSettled(pipeline.ActuatorOptions{
			Gates: []pipeline.Gate{{Label: "apple", Pin: pin, Delay: 200 * time.Millisecond, Pulse: 50 * time.Millisecond}},
			Clock: clock,
		}, st.hook)
		if err != nil {
			t.Fatal(err)
		}
	})
	st.after(t, ctx, func() {
		if err := a.Send(ctx, pipeline.Result{Label: "apple", Captured: t0}); err != nil {
			t.Fatal(err)
		}
	})
	closed := make(chan error)
	st.after(t, ctx, func() { go func() { closed <- a.Close() }() })
	if err := a.Send(ctx, pipeline.Result{Label: "apple", Captured: t0}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Send after Close: %v, want a closed error", err)
	}
	select {
	case <-closed:
		t.Fatal("Close returned before the scheduled pulse")
	default:
	}
	advanceTo(t, ctx, clock, &st, t0.Add(time.Second))
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if got, want := pin.Events(), []string{"Low@0s", "High@200ms", "Low@250ms"}; !slices.Equal(got, want) {
		t.Errorf("pin events %v, want %v", got, want)
	}
}

func TestActuatorSeveralPins(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	clock := pipelinetest.NewClock(t0)
	left, right := newPin("left", clock), newPin("right", clock)
	var st settle
	var a *pipeline.Actuator
	st.after(t, ctx, func() {
		var err error
		a, err = pipeline.NewActuatorSettled(pipeline.ActuatorOptions{
			Gates: []pipeline.Gate{
				{Label: "apple", Pin: left, Delay: 300 * time.Millisecond, Pulse: 100 * time.Millisecond},
				{Label: "unknown", Pin: right, Delay: 400 * time.Millisecond, Pulse: 100 * time.Millisecond, ActiveLow: true},
				{Label: "banana", Pin: left, Delay: 100 * time.Millisecond, Pulse: 20 * time.Millisecond},
			},
			Clock: clock,
		}, st.hook)
		if err != nil {
			t.Fatal(err)
		}
	})
	for _, label := range []string{"apple", "unknown", "banana"} {
		st.after(t, ctx, func() {
			if err := a.Send(ctx, pipeline.Result{Label: label, Captured: t0}); err != nil {
				t.Fatal(err)
			}
		})
	}
	advanceTo(t, ctx, clock, &st, t0.Add(time.Second))
	a.Close()
	if got, want := left.Events(), []string{"Low@0s", "High@100ms", "Low@120ms", "High@300ms", "Low@400ms"}; !slices.Equal(got, want) {
		t.Errorf("left pin %v, want %v", got, want)
	}
	if got, want := right.Events(), []string{"High@0s", "Low@400ms", "High@500ms"}; !slices.Equal(got, want) {
		t.Errorf("right pin %v, want %v", got, want)
	}
}

func TestActuatorErrors(t *testing.T) {
	pin := &gpiotest.Pin{N: "GPIO17"}
	ms := time.Millisecond
	tests := []struct {
		name  string
		gates []pipeline.Gate
		want  string
	}{
		{"no gates", nil, "no gates"},
		{"no label", []pipeline.Gate{{Pin: pin, Pulse: ms}}, "gate 0 has no label"},
		{"no pin", []pipeline.Gate{{Label: "apple", Pulse: ms}}, "gate 0 (apple) has no pin"},
		{"no pulse", []pipeline.Gate{{Label: "apple", Pin: pin}}, "pulse is 0s"},
		{"negative delay", []pipeline.Gate{{Label: "apple", Pin: pin, Pulse: ms, Delay: -ms}}, "delay is -1ms"},
		{"active low disagrees", []pipeline.Gate{{Label: "apple", Pin: pin, Pulse: ms}, {Label: "kiwi", Pin: pin, Pulse: ms, ActiveLow: true}}, "pin GPIO17 disagree on active_low"},
	}
	for _, tt := range tests {
		_, err := pipeline.NewActuator(pipeline.ActuatorOptions{Gates: tt.gates}, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "pipeline: actuator: ") {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestActuatorPendingBound(t *testing.T) {
	clock := pipelinetest.NewClock(t0)
	a, err := pipeline.NewActuator(pipeline.ActuatorOptions{
		Gates:   []pipeline.Gate{{Label: "apple", Pin: newPin("gate", clock), Delay: time.Second, Pulse: time.Millisecond}},
		Pending: 2,
		Clock:   clock,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var errs int
	for i := range 3 {
		if err := a.Send(context.Background(), pipeline.Result{Label: "apple", Captured: t0.Add(time.Duration(i) * 10 * time.Millisecond)}); err != nil {
			errs++
		}
	}
	if errs != 1 || a.Stats().Missed != 1 {
		t.Errorf("%d errors, %d missed; want 1 and 1", errs, a.Stats().Missed)
	}
	clock.Advance(2 * time.Second) // let Close finish without waiting
	go func() {
		for range 100 {
			clock.Advance(time.Second)
			time.Sleep(time.Millisecond)
		}
	}()
	a.Close()
}
