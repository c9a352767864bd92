package publish

import (
	"context"
	"errors"
	"fmt"
	"strings"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Config states, the "state" of a ConfigState.
const (
	// ConfigApplied: the config runs. Until its health check passed
	// (Health "checking") it may still be rolled back.
	ConfigApplied = "applied"
	// ConfigRejected: the config was refused before it ran (bad signature,
	// invalid YAML or keys, a model that could not be fetched, verified,
	// loaded or self-tested); the previous config runs on.
	ConfigRejected = "rejected"
	// ConfigRolledBack: the config ran but failed its health check, and
	// the previous good config runs again.
	ConfigRolledBack = "rolled_back"
)

// Health of an applied config, the "health" of a ConfigState.
const (
	HealthChecking = "checking" // within the health window
	HealthPassed   = "passed"   // the window passed healthy; the config is kept as good
)

// ConfigState is the payload of <prefix>/<device>/config/state (retained):
// what the device did with the last fleet config it received, and what it
// runs now. Operators read it with `agent fleet status`.
type ConfigState struct {
	Schema int       `json:"schema"`
	TS     Timestamp `json:"ts"`
	Device string    `json:"device"`
	Group  string    `json:"group,omitempty"` // the device's fleet group

	// The config this state is about: its source ("group", "device", or
	// "local" for the device's own file at start), the topic it came on,
	// its signed version and the SHA-256 of its YAML.
	Source  string `json:"source"`
	Topic   string `json:"topic,omitempty"`
	Version uint64 `json:"version"`
	SHA256  string `json:"sha256,omitempty"`

	State  string `json:"state"`            // ConfigApplied, ConfigRejected, ConfigRolledBack
	Health string `json:"health,omitempty"` // applied only: HealthChecking, HealthPassed
	Reason string `json:"reason,omitempty"` // why rejected or rolled back

	// Running is what runs now, after this event.
	Running Running `json:"running"`
}

// Running is the config a device runs: the fleet layers merged onto its
// local file, and the model it loaded.
type Running struct {
	Group  *Layer `json:"group,omitempty"`  // the group config merged in, if any
	Device *Layer `json:"device,omitempty"` // the device config merged in, if any
	SHA256 string `json:"sha256"`           // of the effective config (YAML as `agent validate --print` writes it)
	Model  Model  `json:"model"`
	// Backend is the backend the model runs on.
	Backend string `json:"backend"`
}

// Layer identifies one fleet config by its signed version and the SHA-256
// of its YAML.
type Layer struct {
	Version uint64 `json:"version"`
	SHA256  string `json:"sha256"`
}

// DecodeConfigState reads a ConfigState payload, like DecodeResult.
func DecodeConfigState(b []byte) (ConfigState, error) {
	var s ConfigState
	if err := decode(b, "config state", &s.Schema, &s); err != nil {
		return ConfigState{}, err
	}
	return s, nil
}

// ConfigSet is <prefix>/<device>/config/set: this device's own fleet
// config (a signed envelope, retained).
func (t Topics) ConfigSet() string { return t.base + "config/set" }

// ConfigState is <prefix>/<device>/config/state: a ConfigState, retained.
func (t Topics) ConfigState() string { return t.base + "config/state" }

// FleetConfig is <prefix>/fleet/<group>/config: the config of every
// device of the group (a signed envelope, retained).
func (t Topics) FleetConfig(group string) string {
	return t.prefix + "/fleet/" + group + "/config"
}

// FleetConfigTopic is FleetConfig without a device: what `agent fleet
// push --group` publishes to.
func FleetConfigTopic(prefix, group string) (string, error) {
	t, err := NewTopics(prefix, "fleet-tool")
	if err != nil {
		return "", err
	}
	if err := CheckLevel("group", group); err != nil {
		return "", err
	}
	return t.FleetConfig(group), nil
}

// ConfigHandler receives a fleet config payload and the topic it came on.
// It runs on a goroutine of its own, one message at a time, and may block.
type ConfigHandler func(topic string, payload []byte)

// Configs subscribes to this device's fleet configs, <prefix>/<device>/
// config/set and, when group is not empty, <prefix>/fleet/<group>/config,
// and hands every message to handler. Both topics are retained: the
// current configs arrive at once, and again after every reconnection
// (the handler sees the same version again and ignores it). It may be
// called once.
func (c *Client) Configs(ctx context.Context, group string, handler ConfigHandler) error {
	if handler == nil {
		return errors.New("publish: Configs needs a handler")
	}
	filters := []string{c.topics.ConfigSet()}
	if group != "" {
		if err := CheckLevel("group", group); err != nil {
			return err
		}
		filters = append(filters, c.topics.FleetConfig(group))
	}
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return fmt.Errorf("publish: configs: %w", ErrClosed)
	case c.configs != nil:
		c.mu.Unlock()
		return errors.New("publish: Configs was already called")
	}
	// A small queue: retained configs arrive at most two at a time, and a
	// newer one makes an older one moot.
	q := make(chan configMsg, 8)
	c.configs = &configSub{filters: filters, q: q}
	c.mu.Unlock()
	go func() {
		for {
			select {
			case m := <-q:
				handler(m.topic, m.payload)
			case <-c.life.Done():
				return
			}
		}
	}()
	return c.subscribeConfigs(ctx)
}

type configSub struct {
	filters []string
	q       chan configMsg
}

type configMsg struct {
	topic   string
	payload []byte
}

func (c *Client) subscribeConfigs(ctx context.Context) error {
	c.mu.Lock()
	sub := c.configs
	c.mu.Unlock()
	if sub == nil {
		return nil
	}
	onMsg := func(_ mqtt.Client, m mqtt.Message) {
		select {
		case sub.q <- configMsg{topic: m.Topic(), payload: m.Payload()}:
		default:
			c.log.Warn("fleet config dropped: the queue is full", "topic", m.Topic())
		}
	}
	for _, f := range sub.filters {
		tok := c.conn.Subscribe(f, 1, onMsg)
		if err := c.wait(ctx, tok, c.opts.PublishTimeout, "subscribe to "+f); err != nil {
			return err
		}
		if code, ok := tok.(*mqtt.SubscribeToken).Result()[f]; ok && code == 0x80 {
			return fmt.Errorf("publish: subscribe to %s: refused by the broker (may this device read %s?)", f, strings.TrimSuffix(f, "/config"))
		}
	}
	return nil
}

// ConfigState publishes s, retained, on <prefix>/<device>/config/state.
// s's Device is set to the client's, a zero Schema to Schema.
func (c *Client) ConfigState(ctx context.Context, s ConfigState) error {
	s.Device = c.topics.Device()
	if s.Schema == 0 {
		s.Schema = Schema
	}
	b, err := Encode(s)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.lastState = b
	c.mu.Unlock()
	return c.publishQoS1(ctx, c.topics.ConfigState(), b, "config state")
}
