package main

import (
	"context"
	"fmt"
	"io"
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
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newAgent(ctx, cfg, quietLog(), io.Discard)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.run(ctx) }()
	defer stopAgent(t, cancel, done)
	sub := publishtest.Subscribe(t, publishtest.Conn{Broker: m.URL()}, "fruitcam/testbelt/+/result")
	sub.WaitFor(t, "a result", func(publishtest.Message) bool { return true })

	proxy.Cut()
	cutAt := a.pipe.Stats().Items
	deadline := time.Now().Add(30 * time.Second)
	for a.pipe.Stats().Items < cutAt+mqttQueue+500 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if d := a.mqtt.depth(); d > mqttQueue {
			t.Fatalf("the result queue holds %d, more than its bound %d", d, mqttQueue)
		}
	}
	st := a.pipe.Stats()
	if st.Items < cutAt+mqttQueue+500 {
		t.Fatalf("only %d results while cut off: the pipeline slowed down behind the broker", st.Items-cutAt)
	}
	_, dropped := a.mqtt.counts()
	if dropped == 0 {
		t.Fatalf("%d results made while cut off, none dropped: the queue is not bounded", st.Items-cutAt)
	}
	t.Logf("cut off for %d results: queue %d, %d dropped (oldest first), frames skipped %d", st.Items-cutAt, a.mqtt.depth(), dropped, st.Skipped)

	proxy.Resume()
	last := a.pipe.Stats().Items
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
