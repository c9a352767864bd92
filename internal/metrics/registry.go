package metrics

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
)

// Label is a label fixed at registration, such as camera="belt".
type Label struct{ Name, Value string }

// Registry holds an agent's metrics and writes them in the text
// exposition format. Registration is for start-up code: its methods
// panic on programmer mistakes (an invalid or conflicting name, the same
// series twice), never on input, because names and label sets come from
// code and from an already validated config. Registering, updating and
// scraping may happen concurrently.
type Registry struct {
	mu       sync.Mutex // guards everything below, and serialises scrapes
	families []*family
	byName   map[string]*family
	hooks    []func()
	buf      []byte // reused by every scrape
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{byName: make(map[string]*family)}
}

// Metric types as the TYPE line spells them. A StateSet is written as a
// gauge: the 0.0.4 format has no stateset type.
const (
	typeCounter   = "counter"
	typeGauge     = "gauge"
	typeHistogram = "histogram"
)

// family is one metric name: its HELP and TYPE lines and its series.
type family struct {
	name, help, typ string
	labelNames      []string  // sorted; the same for every series
	bounds          []float64 // histograms: the buckets every series shares
	series          []series
}

// series is one label set of a family. labels is rendered once, at
// registration (name="escaped value",... without braces), so scrapes do
// not escape anything.
type series struct {
	labels string
	m      sample
}

// sample is a metric that can write its samples.
type sample interface {
	appendSamples(b []byte, name, labels string) []byte
}

// OnScrape adds f to the functions run at the start of every scrape,
// before any value is read: the place to copy figures kept elsewhere
// (the pipeline's counters, a watchdog's health) into the registry, so
// that they are read once per scrape rather than per metric. f runs with
// the registry locked and must not register, scrape or block.
func (r *Registry) OnScrape(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hooks = append(r.hooks, f)
}

// Counter registers and returns a counter: a count that only goes up
// (frames, results, reconnects). By convention its name ends in _total.
func (r *Registry) Counter(name, help string, labels ...Label) *Counter {
	c := new(Counter)
	r.register(name, help, typeCounter, nil, "", labels, c)
	return c
}

// Gauge registers and returns a gauge: a value that goes up and down
// (queue depth, temperature). It starts at 0.
func (r *Registry) Gauge(name, help string, labels ...Label) *Gauge {
	g := new(Gauge)
	r.register(name, help, typeGauge, nil, "", labels, g)
	return g
}

// Histogram registers and returns a histogram with the given bucket
// upper bounds, strictly increasing; the +Inf bucket is implicit (a
// trailing +Inf is accepted and dropped). Series of one name must share
// their buckets.
func (r *Registry) Histogram(name, help string, buckets []float64, labels ...Label) *Histogram {
	bounds := slices.Clone(buckets)
	if n := len(bounds); n > 0 && math.IsInf(bounds[n-1], +1) {
		bounds = bounds[:n-1]
	}
	if len(bounds) == 0 {
		panic(fmt.Sprintf("metrics: histogram %s: no buckets; pass upper bounds such as 0.001, 0.01, 0.1, 1", name))
	}
	for i, v := range bounds {
		if math.IsNaN(v) || math.IsInf(v, 0) || (i > 0 && v <= bounds[i-1]) {
			panic(fmt.Sprintf("metrics: histogram %s: buckets %v must be finite and strictly increasing", name, buckets))
		}
	}
	h := newHistogram(bounds)
	r.register(name, help, typeHistogram, bounds, "le", labels, h)
	return h
}

// StateSet registers and returns a set of 0/1 gauges, one per state,
// told apart by the label stateLabel: exactly one is 1 once Set is
// called, for a backend's state or a component's health. Before the
// first Set every state is 0.
func (r *Registry) StateSet(name, help, stateLabel string, states []string, labels ...Label) *StateSet {
	if len(states) == 0 {
		panic(fmt.Sprintf("metrics: state set %s: no states", name))
	}
	for i, s := range states {
		if slices.Contains(states[:i], s) {
			panic(fmt.Sprintf("metrics: state set %s: state %q twice", name, s))
		}
	}
	s := newStateSet(stateLabel, states)
	r.register(name, help, typeGauge, nil, stateLabel, labels, s)
	return s
}

