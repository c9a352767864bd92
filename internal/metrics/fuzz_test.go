package metrics

import (
	"strings"
	"testing"
)

// FuzzLabelValue writes arbitrary label values, state names and help
// text and reads them back with the test's own parser: the exposition
// must stay valid 0.0.4 (no raw line feed, every escape known) and give
// back the text, with each invalid UTF-8 byte as U+FFFD.
func FuzzLabelValue(f *testing.F) {
	for _, s := range []string{"belt", `a"b`, `a\b`, "a\nb", `\n`, `\"`, "\"\\\n", "}", `",x="y`, "café", "\xff\xfe", "a\xc3", "", " ", "{}", "\r\t\x00"} {
		f.Add(s, "help "+s)
	}
	f.Fuzz(func(t *testing.T, value, help string) {
		r := NewRegistry()
		r.Counter("fuzz_total", help, Label{"camera", value}, Label{"z", "fixed"}).Inc()
		r.StateSet("fuzz_state", "s", "state", []string{"ok", value + "!"}, Label{"camera", value}).Set(value + "!")
		r.Histogram("fuzz_seconds", "h", []float64{1}, Label{"camera", value}).Observe(0.5)
		var b strings.Builder
		if _, err := r.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		p, err := parseExposition(out)
		if err != nil {
			t.Fatalf("value %q, help %q: invalid exposition: %v\n%s", value, help, err, out)
		}
		want := string([]rune(value))
		if got := p.help["fuzz_total"]; got != string([]rune(help)) {
			t.Errorf("help %q read back as %q", help, got)
		}
		if n := strings.Count(out, "\n"); n != 13 {
			t.Errorf("%d lines; want 13 (a line feed leaked):\n%s", n, out)
		}
		for _, s := range p.samples {
			if s.labels["camera"] != want {
				t.Errorf("%s: camera %q read back as %q; want %q", s.name, value, s.labels["camera"], want)
			}
		}
		if got := p.find("fuzz_state", map[string]string{"state": want + "!"}); len(got) != 1 || got[0].value != "1" {
			t.Errorf("state %q: got %v; want one sample of 1", value+"!", got)
		}
		if got := p.find("fuzz_total", map[string]string{"z": "fixed"}); len(got) != 1 || got[0].value != "1" {
			t.Errorf("counter: got %v", got)
		}
	})
}
