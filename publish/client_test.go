package publish_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/publish"
	"github.com/fruitcam/fruitcam/publish/publishtest"
)

// env is one broker the conformance suite runs against.
type env struct {
	url      string // tcp://host:port
	addr     string // host:port
	agent    publishtest.Conn
	viewer   publishtest.Conn // may read <prefix>/#
	operator publishtest.Conn // may also send commands
	restart  func(t *testing.T)
}

const device = "dev1"

func (e *env) conn(c publishtest.Conn) publishtest.Conn {
	c.Broker = e.url
	return c
}

// embedded starts the embedded broker with the users agent, viewer and
// operator.
func embedded(t *testing.T) *env {
	t.Helper()
	o := publish.BrokerOptions{
		Listen:    "127.0.0.1:0",
		Device:    device,
		Users:     map[string]string{"agent": "agent-secret", "viewer": "viewer-secret", "operator": "operator-secret"},
		Agent:     "agent",
		Operators: []string{"operator"},
	}
	b := newBroker(t, o)
	t.Cleanup(func() { b.Close() }) // whichever b is current: registered before the clients' cleanups
	e := &env{
		url:      b.URL(),
		addr:     b.Addr(),
		agent:    publishtest.Conn{Username: "agent", Password: "agent-secret"},
		viewer:   publishtest.Conn{Username: "viewer", Password: "viewer-secret"},
		operator: publishtest.Conn{Username: "operator", Password: "operator-secret"},
	}
	e.restart = func(t *testing.T) {
		t.Helper()
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		o.Listen = e.addr
		b = newBroker(t, o)
	}
	return e
}

// startBroker starts a broker that is closed at cleanup, after the
// clients connected later.
func startBroker(t *testing.T, o publish.BrokerOptions) *publish.Broker {
	t.Helper()
	b := newBroker(t, o)
	t.Cleanup(func() { b.Close() })
	return b
}

func newBroker(t *testing.T, o publish.BrokerOptions) *publish.Broker {
	t.Helper()
	b, err := publish.StartBroker(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mosquitto starts Debian's mosquitto, anonymous.
func mosquitto(t *testing.T) *env {
	t.Helper()
	m := publishtest.StartMosquitto(t)
	return &env{
		url:  m.URL(),
		addr: m.Addr(),
		restart: func(t *testing.T) {
			t.Helper()
			m.Kill()
			m.Start()
		},
	}
}

func TestEmbeddedBroker(t *testing.T) { runSuite(t, embedded) }
func TestMosquitto(t *testing.T)      { runSuite(t, mosquitto) }

// runSuite is the conformance suite every broker passes.
func runSuite(t *testing.T, newEnv func(*testing.T) *env) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *env)
	}{
		{"publish", testPublish},
		{"last-will", testLastWill},
		{"broker-restart", testBrokerRestart},
		{"commands", testCommands},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newEnv(t)) })
	}
}

var topics = func() publish.Topics {
	tp, err := publish.NewTopics("", device)
	if err != nil {
		panic(err)
	}
	return tp
}()

// connect connects the agent through broker (a URL) and closes it at
// cleanup.
func connect(t *testing.T, e *env, broker string) *publish.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), publishtest.Wait)
	defer cancel()
	c, err := publish.Connect(ctx, agentOptions(e, broker))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeClient(t, c) })
	return c
}

func agentOptions(e *env, broker string) publish.Options {
	return publish.Options{
		Broker:               broker,
		Device:               device,
		Username:             e.agent.Username,
		Password:             e.agent.Password,
		KeepAlive:            5 * time.Second,
		ConnectTimeout:       5 * time.Second,
		PublishTimeout:       5 * time.Second,
		MaxReconnectInterval: 20 * time.Millisecond,
		Logger:               slog.New(slog.DiscardHandler),
	}
}

func closeClient(t *testing.T, c *publish.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), publishtest.Wait)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), publishtest.Wait)
	t.Cleanup(cancel)
	return ctx
}

var meta = publish.Meta{
	Device:  device,
	Model:   publish.Model{Name: "mobilenet_v2_1.0_224_quant", Version: "1", SHA256: strings.Repeat("ab", 32)},
	Backend: "native",
}

