package capture

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
)

// GPIOOptions configure a GPIO edge trigger.
type GPIOOptions struct {
	// Edge is the edge that starts an item: gpio.RisingEdge (the
	// default when zero), gpio.FallingEdge or gpio.BothEdges. ParseEdge
	// reads the names.
	Edge gpio.Edge
	// Pull is the input's pull resistor (default gpio.PullNoChange: as
	// the board left it). A light barrier with an open-collector output
	// wants gpio.PullUp.
	Pull gpio.Pull
	// Debounce ignores edges that come sooner than this after the last
	// accepted one: contact bounce, or the trailing edge of the same
	// fruit. 0 accepts every edge.
	Debounce time.Duration
	// Poll is how often Wait looks at ctx while no edge comes (default
	// 100ms): periph's WaitForEdge cannot be interrupted, only timed out.
	Poll time.Duration
}

// GPIOTrigger starts an item on an edge of a digital input, e.g. a light
// barrier over the conveyor, through periph.io's gpio.PinIn.
type GPIOTrigger struct {
	pin  gpio.PinIn
	opts GPIOOptions
	now  func() time.Time
	last time.Time
	n    int // edges ignored by debouncing
}

// GPIO configures pin as an input with edge detection and returns the
// trigger. Fakes from periph.io/x/conn/v3/gpio/gpiotest serve in tests;
// OpenPin finds real pins by name.
func GPIO(pin gpio.PinIn, opts GPIOOptions) (*GPIOTrigger, error) {
	if pin == nil {
		return nil, fmt.Errorf("capture: GPIO trigger needs a pin")
	}
	if opts.Edge == gpio.NoEdge {
		opts.Edge = gpio.RisingEdge
	}
	if opts.Edge < gpio.RisingEdge || opts.Edge > gpio.BothEdges {
		return nil, fmt.Errorf("capture: GPIO trigger edge %v: use rising, falling or both", opts.Edge)
	}
	if opts.Debounce < 0 {
		return nil, fmt.Errorf("capture: GPIO debounce %v is negative", opts.Debounce)
	}
	if opts.Poll <= 0 {
		opts.Poll = 100 * time.Millisecond
	}
	if err := pin.In(opts.Pull, opts.Edge); err != nil {
		return nil, fmt.Errorf("capture: GPIO pin %s as input with %v detection: %w", pin, opts.Edge, err)
	}
	return &GPIOTrigger{pin: pin, opts: opts, now: time.Now}, nil
}

// Wait implements Trigger: it returns when an edge passes the debounce
// filter, stamped with the time Wait saw it.
func (g *GPIOTrigger) Wait(ctx context.Context) (time.Time, error) {
	for {
		if err := ctx.Err(); err != nil {
			return time.Time{}, err
		}
		if !g.pin.WaitForEdge(g.opts.Poll) {
			continue
		}
		t := g.now()
		if !g.last.IsZero() && t.Sub(g.last) < g.opts.Debounce {
			g.n++
			continue
		}
		g.last = t
		return t, nil
	}
}

// Ignored is how many edges debouncing has dropped.
func (g *GPIOTrigger) Ignored() int { return g.n }

// ParseEdge reads "rising", "falling" or "both".
func ParseEdge(s string) (gpio.Edge, error) {
	switch strings.ToLower(s) {
	case "rising":
		return gpio.RisingEdge, nil
	case "falling":
		return gpio.FallingEdge, nil
	case "both":
		return gpio.BothEdges, nil
	}
	return gpio.NoEdge, fmt.Errorf("capture: unknown GPIO edge %q: use rising, falling or both", s)
}

// ParsePull reads "up", "down", "float" or "" (leave as is).
func ParsePull(s string) (gpio.Pull, error) {
	switch strings.ToLower(s) {
	case "":
		return gpio.PullNoChange, nil
	case "up":
		return gpio.PullUp, nil
	case "down":
		return gpio.PullDown, nil
	case "float", "none":
		return gpio.Float, nil
	}
	return gpio.PullNoChange, fmt.Errorf("capture: unknown GPIO pull %q: use up, down or float", s)
}

var hostInit = sync.OnceValue(func() error {
	_, err := host.Init()
	return err
})

// OpenPin initialises periph.io's host drivers (once) and returns the pin
// with that name, e.g. "GPIO17" on a Raspberry Pi, or its number.
func OpenPin(name string) (gpio.PinIO, error) {
	if err := hostInit(); err != nil {
		return nil, fmt.Errorf("capture: GPIO drivers: %w", err)
	}
	p := gpioreg.ByName(name)
	if p == nil {
		var names []string
		for _, q := range gpioreg.All() {
			names = append(names, q.Name())
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("capture: no GPIO pin %q: this machine has no GPIO pins that periph.io can drive (is it a board with GPIO, and may this user open /dev/gpiochip*?)", name)
		}
		if len(names) > 12 {
			names = append(names[:12], "…")
		}
		return nil, fmt.Errorf("capture: no GPIO pin %q; pins here: %s", name, strings.Join(names, ", "))
	}
	return p, nil
}
