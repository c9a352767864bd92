package main

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/publish/publishtest"
)

// TestSoak runs the agent at the highest frame rate it sustains (a
// synthetic camera with no rate limit, MobileNet v1, the embedded broker
// and a subscriber) and checks that memory and goroutines stay flat: a
// board runs for months. FRUITCAM_SOAK sets the duration (default 20 s in
// `make test`; `FRUITCAM_SOAK=1h go test -run Soak -timeout 2h ./cmd/agent`
// for the long run). The figures go to the log.
func TestSoak(t *testing.T) {
	d := 20 * time.Second
	if s := os.Getenv("FRUITCAM_SOAK"); s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			t.Fatalf("FRUITCAM_SOAK=%q: %v", s, err)
		}
	}
	if testing.Short() {
		d = 3 * time.Second
	}
	addr := freePort(t)
	cfg := testConfig(t, `cameras:
  - name: belt
    source: {type: pattern, width: 320, height: 240}
`+embeddedMQTT(t, addr))
	cfg.Infer.Workers = 1
	a, sub, cancel, done := startAgent(t, cfg, addr)
	defer cancel()
	sub.WaitFor(t, "a first result", func(m publishtest.Message) bool { return strings.HasSuffix(m.Topic, "/result") })

	// Warm-up: let pools, buffers and the broker's queues reach their
	// size, then take the baseline.
	time.Sleep(min(d/5, 5*time.Second))
	sub.Reset()
	rss0, g0 := rssKB(t), runtime.NumGoroutine()
	items0 := a.stats().Items
	start := time.Now()
	var peak int
	for time.Since(start) < d {
		time.Sleep(min(time.Second, d/10))
		peak = max(peak, rssKB(t))
		sub.Reset() // the subscriber keeps what it receives: not the agent's memory
	}
	rss1, g1 := rssKB(t), runtime.NumGoroutine()
	st := a.stats()
	items := st.Items - items0
	rate := float64(items) / time.Since(start).Seconds()
	t.Logf("soak %v: %d results (%.0f/s), RSS %d → %d kB (peak %d), goroutines %d → %d, skipped %d, failed %d",
		d, items, rate, rss0, rss1, peak, g0, g1, st.Skipped, st.Failed)

	stopAgent(t, cancel, done)
	if items == 0 {
		t.Fatal("no results during the soak")
	}
	if st.Failed != 0 {
		t.Errorf("%d frames failed", st.Failed)
	}
	// Flat: the heap may settle a little after the warm-up, but a leak of
	// even a few hundred bytes a result would pass these bounds in a
	// minute at this rate.
	if grow := rss1 - rss0; grow > 16<<10 {
		t.Errorf("RSS grew by %d kB over %v", grow, d)
	}
	if g1 > g0+4 {
		t.Errorf("goroutines grew from %d to %d", g0, g1)
	}
}

// rssKB reads this process's resident set size.
func rssKB(t *testing.T) int {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}
