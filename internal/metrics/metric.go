package metrics

import (
	"math"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// Counter is a count that only goes up. Its methods are safe for
// concurrent use and allocate nothing. The zero value is not registered;
// get counters from Registry.Counter.
type Counter struct{ v atomic.Uint64 }

// Inc adds one.
func (c *Counter) Inc() { c.v.Add(1) }

// Add adds n.
func (c *Counter) Add(n uint64) { c.v.Add(n) }

// Set stores n, for a counter that mirrors a count kept elsewhere (the
// pipeline's, a watchdog's) in an OnScrape function. n must not be less
// than the count it replaces, or Prometheus sees a counter reset.
func (c *Counter) Set(n uint64) { c.v.Store(n) }

// Value returns the count.
func (c *Counter) Value() uint64 { return c.v.Load() }

func (c *Counter) appendSamples(b []byte, name, labels string) []byte {
	b = appendSeries(b, name, "", labels, "", "")
	b = strconv.AppendUint(b, c.v.Load(), 10)
	return append(b, '\n')
}

// absent is the bit pattern of a gauge without a value: a signalling NaN
// that Set never stores, because it turns every NaN into math.NaN().
const absent = 0x7ff4_0000_0000_00a5

// Gauge is a value that goes up and down. It may also be absent (Unset):
// then its series is left out of the exposition, which is how Prometheus
// expects a figure that cannot be read (a board without a temperature
// sensor) to look. Its methods are safe for concurrent use and allocate
// nothing.
type Gauge struct{ bits atomic.Uint64 }

// Set stores v.
func (g *Gauge) Set(v float64) {
	if math.IsNaN(v) {
		v = math.NaN()
	}
	g.bits.Store(math.Float64bits(v))
}

// Add adds d (to 0 when the gauge is absent).
func (g *Gauge) Add(d float64) {
	for {
		old := g.bits.Load()
		v := 0.0
		if old != absent {
			v = math.Float64frombits(old)
		}
		v += d
		if math.IsNaN(v) {
			v = math.NaN()
		}
		if g.bits.CompareAndSwap(old, math.Float64bits(v)) {
			return
		}
	}
}

// Unset makes the gauge absent until the next Set or Add.
func (g *Gauge) Unset() { g.bits.Store(absent) }

// Value returns the gauge's value, and false when it is absent.
func (g *Gauge) Value() (float64, bool) {
	bits := g.bits.Load()
	if bits == absent {
		return 0, false
	}
	return math.Float64frombits(bits), true
}

func (g *Gauge) appendSamples(b []byte, name, labels string) []byte {
	v, ok := g.Value()
	if !ok {
		return b
	}
	b = appendSeries(b, name, "", labels, "", "")
	b = appendFloat(b, v)
	return append(b, '\n')
}

// Histogram counts observations in buckets and sums them. Its methods are
// safe for concurrent use and allocate nothing.
type Histogram struct {
	bounds []float64       // upper bounds, strictly increasing, finite
	les    []string        // the bounds as le label values, then "+Inf"
	counts []atomic.Uint64 // per bucket, not cumulative; the last is +Inf
	sum    atomic.Uint64   // float64 bits
}

func newHistogram(bounds []float64) *Histogram {
	les := make([]string, 0, len(bounds)+1)
	for _, v := range bounds {
		les = append(les, string(appendFloat(nil, v)))
	}
	les = append(les, "+Inf")
	return &Histogram{bounds: bounds, les: les, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// Observe records v. NaN is ignored: it would make the sum NaN for good.
func (h *Histogram) Observe(v float64) {
	if math.IsNaN(v) {
		return
	}
	// The first bound >= v: buckets are "less than or equal".
	i, _ := slices.BinarySearch(h.bounds, v)
	h.counts[i].Add(1)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// ObserveDuration records d in seconds, the unit of every duration
// Prometheus shows.
func (h *Histogram) ObserveDuration(d time.Duration) { h.Observe(d.Seconds()) }

// Count returns the number of observations.
func (h *Histogram) Count() uint64 {
	var n uint64
	for i := range h.counts {
		n += h.counts[i].Load()
	}
	return n
}

// The count is the +Inf bucket's cumulative count, summed from the same
// loads as the buckets, so that a scrape racing Observe still shows a
// count equal to its +Inf bucket (the sum may lag by that observation).
func (h *Histogram) appendSamples(b []byte, name, labels string) []byte {
	var cum uint64
	for i := range h.counts {
		cum += h.counts[i].Load()
		b = appendSeries(b, name, "_bucket", labels, "le", h.les[i])
		b = strconv.AppendUint(b, cum, 10)
		b = append(b, '\n')
	}
	b = appendSeries(b, name, "_sum", labels, "", "")
	b = appendFloat(b, math.Float64frombits(h.sum.Load()))
	b = append(b, '\n')
	b = appendSeries(b, name, "_count", labels, "", "")
	b = strconv.AppendUint(b, cum, 10)
	return append(b, '\n')
}

// StateSet is a set of 0/1 gauges, one per state, of which at most one is
// 1: an enumeration in a form PromQL can select and alert on
// (fruitcam_backend_state{state="fallback"} == 1). Its methods are safe
// for concurrent use and allocate nothing.
type StateSet struct {
	label  string
	states []string
	cur    atomic.Int32 // index into states; -1 for none
}

func newStateSet(label string, states []string) *StateSet {
	s := &StateSet{label: label, states: slices.Clone(states)}
	s.cur.Store(-1)
	return s
}

// Set makes state the one that is 1. A state that was not registered
// sets them all to 0 and returns false: an unknown state is shown as
// such rather than as a wrong one.
func (s *StateSet) Set(state string) bool {
	for i, st := range s.states {
		if st == state {
			s.cur.Store(int32(i))
			return true
		}
	}
	s.cur.Store(-1)
	return false
}

// State returns the state that is 1, or "" when none is.
func (s *StateSet) State() string {
	if i := s.cur.Load(); i >= 0 {
		return s.states[i]
	}
	return ""
}

func (s *StateSet) appendSamples(b []byte, name, labels string) []byte {
	cur := int(s.cur.Load())
	for i, st := range s.states {
		b = appendSeries(b, name, "", labels, s.label, st)
		if i == cur {
			b = append(b, "1\n"...)
		} else {
			b = append(b, "0\n"...)
		}
	}
	return b
}
