package metrics

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/metrics.golden from the output")

// goldenRegistry is a fixed registry: the agent's figures with fixed
// values, and a family whose texts need escaping.
func goldenRegistry() *Registry {
	r := NewRegistry()
	a := NewAgent(r, AgentOptions{
		Device:     "pi-belt-1",
		Backend:    "edgetpu",
		Cameras:    []string{"belt", "odd \"cam\" \\ with\nnewline"},
		Components: []string{"camera:belt", "backend", "mqtt", "spool"},
	})
	a.FramesIn.Add(1234)
	a.FramesProcessed.Add(1200)
	a.FramesSkipped.Add(30)
	a.FramesFailed.Add(4)
	a.ResultsPublished.Add(400)
	a.ResultsDropped.Add(2)
	a.MQTTReconnects.Add(3)
	a.EdgeTPUFailures.Set(5)
	a.EdgeTPUStalls.Set(1)
	a.EdgeTPURecovered.Set(4)
	a.SpoolEvictions.Inc()
	a.QueueDepth.Set(3)
	a.SpoolDepth.Set(17)
	a.SpoolBytes.Set(40960)
	a.FPSIn.Set(29.97)
	a.FPSProcessed.Set(29.5)
	a.FPSSkipped.Set(0.47)
	a.Uptime.Set(86400)
	a.Temperature.Set(51.3)
	a.BackendState.Set("fallback")
	belt, _ := a.Camera("belt")
	belt.Reopens.Add(2)
	belt.BadFrames.Add(7)
	belt.Dropped.Add(99)
	a.SetHealth(map[string]string{"camera:belt": HealthDegraded, "backend": HealthDegraded, "mqtt": HealthOK, "spool": "paused"})
	for _, ms := range []float64{0.5, 3, 3, 8, 12, 45, 2500} {
		a.Inference.Observe(ms / 1e3)
	}
	for _, d := range []time.Duration{20 * time.Millisecond, 150 * time.Millisecond, 30 * time.Second} {
		a.CaptureToPublish.ObserveDuration(d)
	}
	g := r.Gauge("fruitcam_test_values", "Special values; help with a \\ backslash,\na line feed and \"quotes\".", Label{"v", "inf"})
	g.Set(math.Inf(+1))
	r.Gauge("fruitcam_test_values", "Special values; help with a \\ backslash,\na line feed and \"quotes\".", Label{"v", "-inf"}).Set(math.Inf(-1))
	r.Gauge("fruitcam_test_values", "Special values; help with a \\ backslash,\na line feed and \"quotes\".", Label{"v", "nan"}).Set(math.NaN())
	r.Gauge("fruitcam_test_values", "Special values; help with a \\ backslash,\na line feed and \"quotes\".", Label{"v", "big"}).Set(1e21)
	r.Gauge("fruitcam_test_values", "Special values; help with a \\ backslash,\na line feed and \"quotes\".", Label{"v", "bad utf-8 \xff\xfe"}).Set(-0.25)
	r.Counter("fruitcam_test_max_total", "The largest count.", Label{"b", "2"}, Label{"a", "1"}).Set(math.MaxUint64)
	return r
}

func scrape(t testing.TB, r *Registry) string {
	t.Helper()
	var b bytes.Buffer
	n, err := r.WriteTo(&b)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(b.Len()) {
		t.Errorf("WriteTo returned %d; wrote %d bytes", n, b.Len())
	}
	return b.String()
}

// TestGolden compares the exposition of a fixed registry with
// testdata/metrics.golden; go test -run TestGolden -update rewrites it.
func TestGolden(t *testing.T) {
	got := scrape(t, goldenRegistry())
	path := filepath.Join("testdata", "metrics.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run TestGolden -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("exposition differs from %s (go test -run TestGolden -update rewrites it):\n got:\n%s\nwant:\n%s", path, got, want)
	}
	if _, err := parseExposition(got); err != nil {
		t.Errorf("golden output is not valid 0.0.4: %v", err)
	}
	// A second scrape reuses the buffer and must write the same.
	r := goldenRegistry()
	if a, b := scrape(t, r), scrape(t, r); a != b {
		t.Errorf("two scrapes differ:\n%s\n%s", a, b)
	}
}

