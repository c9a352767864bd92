package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/internal/config"
	"github.com/fruitcam/fruitcam/publish"
)

// clockJumpEnv allows TestClockJump to set the system clock: it runs in
// the V4L2 test VM (.ci/v4l2vm.sh), where the test is root and the clock
// is its own, never on a developer's machine.
const clockJumpEnv = "FRUITCAM_CLOCK_JUMP_OK"

// lockedBuffer is a bytes.Buffer safe for the agent's writer and the
// test's reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) results(t *testing.T) []publish.Result {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []publish.Result
	sc := bufio.NewScanner(bytes.NewReader(l.b.Bytes()))
	for sc.Scan() {
		r, err := publish.DecodeResult(sc.Bytes())
		if err != nil {
			t.Fatalf("result line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// TestClockJump steps the wall clock back an hour, then forward a day,
// while the agent runs: results keep coming, numbered without gaps, their
// latencies stay those of the work (durations use the monotonic clock),
// and only their timestamps follow the wall clock.
func TestClockJump(t *testing.T) {
	if os.Getenv(clockJumpEnv) != "1" {
		t.Skip("sets the system clock: runs in the test VM (.ci/v4l2vm.sh) with " + clockJumpEnv + "=1")
	}
	model := os.Getenv("FRUITCAM_V4L2_MODEL")
	if model == "" {
		t.Fatal("FRUITCAM_V4L2_MODEL names the model in the VM")
	}
	path := filepath.Join(t.TempDir(), "agent.yaml")
	yaml := `version: 1
device: {id: clock}
model: {path: ` + model + `}
infer: {workers: 1, batch: {size: 1}}
cameras:
  - name: belt
    source: {type: pattern, width: 96, height: 96, rate: 20}
mqtt: {enabled: false}
stdout: {enabled: true}
`
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newAgent(ctx, cfg, quietLog(), &out)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.run(ctx) }()
	defer stopAgent(t, cancel, done)

	step := func(d time.Duration) {
		t.Helper()
		tv := syscall.NsecToTimeval(time.Now().Add(d).UnixNano())
		if err := syscall.Settimeofday(&tv); err != nil {
			t.Fatalf("set the clock %v: %v", d, err)
		}
	}
	phases := []struct {
		name string
		jump time.Duration
	}{{"before", 0}, {"an hour back", -time.Hour}, {"a day forward", 25 * time.Hour}}
	var ends []int
	for _, p := range phases {
		if p.jump != 0 {
			step(p.jump)
		}
		n := len(out.results(t))
		deadline := time.Now().Add(20 * time.Second) // wall clock: monotonic reading inside
		for len(out.results(t)) < n+15 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if got := len(out.results(t)); got < n+15 {
			t.Fatalf("%s: %d results in 20 s, want 15 or more: the agent stalled", p.name, got-n)
		}
		ends = append(ends, len(out.results(t)))
	}
	step(-24 * time.Hour) // the clock back where it was, give or take the test
	rs := out.results(t)
	for i, r := range rs {
		if r.Seq != uint64(i+1) {
			t.Fatalf("result %d has seq %d", i+1, r.Seq)
		}
		if r.LatencyMS.CaptureToPublish > 1000 {
			t.Errorf("seq %d: capture→publish %.0f ms: a duration followed the wall clock", r.Seq, r.LatencyMS.CaptureToPublish)
		}
	}
	ts := func(i int) time.Time { return rs[i].TS.Time }
	if !ts(ends[1] - 1).Before(ts(ends[0] - 1)) {
		t.Errorf("timestamps did not follow the clock back: %v then %v", ts(ends[0]-1), ts(ends[1]-1))
	}
	if ts(ends[2]-1).Sub(ts(ends[1]-1)) < 24*time.Hour {
		t.Errorf("timestamps did not follow the clock forward: %v then %v", ts(ends[1]-1), ts(ends[2]-1))
	}
	t.Logf("%d results across the jumps; timestamps %v, %v, %v", len(rs), ts(ends[0]-1), ts(ends[1]-1), ts(ends[2]-1))
}
