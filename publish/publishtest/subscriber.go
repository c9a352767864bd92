package publishtest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Wait is the default deadline of the waiting helpers: long enough for a
// loaded CI machine, reached only when a test is about to fail anyway.
const Wait = 10 * time.Second

// Message is one received MQTT message.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
}

func (m Message) String() string {
	r := ""
	if m.Retained {
		r = " (retained)"
	}
	return fmt.Sprintf("%s %q%s", m.Topic, m.Payload, r)
}

// Conn says how to reach a broker.
type Conn struct {
	Broker             string // tcp://host:port
	Username, Password string
	ClientID           string // default: a unique name
	// WillTopic, when set, gives the client a last will (QoS 1, not
	// retained) with WillPayload.
	WillTopic, WillPayload string
}

// Subscriber is an MQTT client that records every message it receives.
// It does not reconnect: after a broker restart, make a new one.
type Subscriber struct {
	client mqtt.Client

	mu      sync.Mutex
	msgs    []Message
	next    int           // index of the first message not yet consumed
	changed chan struct{} // closed and replaced on every new message
}

var ids struct {
	sync.Mutex
	n int
}

func uniqueID(prefix string) string {
	ids.Lock()
	defer ids.Unlock()
	ids.n++
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), ids.n)
}

// Dial connects a client without subscribing to anything, failing the
// test when the broker refuses it. It is disconnected at cleanup.
func Dial(t testing.TB, c Conn) mqtt.Client {
	t.Helper()
	cl, err := TryDial(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Disconnect(0) })
	return cl
}

// TryDial connects a client and returns the broker's refusal as an error.
// lost, when not nil, is called if the connection is lost later.
func TryDial(c Conn, lost func(error)) (mqtt.Client, error) {
	if c.ClientID == "" {
		c.ClientID = uniqueID("publishtest")
	}
	o := mqtt.NewClientOptions().
		AddBroker(c.Broker).
		SetClientID(c.ClientID).
		SetUsername(c.Username).
		SetPassword(c.Password).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetConnectTimeout(Wait).
		SetKeepAlive(30 * time.Second)
	if c.WillTopic != "" {
		o.SetWill(c.WillTopic, c.WillPayload, 1, false)
	}
	if lost != nil {
		o.SetConnectionLostHandler(func(_ mqtt.Client, err error) { lost(err) })
	}
	cl := mqtt.NewClient(o)
	tok := cl.Connect()
	if !tok.WaitTimeout(Wait + time.Second) {
		return nil, fmt.Errorf("publishtest: connect to %s: no answer within %s", c.Broker, Wait)
	}
	if err := tok.Error(); err != nil {
		return nil, fmt.Errorf("publishtest: connect to %s as %q: %w", c.Broker, c.Username, err)
	}
	return cl, nil
}

// Subscribe connects and subscribes to filters (QoS 1), failing the test
// when a subscription is refused. It returns once the broker has
// acknowledged them, so nothing published afterwards is missed.
func Subscribe(t testing.TB, c Conn, filters ...string) *Subscriber {
	t.Helper()
	s := &Subscriber{client: Dial(t, c), changed: make(chan struct{})}
	for _, f := range filters {
		if code := s.TrySubscribe(t, f); code == 0x80 {
			t.Fatalf("publishtest: subscription to %s refused by the broker", f)
		}
	}
	return s
}

// TrySubscribe subscribes to filter and returns the broker's SUBACK code:
// the granted QoS, or 0x80 when refused.
func (s *Subscriber) TrySubscribe(t testing.TB, filter string) byte {
	t.Helper()
	tok := s.client.Subscribe(filter, 1, s.record)
	if !tok.WaitTimeout(Wait) {
		t.Fatalf("publishtest: subscribe to %s: no answer within %s", filter, Wait)
	}
	if err := tok.Error(); err != nil {
		t.Fatalf("publishtest: subscribe to %s: %v", filter, err)
	}
	return tok.(*mqtt.SubscribeToken).Result()[filter]
}

func (s *Subscriber) record(_ mqtt.Client, m mqtt.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, Message{Topic: m.Topic(), Payload: append([]byte(nil), m.Payload()...), Retained: m.Retained()})
	close(s.changed)
	s.changed = make(chan struct{})
}

// Client returns the underlying paho client, e.g. to publish commands.
func (s *Subscriber) Client() mqtt.Client { return s.client }

// Publish publishes payload on topic with QoS 1 and waits for the
// broker's acknowledgement.
func (s *Subscriber) Publish(t testing.TB, topic string, payload []byte) {
	t.Helper()
	Publish(t, s.client, topic, 1, false, payload)
}

// Publish publishes with cl and waits for the acknowledgement.
func Publish(t testing.TB, cl mqtt.Client, topic string, qos byte, retained bool, payload []byte) {
	t.Helper()
	tok := cl.Publish(topic, qos, retained, payload)
	if !tok.WaitTimeout(Wait) {
		t.Fatalf("publishtest: publish to %s: no acknowledgement within %s", topic, Wait)
	}
	if err := tok.Error(); err != nil {
		t.Fatalf("publishtest: publish to %s: %v", topic, err)
	}
}

// Next returns the next message not yet consumed, waiting up to Wait.
func (s *Subscriber) Next(t testing.TB) Message {
	t.Helper()
	return s.WaitFor(t, "any message", func(Message) bool { return true })
}

// Expect waits for a message on topic with exactly payload, skipping
// (and consuming) other messages.
func (s *Subscriber) Expect(t testing.TB, topic, payload string) Message {
	t.Helper()
	return s.WaitFor(t, fmt.Sprintf("%s %q", topic, payload), func(m Message) bool {
		return m.Topic == topic && string(m.Payload) == payload
	})
}

// ExpectTopic waits for the next message on topic, skipping (and
// consuming) messages on other topics.
func (s *Subscriber) ExpectTopic(t testing.TB, topic string) Message {
	t.Helper()
	return s.WaitFor(t, topic, func(m Message) bool { return m.Topic == topic })
}

// WaitFor consumes messages until one matches, waiting up to Wait, and
// returns it; what describes the wanted message in the failure.
func (s *Subscriber) WaitFor(t testing.TB, what string, match func(Message) bool) Message {
	t.Helper()
	if m, ok := s.Poll(Wait, match); ok {
		return m
	}
	s.mu.Lock()
	var seen []string
	for _, m := range s.msgs {
		seen = append(seen, m.String())
	}
	s.mu.Unlock()
	t.Fatalf("publishtest: no %s within %s; received so far:\n\t%s", what, Wait, strings.Join(seen, "\n\t"))
	return Message{}
}

// Poll is WaitFor without a test: it reports whether a match arrived
// within timeout.
func (s *Subscriber) Poll(timeout time.Duration, match func(Message) bool) (Message, bool) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		for s.next < len(s.msgs) {
			m := s.msgs[s.next]
			s.next++
			if match(m) {
				s.mu.Unlock()
				return m, true
			}
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			return Message{}, false
		}
	}
}

// Received returns every message received so far, consumed or not.
func (s *Subscriber) Received() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Reset forgets every message received so far and returns how many there
// were: long runs call it so that the subscriber's memory stays flat.
func (s *Subscriber) Reset() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.msgs)
	s.msgs, s.next = nil, 0
	return n
}
