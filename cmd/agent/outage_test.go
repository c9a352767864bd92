package main

import (
	"context"

	"fmt"
	"github.com/fruitcam/fruitcam/internal/config"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/publish"
	"github.com/fruitcam/fruitcam/publish/publishtest"
)

// TestBrokerUnreachable cuts the agent off its broker (Debian's mosquitto
// behind a proxy that resets every connection and refuses new ones) for
// longer than its result queue lasts: the cameras and the pipeline go on
// at full speed, the queue stays bounded, what it cannot hold is dropped
// oldest first and counted, and once the broker is back the agent
// reconnects by itself and delivers the newest results.
func TestBrokerUnreachable(t *testing.T) {
	m := publishtest.StartMosquitto(t)
	proxy := publishtest.NewProxy(t, m.Addr())
	cfg := testConfig(t, fmt.Sprintf(`cameras:
  - name: belt
    source: {type: pattern, width: 96, height: 96, rate: 400}
mqtt:
  enabled: true
  broker: %s
  keepalive: 2s
  stats_interval: 0s
`, proxy.URL()))
	cfg.Infer.Workers, cfg.Infer.Batch.Size = 1, 8
	a, cancel, done := startOn(t, cfg)
	defer stopAgent(t, cancel, done)
	sub := publishtest.Subscribe(t, publishtest.Conn{Broker: m.URL()}, "fruitcam/testbelt/+/result")
	sub.WaitFor(t, "a result", func(publishtest.Message) bool { return true })

	proxy.Cut()
	cutAt := a.stats().Items
	deadline := time.Now().Add(30 * time.Second)
	for a.stats().Items < cutAt+memQueueSize+500 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if d := a.mqtt.depth(); d > memQueueSize {
			t.Fatalf("the result queue holds %d, more than its bound %d", d, memQueueSize)
		}
	}
	st := a.stats()
	if st.Items < cutAt+memQueueSize+500 {
		t.Fatalf("only %d results while cut off: the pipeline slowed down behind the broker", st.Items-cutAt)
	}
	_, dropped := a.mqtt.counts()
	if dropped == 0 {
		t.Fatalf("%d results made while cut off, none dropped: the queue is not bounded", st.Items-cutAt)
	}
	t.Logf("cut off for %d results: queue %d, %d dropped (oldest first), frames skipped %d", st.Items-cutAt, a.mqtt.depth(), dropped, st.Skipped)

	proxy.Resume()
	last := a.stats().Items
	sub.Reset()
	msg := sub.WaitFor(t, "a result made after the outage", func(m publishtest.Message) bool {
		r, err := publish.DecodeResult(m.Payload)
		return err == nil && r.Seq > last && strings.HasSuffix(m.Topic, "/result")
	})
	if r, _ := publish.DecodeResult(msg.Payload); r.Seq <= last {
		t.Errorf("seq %d", r.Seq)
	}
	if a.client.Reconnects() < 1 {
		t.Errorf("reconnects %d", a.client.Reconnects())
	}
}

// writeConfigFile saves cfg as YAML in dir/agent.yaml, for the commands
// that read a config file, and returns its path.
func writeConfigFile(t *testing.T, cfg *config.Config, dir string) string {
	t.Helper()
	b, err := cfg.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startOn runs an agent of cfg in the background; stop it with stopAgent.
func startOn(t *testing.T, cfg *config.Config) (*agent, context.CancelFunc, chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newAgent(ctx, cfg, quietLog(), io.Discard)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.run(ctx) }()
	return a, cancel, done
}

// spoolConfig is an agent publishing to broker with its results in a
// disk queue in dir.
func spoolConfig(t *testing.T, broker, dir string) *config.Config {
	cfg := testConfig(t, fmt.Sprintf(`cameras:
  - name: belt
    source: {type: pattern, width: 96, height: 96, rate: 50}
mqtt:
  enabled: true
  broker: %s
  keepalive: 2s
  stats_interval: 0s
  spool: {dir: %s, sync_every: 50ms}
`, broker, dir))
	cfg.Infer.Workers = 1
	return cfg
}

// TestSpoolSurvivesRestart: results made while the broker is unreachable
// wait on disk through an agent restart and are delivered by the next
// run, whose results continue the seqs: every seq arrives.
func TestSpoolSurvivesRestart(t *testing.T) {
	m := publishtest.StartMosquitto(t)
	proxy := publishtest.NewProxy(t, m.Addr())
	dir := t.TempDir()
	sub := publishtest.Subscribe(t, publishtest.Conn{Broker: m.URL()}, "fruitcam/testbelt/+/result")

	a, cancel, done := startOn(t, spoolConfig(t, proxy.URL(), dir))
	sub.WaitFor(t, "a result", func(publishtest.Message) bool { return true })
	proxy.Cut()
	for n := a.stats().Items; a.stats().Items < n+40; {
		time.Sleep(20 * time.Millisecond)
	}
	stopAgent(t, cancel, done)
	waiting := a.mqtt.depth()
	first := a.stats().Items
	t.Logf("first run: %d results, %d waiting on disk at the stop", first, waiting)
	if waiting == 0 {
		t.Fatal("nothing waiting on disk after a run cut off from the broker")
	}

	proxy.Resume()
	b, cancel, done := startOn(t, spoolConfig(t, proxy.URL(), dir))
	for b.stats().Items < 20 {
		time.Sleep(20 * time.Millisecond)
	}
	stopAgent(t, cancel, done)
	total := first + b.stats().Items
	t.Logf("second run: %d results; %d in all", b.stats().Items, total)
	waitAllResults(t, sub, total)
}

// TestBrokerKilled kills Debian's mosquitto (SIGKILL, as a crash would)
// several times while results flow and restarts it; the agent reconnects
// by itself and, after de-duplication by seq, every result the pipeline
// produced arrives. The agent reaches the broker through a proxy held
// closed until the test's subscriber is back on the restarted broker, so
// that what the agent delivers meanwhile has someone to arrive at.
func TestBrokerKilled(t *testing.T) {
	m := publishtest.StartMosquitto(t)
	proxy := publishtest.NewProxy(t, m.Addr())
	outages := 3
	if testing.Short() {
		outages = 1
	}
	var seen []publishtest.Message
	sub := publishtest.Subscribe(t, publishtest.Conn{Broker: m.URL()}, "fruitcam/testbelt/+/result")
	a, cancel, done := startOn(t, spoolConfig(t, proxy.URL(), t.TempDir()))
	for i := range outages {
		sub.WaitFor(t, fmt.Sprintf("results before outage %d", i+1), func(publishtest.Message) bool { return true })
		time.Sleep(200 * time.Millisecond)
		proxy.Cut()
		m.Kill()
		time.Sleep(500 * time.Millisecond) // results keep coming meanwhile
		m.Start()
		seen = append(seen, sub.Received()...)
		sub = publishtest.Subscribe(t, publishtest.Conn{Broker: m.URL()}, "fruitcam/testbelt/+/result")
		proxy.Resume()
	}
	sub.WaitFor(t, "results after the last outage", func(publishtest.Message) bool { return true })
	stopAgent(t, cancel, done)
	produced := a.stats().Items
	t.Logf("%d outages, %d results, %d reconnections", outages, produced, a.client.Reconnects())
	all := func() []publishtest.Message {
		return append(append([]publishtest.Message(nil), seen...), sub.Received()...)
	}
	waitAllResultsIn(t, all, produced)
	t.Logf("%d results received for %d produced: %d duplicates (resent after a lost acknowledgement), dropped by seq",
		len(all()), produced, len(all())-int(produced))
}