func TestEscaping(t *testing.T) {
	tests := []struct {
		value, want string // want: the text between the quotes
	}{
		{"belt", "belt"},
		{`a"b`, `a\"b`},
		{`a\b`, `a\\b`},
		{"a\nb", `a\nb`},
		{"a\rb\tc", "a\rb\tc"}, // only three characters are escaped
		{`\"` + "\n", `\\\"\n`},
		{`\n`, `\\n`}, // a backslash and an n, not a line feed
		{"café 🍎", "café 🍎"},
		{"\xff", "\uFFFD"},
		{"a\xc3", "a\uFFFD"}, // truncated sequence
		{"", ""},
	}
	for _, tt := range tests {
		r := NewRegistry()
		r.Counter("x_total", "x", Label{"v", tt.value}).Inc()
		got := scrape(t, r)
		want := "# HELP x_total x\n# TYPE x_total counter\nx_total{v=\"" + tt.want + "\"} 1\n"
		if got != want {
			t.Errorf("value %q:\n got %q\nwant %q", tt.value, got, want)
		}
		p, err := parseExposition(got)
		if err != nil {
			t.Errorf("value %q: %v", tt.value, err)
			continue
		}
		if got, want := p.samples[0].labels["v"], string([]rune(tt.value)); got != want {
			t.Errorf("value %q read back as %q; want %q", tt.value, got, want)
		}
	}
}

func TestHelpEscaping(t *testing.T) {
	r := NewRegistry()
	r.Gauge("g", "a \\ b\nc \"d\"")
	got := scrape(t, r)
	want := "# HELP g a \\\\ b\\nc \"d\"\n# TYPE g gauge\ng 0\n"
	if got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

func TestHistogramBuckets(t *testing.T) {
	r := NewRegistry()
	h := r.Histogram("lat_seconds", "latency", []float64{0.01, 0.1, 1, math.Inf(+1)}, Label{"camera", "belt"})
	// On a bound counts in that bucket (le is "less than or equal").
	for _, v := range []float64{-1, 0.001, 0.01, 0.05, 0.1, 0.5, 1, 2, 1e9, math.Inf(+1), math.NaN()} {
		h.Observe(v)
	}
	p, err := parseExposition(scrape(t, r))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		le    string
		count string
	}{{"0.01", "3"}, {"0.1", "5"}, {"1", "7"}, {"+Inf", "10"}}
	got := p.find("lat_seconds_bucket", map[string]string{"camera": "belt"})
	if len(got) != len(want) {
		t.Fatalf("got %d buckets; want %d: %v", len(got), len(want), got)
	}
	prev := uint64(0)
	for i, s := range got {
		if s.labels["le"] != want[i].le || s.value != want[i].count {
			t.Errorf("bucket %d: got le=%s %s; want le=%s %s", i, s.labels["le"], s.value, want[i].le, want[i].count)
		}
		n, _ := strconv.ParseUint(s.value, 10, 64)
		if n < prev {
			t.Errorf("bucket le=%s: %d below the previous %d: not cumulative", s.labels["le"], n, prev)
		}
		prev = n
	}
	if c := p.find("lat_seconds_count", nil); len(c) != 1 || c[0].value != "10" {
		t.Errorf("count: got %v; want 10, the +Inf bucket (NaN is not counted)", c)
	}
	if s := p.find("lat_seconds_sum", nil); len(s) != 1 || s[0].value != "+Inf" {
		t.Errorf("sum: got %v; want +Inf (an +Inf was observed)", s)
	}
	if got := h.Count(); got != 10 {
		t.Errorf("Count() = %d; want 10", got)
	}
}

func TestGaugeAndStateSet(t *testing.T) {
	r := NewRegistry()
	g := r.Gauge("temp_celsius", "t")
	g.Unset()
	s := r.StateSet("state", "s", "state", []string{"ok", "bad"}, Label{"part", "tpu"})
	if got, want := scrape(t, r), "# HELP temp_celsius t\n# TYPE temp_celsius gauge\n# HELP state s\n# TYPE state gauge\nstate{part=\"tpu\",state=\"ok\"} 0\nstate{part=\"tpu\",state=\"bad\"} 0\n"; got != want {
		t.Errorf("before Set:\n got %q\nwant %q", got, want)
	}
	g.Add(2.5)
	g.Add(-1)
	if v, ok := g.Value(); v != 1.5 || !ok {
		t.Errorf("gauge: got %v, %v; want 1.5, true", v, ok)
	}
	if !s.Set("bad") || s.State() != "bad" {
		t.Errorf("Set(bad): state %q", s.State())
	}
	if got := scrape(t, r); !strings.Contains(got, "temp_celsius 1.5\n") || !strings.Contains(got, `state{part="tpu",state="bad"} 1`) {
		t.Errorf("after Set:\n%s", got)
	}
	if s.Set("paused") || s.State() != "" {
		t.Errorf("Set(paused) accepted an unknown state: %q", s.State())
	}
	g.Set(math.Float64frombits(absent)) // a NaN of any payload is NaN, never "absent"
	if v, ok := g.Value(); !ok || !math.IsNaN(v) {
		t.Errorf("Set(NaN with absent's bits): got %v, %v; want NaN, true", v, ok)
	}
}

