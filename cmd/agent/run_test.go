package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/internal/config"
	"github.com/fruitcam/fruitcam/internal/testdata"
	"github.com/fruitcam/fruitcam/publish"
	"github.com/fruitcam/fruitcam/publish/publishtest"
)

// testConfig writes a config for a small fast model over a few Fruits-360
// images and loads it.
func testConfig(t *testing.T, body string) *config.Config {
	t.Helper()
	root := testdata.Root(t)
	yaml := fmt.Sprintf(`version: 1
device: {id: testbelt}
model:
  path: %s/models/coral/mobilenet_v1_0.25_128_quant.tflite
  labels: %s/models/coral/imagenet_labels.txt
  top: 3
infer: {workers: 2, batch: {size: 4, timeout: 20ms}}
%s`, root, root, body)
	yaml = strings.ReplaceAll(yaml, "@IMAGES@", root+"/images/fruits360/Test/Banana/3*_100.jpg")
	p := filepath.Join(t.TempDir(), "agent.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatalf("%v\n%s", err, yaml)
	}
	return cfg
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestRunBatchFolder: a folder source without loop is batch mode: every
// image becomes one result on stdout, numbered without gaps, and the
// agent stops by itself when the folder is done.
func TestRunBatchFolder(t *testing.T) {
	cfg := testConfig(t, `cameras:
  - name: belt
    source: {type: folder, path: "@IMAGES@"}
mqtt: {enabled: false}
stdout: {enabled: true}
`)
	matches, _ := filepath.Glob(cfg.Cameras[0].Source.Path)
	if len(matches) < 3 {
		t.Fatalf("only %d test images match %s", len(matches), cfg.Cameras[0].Source.Path)
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := newAgent(ctx, cfg, quietLog(), &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.run(ctx); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&out)
	n := 0
	for sc.Scan() {
		r, err := publish.DecodeResult(sc.Bytes())
		if err != nil {
			t.Fatalf("line %d: %v: %s", n+1, err, sc.Text())
		}
		n++
		if r.Seq != uint64(n) || r.Camera != "belt" || r.Device != "testbelt" || r.Frames != 1 || len(r.Top) != 3 ||
			r.Model.SHA256 == "" || r.Backend != "native" || r.LatencyMS.Inference <= 0 {
			t.Errorf("result %d: %+v", n, r)
		}
	}
	if n != len(matches) {
		t.Errorf("%d results for %d images", n, len(matches))
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// embeddedMQTT is the mqtt section of a test config: the agent's own
// broker on addr, with the agent's user and an operator (password v1ew).
func embeddedMQTT(t *testing.T, addr string) string {
	t.Setenv("AGENT_TEST_PW", "s3cret")
	t.Setenv("VIEWER_TEST_PW", "v1ew")
	return fmt.Sprintf(`mqtt:
  enabled: true
  broker: tcp://%[1]s
  username: agent
  password_env: AGENT_TEST_PW
  stats_interval: 100ms
  embedded:
    enabled: true
    listen: %[1]s
    users:
      - {username: agent, password_env: AGENT_TEST_PW}
      - {username: operator, password_env: VIEWER_TEST_PW}
`, addr)
}

// startAgent runs the agent of cfg in the background and subscribes to
// its device as the operator of embeddedMQTT.
func startAgent(t *testing.T, cfg *config.Config, addr string) (*agent, *publishtest.Subscriber, context.CancelFunc, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newAgent(ctx, cfg, quietLog(), io.Discard)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	// Paused until the operator is subscribed: results are not retained,
	// and one published before the subscription would never reach it.
	a.paused.Store(true)
	done := make(chan error, 1)
	go func() { done <- a.run(ctx) }()
	sub := publishtest.Subscribe(t, publishtest.Conn{Broker: "tcp://" + addr, Username: "operator", Password: "v1ew"}, "fruitcam/testbelt/#")
	a.paused.Store(false)
	return a, sub, cancel, done
}

// stopAgent cancels a running agent and waits for run to return, without
// an error, within 30 s.
func stopAgent(t *testing.T, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the agent did not stop")
	}
}

// TestRunMQTT runs the agent with its embedded broker and watches it as an
// operator would: online, results and labels, a command, and on shutdown
// every result published before "offline".
func TestRunMQTT(t *testing.T) {
	addr := freePort(t)
	cfg := testConfig(t, `cameras:
  - name: belt
    source: {type: folder, path: "@IMAGES@", rate: 40, loop: true}
`+embeddedMQTT(t, addr))
	a, sub, cancel, done := startAgent(t, cfg, addr)
	defer cancel()
	sub.Expect(t, "fruitcam/testbelt/status", "online")
	var last uint64
	for range 5 {
		m := sub.WaitFor(t, "a result", func(m publishtest.Message) bool { return strings.HasSuffix(m.Topic, "/belt/result") })
		r, err := publish.DecodeResult(m.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if r.Seq <= last {
			t.Errorf("seq %d after %d", r.Seq, last)
		}
		last = r.Seq
	}
	sub.WaitFor(t, "a label", func(m publishtest.Message) bool { return m.Topic == "fruitcam/testbelt/belt/label" })
	sub.WaitFor(t, "stats", func(m publishtest.Message) bool {
		if m.Topic != "fruitcam/testbelt/stats" {
			return false
		}
		st, err := publish.DecodeStats(m.Payload)
		return err == nil && st.Health["mqtt"] == publish.HealthOK && st.Health["camera:belt"] == publish.HealthOK
	})

	sub.Publish(t, "fruitcam/testbelt/cmd/pause", []byte(`{"id":"p1"}`))
	m := sub.WaitFor(t, "the pause reply", func(m publishtest.Message) bool { return m.Topic == "fruitcam/testbelt/cmd/pause/reply" })
	if rep, err := publish.DecodeReply(m.Payload); err != nil || !rep.OK || rep.ID != "p1" {
		t.Errorf("pause reply %s (%v)", m.Payload, err)
	}
	sub.Publish(t, "fruitcam/testbelt/cmd/snapshot", nil)
	m = sub.WaitFor(t, "the snapshot reply", func(m publishtest.Message) bool { return m.Topic == "fruitcam/testbelt/cmd/snapshot/reply" })
	rep, err := publish.DecodeReply(m.Payload)
	if err != nil || !rep.OK {
		t.Fatalf("snapshot reply %.200s (%v)", m.Payload, err)
	}
	var snap struct {
		Camera        string
		Width, Height int
		JPEG          []byte
	}
	if err := json.Unmarshal(rep.Data, &snap); err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(snap.JPEG))
	if err != nil || snap.Camera != "belt" || img.Bounds().Dx() != snap.Width || snap.Width != 100 {
		t.Errorf("snapshot %s %dx%d: %v", snap.Camera, snap.Width, snap.Height, err)
	}
	sub.Publish(t, "fruitcam/testbelt/cmd/resume", nil)
	sub.WaitFor(t, "the resume reply", func(m publishtest.Message) bool { return m.Topic == "fruitcam/testbelt/cmd/resume/reply" })
	sub.Publish(t, "fruitcam/testbelt/cmd/trigger", nil)
	m = sub.WaitFor(t, "the trigger reply", func(m publishtest.Message) bool { return m.Topic == "fruitcam/testbelt/cmd/trigger/reply" })
	if rep, _ := publish.DecodeReply(m.Payload); rep.OK {
		t.Errorf("trigger on a camera without an mqtt trigger succeeded: %s", m.Payload)
	}

	stopAgent(t, cancel, done)
	// Every result the pipeline produced was published before "offline".
	waitAllResults(t, sub, a.stats().Items)
}

// waitAllResults waits up to 10 s until the subscriber has every result
// seq from 1 to produced, in whatever order the broker forwarded them (QoS
// 1 does not keep order when a message is resent; consumers order by seq),
// and none beyond.
func waitAllResults(t *testing.T, sub *publishtest.Subscriber, produced uint64) {
	t.Helper()
	waitAllResultsIn(t, sub.Received, produced)
}

// waitAllResultsIn is waitAllResults over the messages received returns.
func waitAllResultsIn(t *testing.T, received func() []publishtest.Message, produced uint64) {
	t.Helper()
	var missing []uint64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		seen := map[uint64]bool{}
		for _, m := range received() {
			var r struct{ Seq uint64 }
			if strings.HasSuffix(m.Topic, "/result") && json.Unmarshal(m.Payload, &r) == nil {
				seen[r.Seq] = true
			}
		}
		missing = missing[:0]
		for seq := uint64(1); seq <= produced; seq++ {
			if !seen[seq] {
				missing = append(missing, seq)
			}
		}
		if len(missing) == 0 && uint64(len(seen)) == produced || time.Now().After(deadline) {
			if uint64(len(seen)) > produced {
				t.Errorf("received %d distinct results, the pipeline produced %d", len(seen), produced)
			}
			break
		}
	}
	if len(missing) > 0 {
		t.Errorf("the pipeline produced %d results; never received: seq %v", produced, missing)
	}
}

// TestRunMQTTTrigger: a camera triggered by the trigger command takes one
// item of two frames per command, and only then.
func TestRunMQTTTrigger(t *testing.T) {
	addr := freePort(t)
	cfg := testConfig(t, `cameras:
  - name: gate
    source: {type: pattern, width: 320, height: 240, rate: 30}
    trigger: {type: mqtt, frames: 2}
`+embeddedMQTT(t, addr))
	_, sub, cancel, done := startAgent(t, cfg, addr)
	defer cancel()
	sub.Expect(t, "fruitcam/testbelt/status", "online")
	for i := 1; i <= 2; i++ {
		sub.Publish(t, "fruitcam/testbelt/cmd/trigger", []byte(`{"camera":"gate"}`))
		m := sub.WaitFor(t, "a result", func(m publishtest.Message) bool { return m.Topic == "fruitcam/testbelt/gate/result" })
		r, err := publish.DecodeResult(m.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if r.Seq != uint64(i) || r.Item != uint64(i) || r.Frames != 2 {
			t.Errorf("trigger %d: result seq %d item %d frames %d, want %d, %d, 2", i, r.Seq, r.Item, r.Frames, i, i)
		}
	}
	if _, ok := sub.Poll(300*time.Millisecond, func(m publishtest.Message) bool { return m.Topic == "fruitcam/testbelt/gate/result" }); ok {
		t.Error("a result without a trigger")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestStartupErrorClosesWhatWasBuilt: a camera that cannot be opened,
// after the embedded broker started, is a startup error (not a panic:
// newAgent's returns set its result to nil before the cleanup runs), and
// the broker's port is free again.
func TestStartupErrorClosesWhatWasBuilt(t *testing.T) {
	addr := freePort(t)
	cfg := testConfig(t, `cameras:
  - name: belt
    source: {type: folder, path: /nonexistent-fruitcam/*.jpg}
`+embeddedMQTT(t, addr))
	a, err := newAgent(t.Context(), cfg, quietLog(), io.Discard)
	if err == nil || a != nil || !strings.Contains(err.Error(), "camera belt") {
		t.Fatalf("newAgent = %v, %v; want the camera's error", a, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the embedded broker still holds %s: %v", addr, err)
	}
	ln.Close()
}
