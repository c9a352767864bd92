package metrics

import (
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHotPathAllocates: the per-frame updates allocate nothing, also
// while other goroutines update the same metrics (the allocation count
// is process-wide, so they must not allocate either).
func TestHotPathAllocates(t *testing.T) {
	r := NewRegistry()
	a := NewAgent(r, AgentOptions{Cameras: []string{"belt"}, Components: []string{"camera:belt", "mqtt"}})
	health := map[string]string{"camera:belt": HealthOK, "mqtt": HealthDown}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				a.FramesIn.Inc()
				a.Inference.Observe(0.004)
				a.QueueDepth.Add(1)
				a.BackendState.Set("ok")
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	ops := []struct {
		name string
		f    func()
	}{
		{"Counter.Inc", a.FramesIn.Inc},
		{"Counter.Add", func() { a.ResultsPublished.Add(3) }},
		{"Counter.Set", func() { a.EdgeTPUFailures.Set(7) }},
		{"Gauge.Set", func() { a.QueueDepth.Set(4) }},
		{"Gauge.Add", func() { a.SpoolBytes.Add(512) }},
		{"Histogram.Observe", func() { a.Inference.Observe(0.012) }},
		{"Histogram.ObserveDuration", func() { a.CaptureToPublish.ObserveDuration(80 * time.Millisecond) }},
		{"StateSet.Set", func() { a.BackendState.Set("fallback") }},
		{"Agent.SetHealth", func() { a.SetHealth(health) }},
	}
	for _, op := range ops {
		if got := testing.AllocsPerRun(200, op.f); got != 0 {
			t.Errorf("%s: %v allocations per call; want 0", op.name, got)
		}
	}
	// A scrape reuses its buffer: after the first, it allocates little
	// and nothing per sample.
	r.WriteTo(io.Discard)
	if got := testing.AllocsPerRun(20, func() { r.WriteTo(io.Discard) }); got != 0 {
		t.Errorf("WriteTo: %v allocations per scrape; want 0", got)
	}
}

// TestConcurrentUpdates: updates from many goroutines while scrapes run
// lose nothing (run with -race), and every scrape is well-formed with a
// histogram count equal to its +Inf bucket.
func TestConcurrentUpdates(t *testing.T) {
	const workers, perWorker = 4, 2000
	r := NewRegistry()
	c := r.Counter("c_total", "c", Label{"camera", "belt"})
	g := r.Gauge("g", "g")
	h := r.Histogram("h_seconds", "h", []float64{0.01, 0.1, 1})
	s := r.StateSet("s", "s", "state", []string{"ok", "down"})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				c.Inc()
				g.Add(1)
				h.Observe(float64(i%3) * 0.05)
				if (i+w)%2 == 0 {
					s.Set("ok")
				} else {
					s.Set("down")
				}
			}
		}()
	}
	done := make(chan struct{})
	var scrapes sync.WaitGroup
	scrapes.Add(1)
	go func() {
		defer scrapes.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			var b strings.Builder
			r.WriteTo(&b)
			p, err := parseExposition(b.String())
			if err != nil {
				t.Errorf("scrape during updates: %v", err)
				return
			}
			inf := p.find("h_seconds_bucket", map[string]string{"le": "+Inf"})
			count := p.find("h_seconds_count", nil)
			if len(inf) != 1 || len(count) != 1 || inf[0].value != count[0].value {
				t.Errorf("count %v differs from the +Inf bucket %v", count, inf)
				return
			}
		}
	}()
	wg.Wait()
	close(done)
	scrapes.Wait()

	const n = workers * perWorker
	if got := c.Value(); got != n {
		t.Errorf("counter: got %d; want %d", got, n)
	}
	if got, _ := g.Value(); got != n {
		t.Errorf("gauge: got %v; want %d", got, n)
	}
	if got := h.Count(); got != n {
		t.Errorf("histogram count: got %d; want %d", got, n)
	}
	p, err := parseExposition(scrape(t, r))
	if err != nil {
		t.Fatal(err)
	}
	// 0 and 0.05 fall in le=0.1 along with 0.1 itself: everything is
	// at or below 0.1, a third of it at or below 0.01.
	for le, want := range map[string]string{"0.01": "2668", "0.1": "8000", "1": "8000", "+Inf": "8000"} {
		if got := p.find("h_seconds_bucket", map[string]string{"le": le}); len(got) != 1 || got[0].value != want {
			t.Errorf("bucket le=%s: got %v; want %s", le, got, want)
		}
	}
	if st := s.State(); st != "ok" && st != "down" {
		t.Errorf("state set: %q", st)
	}
}

// TestAddCameraWhileScraping: a camera added while scrapes run (a fleet
// config added it) gets its counters and health, without a race.
func TestAddCameraWhileScraping(t *testing.T) {
	r := NewRegistry()
	a := NewAgent(r, AgentOptions{Cameras: []string{"belt"}, Components: []string{"camera:belt"}})
	r.OnScrape(func() {
		a.SetHealth(map[string]string{"camera:belt": HealthOK, "camera:top": HealthDown})
		if f, ok := a.Camera("top"); ok {
			f.Reopens.Set(3)
		}
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			r.WriteTo(io.Discard)
		}
	}()
	a.AddCamera("top")
	a.AddCamera("top") // again: nothing changes
	<-done
	var b strings.Builder
	r.WriteTo(&b)
	for _, want := range []string{
		`fruitcam_camera_reopens_total{camera="top"} 3`,
		`fruitcam_health{component="camera:top",state="down"} 1`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the scrape lacks %s", want)
		}
	}
}
