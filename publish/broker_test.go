package publish_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/publish"
	"github.com/fruitcam/fruitcam/publish/publishtest"
)

func TestBrokerAuthFailure(t *testing.T) {
	e := embedded(t)
	for _, tc := range []struct {
		name     string
		user, pw string
	}{
		{"wrong password", "agent", "guess"},
		{"unknown user", "mallory", "agent-secret"},
		{"no credentials", "", ""},
		{"password of another user", "agent", "viewer-secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := agentOptions(e, e.url)
			o.Username, o.Password = tc.user, tc.pw
			c, err := publish.Connect(context.Background(), o)
			if err == nil {
				c.Close(context.Background())
				t.Fatal("Connect: got nil error")
			}
			if !strings.Contains(err.Error(), "check the MQTT username and password") {
				t.Errorf("Connect: got %v, want a hint about the credentials", err)
			}
		})
	}
}

func TestBrokerACL(t *testing.T) {
	e := embedded(t)
	viewer := publishtest.Subscribe(t, e.conn(e.viewer))
	for _, tc := range []struct {
		filter  string
		granted bool
	}{
		{"fruitcam/#", true},
		{"fruitcam/+/status", true},
		{"fruitcam/dev2/belt1/result", true},
		{"#", false},
		{"+/dev1/status", false},
		{"$SYS/#", false},
		{"other/topic", false},
	} {
		code := viewer.TrySubscribe(t, tc.filter)
		if got := code != 0x80; got != tc.granted {
			t.Errorf("viewer subscribes to %s: got SUBACK %#x, want granted %v", tc.filter, code, tc.granted)
		}
	}

	// The agent's QoS 0 publications outside its device are dropped; the
	// marker that follows on the same connection arrives, so anything
	// delivered before it would have been seen first.
	agent := publishtest.Dial(t, e.conn(e.agent))
	publishtest.Publish(t, agent, "fruitcam/dev2/belt1/result", 0, false, []byte("foreign device"))
	publishtest.Publish(t, agent, "fruitcam/dev2/status", 0, true, []byte("online"))
	publishtest.Publish(t, agent, "fruitcam/dev1/marker", 1, false, []byte("marker"))
	if m := viewer.Next(t); m.Topic != "fruitcam/dev1/marker" {
		t.Errorf("viewer received %v before the marker; the ACL let a foreign topic through", m)
	}

	// A denied QoS 1 publication ends an MQTT 3.1.1 connection.
	for _, tc := range []struct {
		who   publishtest.Conn
		topic string
	}{
		{e.agent, "other/topic"},
		{e.agent, "fruitcam/dev2/cmd/pause"},
		{e.viewer, "fruitcam/dev1/cmd/pause"},
		{e.operator, "fruitcam/dev1/belt1/result"},
		{e.operator, "fruitcam/dev1/cmd/pause/reply"},
	} {
		lost := make(chan error, 1)
		cl, err := publishtest.TryDial(e.conn(tc.who), func(err error) { lost <- err })
		if err != nil {
			t.Fatal(err)
		}
		cl.Publish(tc.topic, 1, false, []byte("x"))
		select {
		case <-lost:
		case <-time.After(publishtest.Wait):
			t.Errorf("%s publishing on %s: still connected, want the broker to refuse", tc.who.Username, tc.topic)
		}
		cl.Disconnect(0)
	}

	// The operator's command reaches the agent.
	agentSub := publishtest.Subscribe(t, e.conn(e.agent), "fruitcam/dev1/cmd/+")
	op := publishtest.Dial(t, e.conn(e.operator))
	publishtest.Publish(t, op, "fruitcam/dev1/cmd/trigger", 1, false, []byte(`{"id":"1"}`))
	agentSub.Expect(t, "fruitcam/dev1/cmd/trigger", `{"id":"1"}`)

	// A will is a publication too: one on a topic the user may not write
	// refuses the connection.
	c := e.conn(e.agent)
	c.WillTopic, c.WillPayload = "other/status", "offline"
	if _, err := publishtest.TryDial(c, nil); err == nil {
		t.Errorf("agent with a will on other/status: connected, want refused")
	}
}

func TestAnonymousBroker(t *testing.T) {
	b := startBroker(t, publish.BrokerOptions{Listen: "127.0.0.1:0", Device: device})
	sub := publishtest.Subscribe(t, publishtest.Conn{Broker: b.URL()}, "fruitcam/#")
	if code := sub.TrySubscribe(t, "#"); code != 0x80 {
		t.Errorf("anonymous subscription to #: got SUBACK %#x, want 0x80", code)
	}
	e := &env{url: b.URL()}
	c := connect(t, e, b.URL())
	sub.Expect(t, topics.Status(), publish.StatusOnline)
	if err := c.Label(context.Background(), "belt1", "Lemon"); err != nil {
		t.Fatal(err)
	}
	sub.Expect(t, topics.Label("belt1"), "Lemon")
}