func item(seq uint64, label string) publish.Item {
	return publish.Item{
		Camera: "belt1", Seq: seq, ID: seq + 100, Frames: 3, Label: label, Score: 0.75,
		Top:      []publish.Class{{Label: label, Score: 0.75}, {Label: "Plum", Score: 0.25}},
		Captured: time.Now().Add(-40 * time.Millisecond), Inference: 12 * time.Millisecond,
	}
}

func testPublish(t *testing.T, e *env) {
	ctx := ctxT(t)
	sub := publishtest.Subscribe(t, e.conn(e.viewer), topics.DeviceFilter())
	c := connect(t, e, e.url)
	sub.Expect(t, topics.Status(), publish.StatusOnline)

	if err := c.Result(ctx, "belt1", publish.NewResult(meta, item(1, "Banana"), time.Now())); err != nil {
		t.Fatal(err)
	}
	m := sub.ExpectTopic(t, topics.Result("belt1"))
	r, err := publish.DecodeResult(m.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if r.Schema != publish.Schema || r.Seq != 1 || r.Item != 101 || r.Frames != 3 || r.Label != "Banana" ||
		r.Device != device || r.Camera != "belt1" || len(r.Top) != 2 || r.Model != meta.Model || r.Backend != "native" {
		t.Errorf("result: got %+v", r)
	}
	if r.LatencyMS.CaptureToPublish < 40 || r.LatencyMS.Inference != 12 {
		t.Errorf("latency_ms: got %+v, want capture_to_publish >= 40 and inference 12", r.LatencyMS)
	}
	if m.Retained {
		t.Errorf("result was retained")
	}

	// The label goes out once per change.
	for _, l := range []string{"Banana", "Banana", "Kiwi"} {
		if err := c.Label(ctx, "belt1", l); err != nil {
			t.Fatal(err)
		}
	}
	// QoS 1 is at least once: a message may arrive twice (the broker or
	// client re-sends when an acknowledgement is slow, as under -race), so
	// compare the labels with repeats folded.
	var labels []string
	for len(labels) == 0 || labels[len(labels)-1] != "Kiwi" {
		got := string(sub.ExpectTopic(t, topics.Label("belt1")).Payload)
		if len(labels) == 0 || labels[len(labels)-1] != got {
			labels = append(labels, got)
		}
		if len(labels) > 2 {
			break
		}
	}
	if strings.Join(labels, ",") != "Banana,Kiwi" {
		t.Errorf("labels %v, want [Banana Kiwi]", labels)
	}

	st := publish.NewStats(meta, publish.Counters{Uptime: 90 * time.Second, FramesIn: 30, Processed: 29.5, Skipped: 0.5,
		QueueDepth: 2, InferenceP50: 11 * time.Millisecond, InferenceP99: 19 * time.Millisecond,
		Health: map[string]string{"camera:belt1": publish.HealthOK}}, time.Now())
	if err := c.Stats(ctx, st); err != nil {
		t.Fatal(err)
	}
	s, err := publish.DecodeStats(sub.ExpectTopic(t, topics.Stats()).Payload)
	if err != nil {
		t.Fatal(err)
	}
	if s.UptimeS != 90 || s.FPS.Processed != 29.5 || s.Health["camera:belt1"] != "ok" || s.Device != device {
		t.Errorf("stats: got %+v", s)
	}

	// A late subscriber sees the retained state.
	late := publishtest.Subscribe(t, e.conn(e.viewer), topics.Status(), topics.Label("belt1"))
	for _, m := range expectAll(t, late,
		publishtest.Message{Topic: topics.Status(), Payload: []byte("online")},
		publishtest.Message{Topic: topics.Label("belt1"), Payload: []byte("Kiwi")}) {
		if !m.Retained {
			t.Errorf("%v: want retained", m)
		}
	}

	closeClient(t, c)
	sub.Expect(t, topics.Status(), publish.StatusOffline)
	if err := c.Result(ctx, "belt1", publish.NewResult(meta, item(2, "Kiwi"), time.Now())); !errors.Is(err, publish.ErrClosed) {
		t.Errorf("Result after Close: got %v, want ErrClosed", err)
	}
}

// expectAll waits until a message with each wanted topic and payload (any
// payload when nil) has arrived, in any order, and returns them in arrival
// order.
func expectAll(t *testing.T, s *publishtest.Subscriber, want ...publishtest.Message) []publishtest.Message {
	t.Helper()
	var got []publishtest.Message
	for len(want) > 0 {
		m, ok := s.Poll(publishtest.Wait, func(m publishtest.Message) bool {
			return slices.ContainsFunc(want, func(w publishtest.Message) bool {
				return w.Topic == m.Topic && (w.Payload == nil || string(w.Payload) == string(m.Payload))
			})
		})
		if !ok {
			t.Fatalf("still waiting for %v; received %v", want, s.Received())
		}
		got = append(got, m)
		want = slices.DeleteFunc(want, func(w publishtest.Message) bool { return w.Topic == m.Topic })
	}
	return got
}

func testLastWill(t *testing.T, e *env) {
	ctx := ctxT(t)
	proxy := publishtest.NewProxy(t, e.addr)
	sub := publishtest.Subscribe(t, e.conn(e.viewer), topics.DeviceFilter())
	c := connect(t, e, proxy.URL())
	sub.Expect(t, topics.Status(), publish.StatusOnline)

	proxy.Cut() // the broker loses the agent without a DISCONNECT
	sub.Expect(t, topics.Status(), publish.StatusOffline)
	waitFor(t, "the client to notice the lost connection", func() bool { return !c.Connected() })

	// QoS 1 waits in memory for the connection to come back.
	sent := make(chan error, 1)
	go func() { sent <- c.Result(ctx, "belt1", publish.NewResult(meta, item(2, "Kiwi"), time.Now())) }()
	proxy.Resume()
	// paho re-sends what it kept as soon as the connection is back, before
	// or after the client's "online": either order is fine.
	got := expectAll(t, sub,
		publishtest.Message{Topic: topics.Status(), Payload: []byte(publish.StatusOnline)},
		publishtest.Message{Topic: topics.Result("belt1"), Payload: nil})
	if err := <-sent; err != nil {
		t.Fatalf("result sent during the outage: %v", err)
	}
	for _, m := range got {
		if m.Topic != topics.Result("belt1") {
			continue
		}
		if r, err := publish.DecodeResult(m.Payload); err != nil || r.Seq != 2 {
			t.Errorf("result sent during the outage: got %+v, %v", r, err)
		}
	}
	if !c.Connected() {
		t.Errorf("Connected: got false after reconnecting")
	}
}

// TestQoS0DroppedWhileReconnecting documents paho's behaviour: a QoS 0
// message published while the connection is down is lost.
func TestQoS0DroppedWhileReconnecting(t *testing.T) {
	e := embedded(t)
	ctx := ctxT(t)
	proxy := publishtest.NewProxy(t, e.addr)
	sub := publishtest.Subscribe(t, e.conn(e.viewer), topics.DeviceFilter())
	o := agentOptions(e, proxy.URL())
	o.QoS = publish.AtMostOnce
	c, err := publish.Connect(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeClient(t, c) })
	sub.Expect(t, topics.Status(), publish.StatusOnline)
	proxy.Cut()
	waitFor(t, "the client to notice the lost connection", func() bool { return !c.Connected() })
	if err := c.Result(ctx, "belt1", publish.NewResult(meta, item(1, "Lost"), time.Now())); err != nil {
		t.Fatalf("QoS 0 result while reconnecting: got %v, want nil (paho drops it silently)", err)
	}
	proxy.Resume()
	sub.Expect(t, topics.Status(), publish.StatusOnline)
	// QoS 0 promises nothing even when connected (a message published in
	// the instant paho finishes reconnecting may go too), so send seq 2
	// until one arrives: what matters is that seq 1 never does.
	var got publishtest.Message
	for i := 0; ; i++ {
		if err := c.Result(ctx, "belt1", publish.NewResult(meta, item(2, "Kept"), time.Now())); err != nil {
			t.Fatal(err)
		}
		m, ok := sub.Poll(500*time.Millisecond, func(m publishtest.Message) bool { return m.Topic == topics.Result("belt1") })
		if ok {
			got = m
			break
		}
		if i == 20 {
			t.Fatal("no QoS 0 result arrived after the reconnection")
		}
	}
	r, err := publish.DecodeResult(got.Payload)
	if err != nil || r.Seq != 2 {
		t.Errorf("first result after the outage: got %+v, %v; want seq 2 (seq 1 dropped)", r, err)
	}
}