func TestOnScrape(t *testing.T) {
	r := NewRegistry()
	c := r.Counter("mirrored_total", "m")
	n := uint64(0)
	r.OnScrape(func() { n += 10; c.Set(n) })
	scrape(t, r)
	if got := scrape(t, r); !strings.Contains(got, "mirrored_total 20\n") {
		t.Errorf("hook not run once per scrape:\n%s", got)
	}
}

// TestRegisterMisuse: each mistake panics with a message naming it.
func TestRegisterMisuse(t *testing.T) {
	tests := []struct {
		name string
		reg  func(r *Registry)
		want string
	}{
		{"bad metric name", func(r *Registry) { r.Counter("1x", "h") }, "not a metric name"},
		{"empty metric name", func(r *Registry) { r.Gauge("", "h") }, "not a metric name"},
		{"bad label name", func(r *Registry) { r.Gauge("g", "h", Label{"a-b", "v"}) }, "not a label name"},
		{"reserved label name", func(r *Registry) { r.Gauge("g", "h", Label{"__name__", "v"}) }, "not a label name"},
		{"label twice", func(r *Registry) { r.Gauge("g", "h", Label{"a", "1"}, Label{"a", "2"}) }, "label a twice"},
		{"le on a histogram", func(r *Registry) { r.Histogram("h", "h", []float64{1}, Label{"le", "1"}) }, "label le is the histogram's own"},
		{"no buckets", func(r *Registry) { r.Histogram("h", "h", nil) }, "no buckets"},
		{"only +Inf", func(r *Registry) { r.Histogram("h", "h", []float64{math.Inf(1)}) }, "no buckets"},
		{"unsorted buckets", func(r *Registry) { r.Histogram("h", "h", []float64{1, 1}) }, "strictly increasing"},
		{"NaN bucket", func(r *Registry) { r.Histogram("h", "h", []float64{math.NaN()}) }, "strictly increasing"},
		{"same series twice", func(r *Registry) { r.Gauge("g", "h", Label{"a", "1"}); r.Gauge("g", "h", Label{"a", "1"}) }, "registered twice"},
		{"other type", func(r *Registry) { r.Gauge("g", "h"); r.Counter("g", "h") }, "registered again"},
		{"other help", func(r *Registry) { r.Gauge("g", "h", Label{"a", "1"}); r.Gauge("g", "x", Label{"a", "2"}) }, "registered again"},
		{"other labels", func(r *Registry) { r.Gauge("g", "h", Label{"a", "1"}); r.Gauge("g", "h", Label{"b", "1"}) }, "registered with labels"},
		{"other buckets", func(r *Registry) {
			r.Histogram("h", "h", []float64{1}, Label{"a", "1"})
			r.Histogram("h", "h", []float64{2}, Label{"a", "2"})
		}, "registered with buckets"},
		{"clash with histogram", func(r *Registry) { r.Histogram("h", "h", []float64{1}); r.Gauge("h_count", "h") }, "clashes"},
		{"histogram clashes", func(r *Registry) { r.Gauge("h_sum", "h"); r.Histogram("h", "h", []float64{1}) }, "clashes"},
		{"no states", func(r *Registry) { r.StateSet("s", "h", "state", nil) }, "no states"},
		{"state twice", func(r *Registry) { r.StateSet("s", "h", "state", []string{"a", "a"}) }, "twice"},
		{"state label fixed too", func(r *Registry) { r.StateSet("s", "h", "state", []string{"a"}, Label{"state", "x"}) }, "label state is the gauge's own"},
		{"bad state label", func(r *Registry) { r.StateSet("s", "h", "st-ate", []string{"a"}) }, "not a label name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, tt.want) || !strings.HasPrefix(msg, "metrics: ") {
					t.Errorf("panic %q; want one containing %q", msg, tt.want)
				}
			}()
			tt.reg(NewRegistry())
		})
	}
}

// TestSeriesOfAFamily: series registered one by one stay under one
// HELP/TYPE, labels sorted by name.
func TestSeriesOfAFamily(t *testing.T) {
	r := NewRegistry()
	r.Counter("c_total", "c", Label{"z", "1"}, Label{"a", "1"}).Inc()
	r.Counter("c_total", "c", Label{"a", "2"}, Label{"z", "2"}).Add(2)
	got := scrape(t, r)
	want := "# HELP c_total c\n# TYPE c_total counter\nc_total{a=\"1\",z=\"1\"} 1\nc_total{a=\"2\",z=\"2\"} 2\n"
	if got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}