func TestStartBrokerErrors(t *testing.T) {
	b := startBroker(t, publish.BrokerOptions{Listen: "127.0.0.1:0", Device: device})
	users := map[string]string{"agent": "a", "viewer": "v"}
	for _, tc := range []struct {
		name string
		o    publish.BrokerOptions
		want string
	}{
		{"no device", publish.BrokerOptions{Listen: "127.0.0.1:0"}, "device name is empty"},
		{"bad device", publish.BrokerOptions{Listen: "127.0.0.1:0", Device: "a/b"}, "contains '/'"},
		{"agent not a user", publish.BrokerOptions{Listen: "127.0.0.1:0", Device: device, Users: users, Agent: "bob"}, `Agent "bob" is not one of the users [agent, viewer]`},
		{"no agent", publish.BrokerOptions{Listen: "127.0.0.1:0", Device: device, Users: users}, `Agent "" is not one of the users`},
		{"operator not a user", publish.BrokerOptions{Listen: "127.0.0.1:0", Device: device, Users: users, Agent: "agent", Operators: []string{"eve"}}, `operator "eve"`},
		{"empty password", publish.BrokerOptions{Listen: "127.0.0.1:0", Device: device, Users: map[string]string{"agent": ""}, Agent: "agent"}, "empty name or password"},
		{"agent without users", publish.BrokerOptions{Listen: "127.0.0.1:0", Device: device, Agent: "agent"}, "need Users"},
		{"port in use", publish.BrokerOptions{Listen: b.Addr(), Device: device}, "is another broker running there"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := publish.StartBroker(context.Background(), tc.o)
			if err == nil {
				b.Close()
				t.Fatalf("got nil error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestConnectOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    publish.Options
		want string
	}{
		{"no broker", publish.Options{Device: device}, "no broker URL"},
		{"bad scheme", publish.Options{Broker: "http://x:1", Device: device}, `scheme "http" is not supported`},
		{"no host", publish.Options{Broker: "tcp://", Device: device}, "has no host"},
		{"no device", publish.Options{Broker: "tcp://127.0.0.1:1"}, "device name is empty"},
		{"wildcard device", publish.Options{Broker: "tcp://127.0.0.1:1", Device: "+"}, "contains '/', '+', '#'"},
		{"bad prefix", publish.Options{Broker: "tcp://127.0.0.1:1", Device: device, Prefix: "a//b"}, "topic prefix"},
		{"negative timeout", publish.Options{Broker: "tcp://127.0.0.1:1", Device: device, PublishTimeout: -1}, "PublishTimeout is negative"},
		{"short keepalive", publish.Options{Broker: "tcp://127.0.0.1:1", Device: device, KeepAlive: time.Millisecond}, "one-second resolution"},
		{"bad qos", publish.Options{Broker: "tcp://127.0.0.1:1", Device: device, QoS: 9}, "QoS value 9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := publish.Connect(context.Background(), tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestConnectHonoursContext(t *testing.T) {
	// A listener that accepts and never answers: the CONNECT hangs.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = publish.Connect(ctx, agentOptions(&env{}, "tcp://"+ln.Addr().String()))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Connect to a silent listener: got %v, want context.DeadlineExceeded", err)
	}

	// Nothing listening: the attempt fails promptly with the broker named.
	_, err = publish.Connect(context.Background(), agentOptions(&env{}, "tcp://"+closedAddr(t)))
	if err == nil || !strings.Contains(err.Error(), "connect to tcp://") {
		t.Errorf("Connect to a closed port: got %v", err)
	}
}

func closedAddr(t *testing.T) string {
	b := newBroker(t, publish.BrokerOptions{Listen: "127.0.0.1:0", Device: device})
	addr := b.Addr()
	b.Close()
	return addr
}

func TestQoSLevel(t *testing.T) {
	for n := 0; n <= 2; n++ {
		q, err := publish.QoSLevel(n)
		if err != nil || int(q.Level()) != n {
			t.Errorf("QoSLevel(%d): got %v (level %d), %v", n, q, q.Level(), err)
		}
	}
	if _, err := publish.QoSLevel(3); err == nil {
		t.Errorf("QoSLevel(3): got nil error")
	}
	if got := publish.DefaultQoS.Level(); got != 1 {
		t.Errorf("DefaultQoS.Level(): got %d, want 1", got)
	}
}

func TestClosedClient(t *testing.T) {
	b := startBroker(t, publish.BrokerOptions{Listen: "127.0.0.1:0", Device: device})
	c := connect(t, &env{}, b.URL())
	closeClient(t, c)
	if err := c.Close(context.Background()); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	ctx := context.Background()
	for name, err := range map[string]error{
		"Label":    c.Label(ctx, "belt1", "Kiwi"),
		"Stats":    c.Stats(ctx, publish.Stats{}),
		"Commands": c.Commands(ctx, func(string, []byte) ([]byte, error) { return nil, nil }),
	} {
		if !errors.Is(err, publish.ErrClosed) {
			t.Errorf("%s after Close: got %v, want ErrClosed", name, err)
		}
	}
	if err := c.Result(ctx, "a/b", publish.Result{}); err == nil || !strings.Contains(err.Error(), "camera name") {
		t.Errorf("Result with camera a/b: got %v", err)
	}
}

// TestBrokerRetainedConcurrency stores retained messages while wildcard
// subscriptions collect them; under -race it fails without retainGuard
// (mochi v2.7.9 reads a topic node's retained path without a lock).
func TestBrokerRetainedConcurrency(t *testing.T) {
	e := embedded(t)
	agent := publishtest.Dial(t, e.conn(e.agent))
	viewer := publishtest.Dial(t, e.conn(e.viewer))
	const rounds = 100
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range rounds {
			topic := fmt.Sprintf("fruitcam/dev1/belt%d/label", i%5)
			if i%10 == 9 {
				agent.Publish(topic, 1, true, []byte{}).Wait() // clears the retained message
				continue
			}
			agent.Publish(topic, 1, true, []byte("Kiwi")).Wait()
		}
	}()
	for range rounds {
		tok := viewer.Subscribe("fruitcam/#", 0, nil)
		if !tok.WaitTimeout(publishtest.Wait) || tok.Error() != nil {
			t.Fatalf("subscribe: %v", tok.Error())
		}
		viewer.Unsubscribe("fruitcam/#").WaitTimeout(publishtest.Wait)
	}
	<-done
}