// waitFor polls cond, a state without an event to wait on, until it holds
// or publishtest.Wait has passed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(publishtest.Wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func testBrokerRestart(t *testing.T, e *env) {
	ctx := ctxT(t)
	c := connect(t, e, e.url)
	calls := make(chan string, 4)
	err := c.Commands(ctx, func(name string, _ []byte) ([]byte, error) {
		calls <- name
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Label(ctx, "belt1", "Plum"); err != nil {
		t.Fatal(err)
	}

	e.restart(t) // retained messages and subscriptions are gone with it

	sub := publishtest.Subscribe(t, e.conn(e.operator), topics.DeviceFilter())
	// The agent reconnects and restores its state: label, then online.
	expectAll(t, sub,
		publishtest.Message{Topic: topics.Label("belt1"), Payload: []byte("Plum")},
		publishtest.Message{Topic: topics.Status(), Payload: []byte("online")})
	// ... and its command subscription.
	sub.Publish(t, topics.Command(publish.CmdPause), []byte(`{"id":"r1"}`))
	rep, err := publish.DecodeReply(sub.ExpectTopic(t, topics.Reply(publish.CmdPause)).Payload)
	if err != nil || !rep.OK || rep.ID != "r1" {
		t.Errorf("reply after restart: got %+v, %v", rep, err)
	}
	if got := <-calls; got != publish.CmdPause {
		t.Errorf("handler: got %q, want %q", got, publish.CmdPause)
	}
}

func testCommands(t *testing.T, e *env) {
	ctx := ctxT(t)
	c := connect(t, e, e.url)
	var mu sync.Mutex
	var calls []string
	err := c.Commands(ctx, func(name string, payload []byte) ([]byte, error) {
		mu.Lock()
		calls = append(calls, name)
		mu.Unlock()
		cmd, err := publish.DecodeCommand(payload)
		if err != nil {
			return nil, err
		}
		switch name {
		case publish.CmdPause:
			return []byte(fmt.Sprintf(`{"paused": true, "camera": %q}`, cmd.Camera)), nil
		case publish.CmdSnapshot:
			return []byte("not json"), nil
		}
		return nil, fmt.Errorf("%w: %q", publish.ErrUnknownCommand, name)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Commands(ctx, func(string, []byte) ([]byte, error) { return nil, nil }); err == nil {
		t.Errorf("second Commands: got nil error")
	}

	op := publishtest.Subscribe(t, e.conn(e.operator), topics.Reply("+"))
	for _, tc := range []struct {
		name, payload string
		want          publish.Reply
	}{
		{publish.CmdPause, `{"id":"7","camera":"belt1"}`, publish.Reply{ID: "7", OK: true, Data: []byte(`{"paused":true,"camera":"belt1"}`)}},
		{publish.CmdSnapshot, ``, publish.Reply{OK: true, Data: []byte(`"not json"`)}},
		{"bogus", `{"id":"8"}`, publish.Reply{ID: "8", Error: "publish: unknown command"}},
		{publish.CmdPause, `{"id":"9","colour":"red"}`, publish.Reply{Error: `unknown field "colour"`}},
		{publish.CmdTrigger, `{`, publish.Reply{Error: "want nothing or a JSON object"}},
	} {
		op.Publish(t, topics.Command(tc.name), []byte(tc.payload))
		got, err := publish.DecodeReply(op.ExpectTopic(t, topics.Reply(tc.name)).Payload)
		if err != nil {
			t.Fatal(err)
		}
		if got.Command != tc.name || got.Device != device || got.ID != tc.want.ID || got.OK != tc.want.OK ||
			string(got.Data) != string(tc.want.Data) || !strings.Contains(got.Error, tc.want.Error) || (tc.want.Error == "") != (got.Error == "") {
			t.Errorf("%s %s: got %+v, want %+v", tc.name, tc.payload, got, tc.want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// Malformed payloads never reach the handler.
	if want := []string{"pause", "snapshot", "bogus"}; !slices.Equal(calls, want) {
		t.Errorf("handler calls: got %v, want %v", calls, want)
	}
}

// TestTLSFiles: the files' problems are named.
func TestTLSFiles(t *testing.T) {
	pki, other := publishtest.NewCerts(t, t.TempDir()), publishtest.NewCerts(t, t.TempDir())
	for _, tc := range []struct {
		name  string
		files publish.TLSFiles
		want  string
	}{
		{"none", publish.TLSFiles{}, ""},
		{"ca", publish.TLSFiles{CA: pki.CA}, ""},
		{"client", publish.TLSFiles{CA: pki.CA, Cert: pki.ClientCert, Key: pki.ClientKey}, ""},
		{"missing ca", publish.TLSFiles{CA: "/nonexistent/ca.pem"}, "TLS CA: open /nonexistent/ca.pem"},
		{"ca is a key", publish.TLSFiles{CA: pki.ClientKey}, "holds no PEM certificate"},
		{"cert without key", publish.TLSFiles{Cert: pki.ClientCert}, "needs both"},
		{"key of another", publish.TLSFiles{Cert: pki.ClientCert, Key: other.ClientKey}, "private key does not match public key"},
	} {
		c, err := tc.files.Config()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want == "" && c.MinVersion != tls.VersionTLS12:
			t.Errorf("%s: min version %x", tc.name, c.MinVersion)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one with %q", tc.name, err, tc.want)
		}
	}
}

// TestMosquittoTransports connects over WebSockets and TLS, with and
// without a client certificate, and is refused with the wrong CA or
// without the certificate a broker requires.
func TestMosquittoTransports(t *testing.T) {
	m := publishtest.StartMosquitto(t)
	e := &env{url: m.URL()}
	pki, other := m.Certs(), publishtest.NewCerts(t, t.TempDir())
	files := func(f publish.TLSFiles) *tls.Config {
		c, err := f.Config()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, tc := range []struct {
		name, url string
		tls       *tls.Config
		fails     string
	}{
		{"ws", m.WebSocketURL(), nil, ""},
		{"ssl", m.TLSURL(), m.TLSConfig(), ""},
		{"ssl-untrusted", m.TLSURL(), nil, "certificate"},
		{"ssl-files", m.TLSURL(), files(publish.TLSFiles{CA: pki.CA}), ""},
		{"ssl-wrong-ca", m.TLSURL(), files(publish.TLSFiles{CA: other.CA}), "certificate signed by unknown authority"},
		{"ssl-wrong-name", m.TLSURL(), files(publish.TLSFiles{CA: pki.CA, ServerName: "broker.example"}), "wanted to match broker.example"},
		{"mtls", m.MTLSURL(), files(publish.TLSFiles{CA: pki.CA, Cert: pki.ClientCert, Key: pki.ClientKey}), ""},
		{"mtls-without-client-cert", m.MTLSURL(), files(publish.TLSFiles{CA: pki.CA}), "certificate required|connection reset"},
		{"mtls-foreign-client-cert", m.MTLSURL(), files(publish.TLSFiles{CA: pki.CA, Cert: other.ClientCert, Key: other.ClientKey}), "unknown certificate authority|connection reset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := publishtest.Subscribe(t, publishtest.Conn{Broker: m.URL()}, topics.DeviceFilter())
			o := agentOptions(e, tc.url)
			o.TLS = tc.tls
			c, err := publish.Connect(ctxT(t), o)
			if tc.fails != "" {
				if err == nil {
					closeClient(t, c)
					t.Fatalf("Connect: got nil error, want one about %s", tc.fails)
				}
				// With TLS 1.3 the broker checks the client's certificate
				// after the client thinks the handshake is done: the
				// alert, or a reset connection, comes first.
				if !slices.ContainsFunc(strings.Split(tc.fails, "|"), func(s string) bool { return strings.Contains(err.Error(), s) }) {
					t.Errorf("Connect: got %v, want it to mention %s", err, tc.fails)
				}
				t.Logf("refused: %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sub.Expect(t, topics.Status(), publish.StatusOnline)
			if err := c.Result(ctxT(t), "belt1", publish.NewResult(meta, item(5, "Kiwi"), time.Now())); err != nil {
				t.Fatal(err)
			}
			sub.ExpectTopic(t, topics.Result("belt1"))
			closeClient(t, c)
			sub.Expect(t, topics.Status(), publish.StatusOffline)
		})
	}
}
