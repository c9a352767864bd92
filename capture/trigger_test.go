package capture

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

func waits(t *testing.T, tr Trigger, n int) []time.Time {
	t.Helper()
	var out []time.Time
	for range n {
		at, err := tr.Wait(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, at)
	}
	return out
}

func offsets(ts []time.Time, t0 time.Time) []time.Duration {
	var out []time.Duration
	for _, t := range ts {
		out = append(out, t.Sub(t0))
	}
	return out
}

func TestIntervalTrigger(t *testing.T) {
	tr, err := Interval(500 * time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	c := newFakeClock()
	tr.clock = c
	t0 := c.Now()
	got := offsets(waits(t, tr, 3), t0)
	want := []time.Duration{0, 500 * time.Millisecond, time.Second}
	if !equalDurations(got, want) {
		t.Errorf("ticks at %v, want %v", got, want)
	}
	// The camera was busy for 1.2s: the missed ticks are skipped, the
	// next item starts now and the grid restarts from it.
	c.advance(1200 * time.Millisecond)
	got = offsets(waits(t, tr, 2), t0)
	want = []time.Duration{2200 * time.Millisecond, 2700 * time.Millisecond}
	if !equalDurations(got, want) {
		t.Errorf("after a stall: ticks at %v, want %v", got, want)
	}
	if _, err := Interval(0); err == nil {
		t.Error("Interval(0): no error")
	}
}

func TestContinuousTrigger(t *testing.T) {
	tr, err := Continuous(10)
	if err != nil {
		t.Fatal(err)
	}
	c := newFakeClock()
	tr.clock = c
	t0 := c.Now()
	got := offsets(waits(t, tr, 3), t0)
	if want := []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond}; !equalDurations(got, want) {
		t.Errorf("at %v, want %v", got, want)
	}
	// A consumer 150ms late gets its frame now; the grid stays.
	c.advance(150 * time.Millisecond)
	got = offsets(waits(t, tr, 1), t0)
	if want := []time.Duration{350 * time.Millisecond}; !equalDurations(got, want) {
		t.Errorf("late: at %v, want %v", got, want)
	}
	un, _ := Continuous(0)
	un.clock = c
	if got := waits(t, un, 2); !got[0].Equal(got[1]) || len(c.slept()) != 2 {
		t.Errorf("unpaced continuous trigger slept: %v", c.slept())
	}
	if _, err := Continuous(-1); err == nil {
		t.Error("Continuous(-1): no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tr.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: %v", err)
	}
}

func TestCommandTrigger(t *testing.T) {
	c := NewCommand()
	clk := newFakeClock()
	c.now = clk.Now
	t0 := clk.Now()
	if !c.Fire() {
		t.Fatal("Fire refused on an empty queue")
	}
	clk.advance(time.Second)
	c.Fire()
	got := offsets(waits(t, c, 2), t0)
	if want := []time.Duration{0, time.Second}; !equalDurations(got, want) {
		t.Errorf("fired at %v, want %v", got, want)
	}
	for i := range DefaultCommandQueue {
		if !c.Fire() {
			t.Fatalf("Fire %d refused", i)
		}
	}
	if c.Fire() {
		t.Error("Fire on a full queue accepted: it must report the lost item")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	waits(t, c, DefaultCommandQueue)
	if _, err := c.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("wait with nothing fired: %v", err)
	}
}

func fakePin() *gpiotest.Pin {
	return &gpiotest.Pin{N: "GPIO17", Num: 17, EdgesChan: make(chan gpio.Level, 16)}
}

// TestGPIOTrigger: edges of a fake light barrier start items; edges within
// the debounce time of the last accepted one are ignored.
func TestGPIOTrigger(t *testing.T) {
	pin := fakePin()
	g, err := GPIO(pin, GPIOOptions{Edge: gpio.RisingEdge, Pull: gpio.PullDown, Debounce: 20 * time.Millisecond, Poll: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if pin.P != gpio.PullDown {
		t.Errorf("pull %v, want PullDown", pin.P)
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	// Edge times as the trigger sees them: a clean edge, a bounce 5ms
	// later, another bounce at 19ms, then the next fruit at 300ms.
	seen := []time.Duration{0, 5 * time.Millisecond, 19 * time.Millisecond, 300 * time.Millisecond}
	i := 0
	g.now = func() time.Time { d := seen[i]; i++; return t0.Add(d) }
	for range seen {
		pin.EdgesChan <- gpio.High
	}
	got := offsets(waits(t, g, 2), t0)
	if want := []time.Duration{0, 300 * time.Millisecond}; !equalDurations(got, want) {
		t.Errorf("items at %v, want %v", got, want)
	}
	if g.Ignored() != 2 {
		t.Errorf("ignored %d edges, want 2", g.Ignored())
	}
	// No edge: Wait returns when ctx ends.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := g.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("no edge: got %v, want deadline exceeded", err)
	}
}

func TestGPIOOptions(t *testing.T) {
	if _, err := GPIO(nil, GPIOOptions{}); err == nil {
		t.Error("nil pin: no error")
	}
	if _, err := GPIO(fakePin(), GPIOOptions{Edge: gpio.Edge(7)}); err == nil {
		t.Error("bad edge: no error")
	}
	if _, err := GPIO(fakePin(), GPIOOptions{Debounce: -1}); err == nil {
		t.Error("negative debounce: no error")
	}
	noEdges := &gpiotest.Pin{N: "GPIO4"} // gpiotest refuses edges without a channel
	if _, err := GPIO(noEdges, GPIOOptions{}); err == nil || !strings.Contains(err.Error(), "GPIO4") {
		t.Errorf("pin that cannot detect edges: got %v", err)
	}
	g, err := GPIO(fakePin(), GPIOOptions{})
	if err != nil || g.opts.Edge != gpio.RisingEdge || g.opts.Poll != 100*time.Millisecond {
		t.Errorf("defaults: %v %+v", err, g.opts)
	}
	for s, want := range map[string]gpio.Edge{"rising": gpio.RisingEdge, "Falling": gpio.FallingEdge, "both": gpio.BothEdges} {
		if got, err := ParseEdge(s); err != nil || got != want {
			t.Errorf("ParseEdge(%q): %v %v", s, got, err)
		}
	}
	if _, err := ParseEdge("up"); err == nil {
		t.Error("ParseEdge(up): no error")
	}
	for s, want := range map[string]gpio.Pull{"": gpio.PullNoChange, "up": gpio.PullUp, "down": gpio.PullDown, "float": gpio.Float} {
		if got, err := ParsePull(s); err != nil || got != want {
			t.Errorf("ParsePull(%q): %v %v", s, got, err)
		}
	}
	if _, err := ParsePull("sideways"); err == nil {
		t.Error("ParsePull(sideways): no error")
	}
}

// TestOpenPinUnknown: this machine has no pin of that name; the error
// says so (periph's host drivers load without hardware).
func TestOpenPinUnknown(t *testing.T) {
	_, err := OpenPin("NO_SUCH_PIN_42")
	if err == nil || !strings.Contains(err.Error(), "NO_SUCH_PIN_42") {
		t.Errorf("got %v, want an error naming the pin", err)
	}
}