// register adds m as a series of the family name, creating the family if
// needed. labels are the fixed labels; own is the label the metric
// writes itself, if any ("le" of a histogram, the state label of a state
// set), which the family's label names include but labels must not.
func (r *Registry) register(name, help, typ string, bounds []float64, own string, labels []Label, m sample) {
	if !validMetricName(name) {
		panic(fmt.Sprintf("metrics: %q is not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)", name))
	}
	ls := slices.Clone(labels)
	slices.SortFunc(ls, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
	names := make([]string, 0, len(ls)+1)
	if own != "" {
		if !validLabelName(own) {
			panic(fmt.Sprintf("metrics: %s: %q is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)", name, own))
		}
		names = append(names, own)
	}
	var b []byte
	for i, l := range ls {
		switch {
		case !validLabelName(l.Name):
			panic(fmt.Sprintf("metrics: %s: %q is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)", name, l.Name))
		case i > 0 && l.Name == ls[i-1].Name:
			panic(fmt.Sprintf("metrics: %s: label %s twice", name, l.Name))
		case l.Name == own:
			panic(fmt.Sprintf("metrics: %s: label %s is the %s's own; it cannot be fixed", name, own, typ))
		}
		names = append(names, l.Name)
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, l.Name...)
		b = append(b, `="`...)
		b = appendLabelValue(b, l.Value)
		b = append(b, '"')
	}
	slices.Sort(names)
	labelText := string(b)

	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.byName[name]
	if f == nil {
		if other := r.collision(name, typ); other != "" {
			panic(fmt.Sprintf("metrics: %s clashes with the samples of %s", name, other))
		}
		f = &family{name: name, help: help, typ: typ, labelNames: names, bounds: bounds}
		r.families = append(r.families, f)
		r.byName[name] = f
	}
	switch {
	case f.typ != typ || f.help != help:
		panic(fmt.Sprintf("metrics: %s registered again as a %s with help %q; it is a %s with help %q", name, typ, help, f.typ, f.help))
	case !slices.Equal(f.labelNames, names):
		panic(fmt.Sprintf("metrics: %s registered with labels %v; its series have %v", name, names, f.labelNames))
	case !slices.Equal(f.bounds, bounds):
		panic(fmt.Sprintf("metrics: histogram %s registered with buckets %v; its series have %v", name, bounds, f.bounds))
	}
	for _, s := range f.series {
		if s.labels == labelText {
			panic(fmt.Sprintf("metrics: %s{%s} registered twice", name, labelText))
		}
	}
	f.series = append(f.series, series{labels: labelText, m: m})
}

// collision names an existing family whose sample names a new family
// called name of type typ would share (a histogram x writes x_bucket,
// x_sum and x_count), or "".
func (r *Registry) collision(name, typ string) string {
	suffixes := []string{"_bucket", "_sum", "_count"}
	for _, s := range suffixes {
		if base, ok := strings.CutSuffix(name, s); ok {
			if f := r.byName[base]; f != nil && f.typ == typeHistogram {
				return base
			}
		}
		if typ == typeHistogram {
			if f := r.byName[name+s]; f != nil {
				return f.name
			}
		}
	}
	return ""
}

// WriteTo runs the OnScrape functions and writes every family, in the
// order of registration, in the text exposition format 0.0.4. Scrapes are
// serialised; the buffer they render into is reused. The registry stays
// locked while w is written, which blocks other scrapes and registrations
// (never updates); the server's WriteTimeout bounds a slow client.
func (r *Registry) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.hooks {
		f()
	}
	b := r.buf[:0]
	for _, f := range r.families {
		b = append(b, "# HELP "...)
		b = append(b, f.name...)
		b = append(b, ' ')
		b = appendHelp(b, f.help)
		b = append(b, "\n# TYPE "...)
		b = append(b, f.name...)
		b = append(b, ' ')
		b = append(b, f.typ...)
		b = append(b, '\n')
		for _, s := range f.series {
			b = s.m.appendSamples(b, f.name, s.labels)
		}
	}
	r.buf = b
	n, err := w.Write(b)
	if err != nil {
		return int64(n), fmt.Errorf("metrics: writing the exposition: %w", err)
	}
	return int64(n), nil
}

// appendSeries appends one sample line's name and label set:
// name{labels,extra} or name{labels} or name.
func appendSeries(b []byte, name, suffix, labels, extraName, extraValue string) []byte {
	b = append(b, name...)
	b = append(b, suffix...)
	if labels == "" && extraName == "" {
		return append(b, ' ')
	}
	b = append(b, '{')
	b = append(b, labels...)
	if extraName != "" {
		if labels != "" {
			b = append(b, ',')
		}
		b = append(b, extraName...)
		b = append(b, `="`...)
		b = appendLabelValue(b, extraValue)
		b = append(b, '"')
	}
	return append(b, "} "...)
}
