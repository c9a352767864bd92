package publish

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// QoS is an MQTT quality of service level. The zero value is the default,
// at least once (QoS 1).
type QoS uint8

// The QoS levels. AtMostOnce messages are dropped by paho while it
// reconnects (and when the broker is away), without an error.
const (
	DefaultQoS  QoS = iota // QoS 1
	AtMostOnce             // QoS 0
	AtLeastOnce            // QoS 1
	ExactlyOnce            // QoS 2
)

// QoSLevel returns the QoS of MQTT level n (0, 1 or 2).
func QoSLevel(n int) (QoS, error) {
	if n < 0 || n > 2 {
		return DefaultQoS, fmt.Errorf("publish: QoS %d does not exist; use 0, 1 or 2", n)
	}
	return QoS(n + 1), nil
}

// Level returns the MQTT level 0, 1 or 2.
func (q QoS) Level() byte {
	if q == DefaultQoS || q > ExactlyOnce {
		return 1
	}
	return byte(q - 1)
}

func (q QoS) String() string { return fmt.Sprintf("QoS %d", q.Level()) }

// Options configure Connect. Durations are time.Duration; zero means the
// default given.
type Options struct {
	// Broker is the broker's URL: tcp://host:1883 (also mqtt://),
	// ssl://host:8883 (also tls://, mqtts://), ws://host:port/path or
	// wss://. Required.
	Broker string
	// ClientID is the MQTT client id; default "<prefix>-<device>" with '/'
	// in the prefix replaced by '-'. It must be stable and unique per
	// device: a second client with the same id takes the session over.
	ClientID string
	// Prefix is the first topic level(s); default "fruitcam".
	Prefix string
	// Device is the device id, one topic level. Required.
	Device string
	// QoS of results, labels, stats and replies; default AtLeastOnce.
	// Status messages always use QoS 1.
	QoS QoS
	// Username and Password authenticate to the broker when Username is set.
	Username, Password string
	// TLS configures ssl:// and wss:// connections (CA, client
	// certificate); nil uses the system roots.
	TLS *tls.Config
	// KeepAlive is the MQTT keep-alive period; default 30 s. A dead
	// connection is noticed after about 1.5 times this.
	KeepAlive time.Duration
	// ConnectTimeout bounds one connection attempt; default 10 s.
	ConnectTimeout time.Duration
	// PublishTimeout bounds every wait for the broker (publish
	// acknowledgement, subscription); default 10 s. The context of each
	// call may end the wait earlier.
	PublishTimeout time.Duration
	// MaxReconnectInterval caps the back-off between reconnection
	// attempts, which starts at 1 s (or at this value when smaller) and
	// doubles; default 10 s.
	MaxReconnectInterval time.Duration
	// Logger receives connection events; default: discarded.
	Logger *slog.Logger
	// Discovery, when set, announces the device to Home Assistant after
	// every connection (retained config messages, before "online").
	Discovery *Discovery
	// Authorize, when set, sees every command payload first, with the
	// topic it came on, and returns the command to run (a signed
	// envelope's body); its error is the reply. Nil runs commands as they
	// come.
	Authorize func(topic string, payload []byte) ([]byte, error)
}

// Errors of the client; each is wrapped with what was being done.
var (
	ErrClosed  = errors.New("publish: client is closed")
	ErrTimeout = errors.New("publish: timed out waiting for the broker")
)

// CommandHandler runs one command: name is the last topic level, payload
// is the raw command payload (DecodeCommand has accepted it). reply is
// sent back as the reply's data (JSON, or carried as a JSON string), err
// as its error; explain's reply on success is reply itself, raw bytes
// (see rawReply). It runs on one goroutine owned by the client, one command
// at a time in arrival order, and may block; commands arriving meanwhile
// wait in a queue of CommandQueue and are dropped (logged) beyond it.
type CommandHandler func(name string, payload []byte) (reply []byte, err error)

// CommandQueue is the number of commands that may wait for the handler.
const CommandQueue = 16

// Client publishes one device's results, labels, stats and status to an
// MQTT broker and serves its commands. Its methods are safe for concurrent
// use.
//
// Availability: the broker holds the last will "offline" (retained) on
// Topics.Status. After every connection, first and reconnected, the client
// subscribes to commands (when a handler is set), re-publishes the last
// label of each camera (retained) and then publishes "online" (retained),
// so a consumer that sees "online" sees the device's state too. Close
// publishes "offline" and disconnects, which discards the will.
//
// Delivery: with QoS 1 or 2 a message published while the connection is
// down is kept in memory by paho and sent when it is back, possibly
// before the "online" that follows the reconnection. The call waits at
// most PublishTimeout (or its context) and then returns ErrTimeout while
// the message may still go out later. For such a kept message paho
// reports success when it re-sends it, not when the broker acknowledges
// it. QoS 0 messages are dropped while reconnecting, without an error.
// Nothing survives a restart of the agent: the session is clean and the
// store is in memory.
type Client struct {
	opts   Options
	topics Topics
	qos    byte
	log    *slog.Logger
	conn   mqtt.Client

	life    context.Context // ends when Close starts
	endLife context.CancelFunc

	mu      sync.Mutex
	closed  bool
	labels  map[string]string // camera -> last label the broker acknowledged
	handler CommandHandler
	cmds    chan command
	worker  chan struct{} // closed when the command worker has returned
	configs *configSub    // set by Configs
	// lastState is the last ConfigState published: it goes out again
	// after a reconnection, in case the broker lost its retained copy.
	lastState []byte

	connects atomic.Int64 // connections made, the first included

	announce  sync.Mutex // serialises the after-connect sequences and Close
	firstOnce sync.Once
	firstUp   chan struct{} // closed after the first after-connect sequence
	firstErr  error         // its outcome; read after firstUp is closed
}

type command struct {
	name    string
	payload []byte
}

// Connect connects to the broker of o and returns once the device is
// announced "online". The first connection attempt must succeed within
// ctx and o.ConnectTimeout; later losses are healed by reconnecting in the
// background.
func Connect(ctx context.Context, o Options) (*Client, error) {
	o, topics, err := o.resolve()
	if err != nil {
		return nil, err
	}
	life, end := context.WithCancel(context.Background())
	c := &Client{
		opts:    o,
		topics:  topics,
		qos:     o.QoS.Level(),
		log:     o.Logger,
		life:    life,
		endLife: end,
		labels:  make(map[string]string),
		firstUp: make(chan struct{}),
	}
	po := mqtt.NewClientOptions().
		AddBroker(o.Broker).
		SetClientID(o.ClientID).
		SetUsername(o.Username).
		SetPassword(o.Password).
		SetTLSConfig(o.TLS).
		SetKeepAlive(o.KeepAlive).
		SetPingTimeout(min(o.KeepAlive, 10*time.Second)).
		SetConnectTimeout(o.ConnectTimeout).
		SetWriteTimeout(o.PublishTimeout).
		SetMaxReconnectInterval(o.MaxReconnectInterval).
		SetAutoReconnect(true).
		SetConnectRetry(false).
		SetCleanSession(true).
		SetStore(newMemStore()).
		SetResumeSubs(false).
		SetOrderMatters(true).
		SetWill(topics.Status(), StatusOffline, 1, true).
		SetOnConnectHandler(func(mqtt.Client) { c.afterConnect() }).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			c.log.Warn("mqtt connection lost; reconnecting", "broker", o.Broker, "err", err)
		}).
		SetReconnectingHandler(func(mqtt.Client, *mqtt.ClientOptions) {
			c.log.Debug("mqtt reconnecting", "broker", o.Broker)
		})
	c.conn = mqtt.NewClient(po)

	tok := c.conn.Connect()
	if err := c.wait(ctx, tok, o.ConnectTimeout+time.Second, "connect to "+o.Broker); err != nil {
		c.abandon(tok)
		return nil, connectHint(err)
	}
	timer := time.NewTimer(o.PublishTimeout)
	defer timer.Stop()
	select {
	case <-c.firstUp:
		err = c.firstErr
	case <-ctx.Done():
		err = fmt.Errorf("publish: announce %s online: %w", topics.Device(), ctx.Err())
	case <-timer.C:
		err = fmt.Errorf("publish: announce %s online: no acknowledgement from %s within %s: %w", topics.Device(), o.Broker, o.PublishTimeout, ErrTimeout)
	}
	if err != nil {
		c.abandon(tok)
		return nil, err
	}
	c.log.Info("mqtt connected", "broker", o.Broker, "client_id", o.ClientID, "status", topics.Status())
	return c, nil
}

// abandon ends a client that Connect will not return: no more
// announcements, and a disconnect once paho's connection attempt (bounded
// by ConnectTimeout) has finished.
func (c *Client) abandon(tok mqtt.Token) {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.endLife()
	go func() {
		<-tok.Done()
		c.conn.Disconnect(0)
	}()
}

func connectHint(err error) error {
	switch {
	case errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword), errors.Is(err, packets.ErrorRefusedNotAuthorised):
		return fmt.Errorf("%w (check the MQTT username and password)", err)
	case errors.Is(err, packets.ErrorRefusedIDRejected):
		return fmt.Errorf("%w (the broker refused the client id; set a different one)", err)
	}
	return err
}

func (o Options) resolve() (Options, Topics, error) {
	if o.Broker == "" {
		return o, Topics{}, errors.New("publish: no broker URL; set one such as tcp://127.0.0.1:1883")
	}
	u, err := url.Parse(o.Broker)
	if err != nil {
		return o, Topics{}, fmt.Errorf("publish: broker URL %q: %w", o.Broker, err)
	}
	switch u.Scheme {
	case "tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss":
	default:
		return o, Topics{}, fmt.Errorf("publish: broker URL %q: scheme %q is not supported; use tcp://, ssl:// or ws:// (also mqtt://, mqtts://, tls://, wss://)", o.Broker, u.Scheme)
	}
	if u.Host == "" {
		return o, Topics{}, fmt.Errorf("publish: broker URL %q has no host; write it as %s://host:port", o.Broker, u.Scheme)
	}
	topics, err := NewTopics(o.Prefix, o.Device)
	if err != nil {
		return o, Topics{}, err
	}
	o.Prefix = topics.Prefix()
	if o.ClientID == "" {
		o.ClientID = defaultClientID(o.Prefix, o.Device)
	}
	if o.QoS > ExactlyOnce {
		return o, Topics{}, fmt.Errorf("publish: QoS value %d is invalid; use QoSLevel(0, 1 or 2)", o.QoS)
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"KeepAlive", &o.KeepAlive, 30 * time.Second},
		{"ConnectTimeout", &o.ConnectTimeout, 10 * time.Second},
		{"PublishTimeout", &o.PublishTimeout, 10 * time.Second},
		{"MaxReconnectInterval", &o.MaxReconnectInterval, 10 * time.Second},
	} {
		switch {
		case *d.v == 0:
			*d.v = d.def
		case *d.v < 0:
			return o, Topics{}, fmt.Errorf("publish: %s is negative (%s); leave it 0 for the default %s", d.name, *d.v, d.def)
		}
	}
	if o.KeepAlive < time.Second {
		return o, Topics{}, fmt.Errorf("publish: KeepAlive %s is below MQTT's one-second resolution; use 1s or more", o.KeepAlive)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, topics, nil
}

func defaultClientID(prefix, device string) string {
	b := []byte(prefix)
	for i, c := range b {
		if c == '/' {
			b[i] = '-'
		}
	}
	return string(b) + "-" + device
}

// Connected reports whether the connection to the broker is up now (not
// while reconnecting), e.g. for the "mqtt" entry of Stats.Health.
func (c *Client) Connected() bool { return c.conn.IsConnectionOpen() }

// Reconnects counts the connections made after the first one.
func (c *Client) Reconnects() int { return max(int(c.connects.Load())-1, 0) }

// Topics returns the topic names of this client's device.
func (c *Client) Topics() Topics { return c.topics }

// afterConnect runs on paho's goroutine after every connection: command
// subscription, labels, then "online".
func (c *Client) afterConnect() {
	c.connects.Add(1)
	c.announce.Lock()
	defer c.announce.Unlock()
	c.mu.Lock()
	closed, handler, configs, state, discovery := c.closed, c.handler, c.configs, c.lastState, c.opts.Discovery
	labels := make(map[string]string, len(c.labels))
	for k, v := range c.labels {
		labels[k] = v
	}
	c.mu.Unlock()
	if closed {
		return
	}
	err := func() error {
		if handler != nil {
			if err := c.subscribe(c.life); err != nil {
				return err
			}
		}
		if configs != nil {
			if err := c.subscribeConfigs(c.life); err != nil {
				return err
			}
		}
		if state != nil {
			tok := c.conn.Publish(c.topics.ConfigState(), 1, true, state)
			if err := c.wait(c.life, tok, c.opts.PublishTimeout, "config state"); err != nil {
				return err
			}
		}
		if discovery != nil {
			for _, m := range discovery.Messages(c.topics) {
				tok := c.conn.Publish(m.Topic, 1, true, m.Payload)
				if err := c.wait(c.life, tok, c.opts.PublishTimeout, "Home Assistant discovery "+m.Topic); err != nil {
					return err
				}
			}
		}
		for camera, label := range labels {
			tok := c.conn.Publish(c.topics.Label(camera), c.qos, true, label)
			if err := c.wait(c.life, tok, c.opts.PublishTimeout, "label of "+camera); err != nil {
				return err
			}
		}
		tok := c.conn.Publish(c.topics.Status(), 1, true, StatusOnline)
		return c.wait(c.life, tok, c.opts.PublishTimeout, "status online")
	}()
	c.firstOnce.Do(func() {
		c.firstErr = err
		close(c.firstUp)
	})
	if err != nil {
		c.log.Warn("mqtt announcement failed", "err", err)
		return
	}
	c.log.Debug("mqtt online", "topic", c.topics.Status())
}

// wait waits for tok at most timeout and until ctx ends.
func (c *Client) wait(ctx context.Context, tok mqtt.Token, timeout time.Duration, what string) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fmt.Errorf("publish: %s: %w", what, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("publish: %s: %w", what, ctx.Err())
	case <-timer.C:
		return fmt.Errorf("publish: %s: no acknowledgement from %s within %s: %w", what, c.opts.Broker, timeout, ErrTimeout)
	}
}

// publishQoS1 publishes a retained state message at QoS 1 whatever the
// results' QoS: a state lost to QoS 0 would stay wrong until the next.
func (c *Client) publishQoS1(ctx context.Context, topic string, payload []byte, what string) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return fmt.Errorf("publish: %s: %w", what, ErrClosed)
	}
	return c.wait(ctx, c.conn.Publish(topic, 1, true, payload), c.opts.PublishTimeout, what)
}

func (c *Client) publish(ctx context.Context, topic string, retained bool, payload []byte, what string) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return fmt.Errorf("publish: %s: %w", what, ErrClosed)
	}
	return c.wait(ctx, c.conn.Publish(topic, c.qos, retained, payload), c.opts.PublishTimeout, what)
}

// Result publishes p on <prefix>/<device>/<camera>/result, not retained,
// and waits for the broker's acknowledgement (QoS 1, 2). p's Camera and
// Device are set from the topic, a zero Schema to Schema.
func (c *Client) Result(ctx context.Context, camera string, p Result) error {
	if err := CheckLevel("camera", camera); err != nil {
		return err
	}
	p.Camera, p.Device = camera, c.topics.Device()
	if p.Schema == 0 {
		p.Schema = Schema
	}
	b, err := Encode(p)
	if err != nil {
		return err
	}
	return c.publish(ctx, c.topics.Result(camera), false, b, "result "+camera)
}

// PublishResult publishes an encoded Result payload (built by the caller,
// e.g. kept in a disk queue) on topic, a result topic of this device, and
// waits for the broker's acknowledgement as Result does.
func (c *Client) PublishResult(ctx context.Context, topic string, payload []byte) error {
	if !strings.HasPrefix(topic, c.topics.base) || !strings.HasSuffix(topic, "/result") {
		return fmt.Errorf("publish: %s is not a result topic of device %s", topic, c.topics.Device())
	}
	return c.publish(ctx, topic, false, payload, "result")
}

// Label publishes label, retained, on <prefix>/<device>/<camera>/label
// when it differs from the last label the broker acknowledged for camera.
func (c *Client) Label(ctx context.Context, camera, label string) error {
	if err := CheckLevel("camera", camera); err != nil {
		return err
	}
	c.mu.Lock()
	last, ok := c.labels[camera]
	c.mu.Unlock()
	if ok && last == label {
		return nil
	}
	if err := c.publish(ctx, c.topics.Label(camera), true, []byte(label), "label "+camera); err != nil {
		return err
	}
	c.mu.Lock()
	c.labels[camera] = label
	c.mu.Unlock()
	return nil
}

// Stats publishes p on <prefix>/<device>/stats, retained, so that `agent
// fleet status` sees every board's last stats (fps, model, backend, when
// it was last seen) without waiting. p's Device is set to the client's, a
// zero Schema to Schema.
func (c *Client) Stats(ctx context.Context, p Stats) error {
	p.Device = c.topics.Device()
	if p.Schema == 0 {
		p.Schema = Schema
	}
	b, err := Encode(p)
	if err != nil {
		return err
	}
	return c.publish(ctx, c.topics.Stats(), true, b, "stats")
}

// Commands subscribes to <prefix>/<device>/cmd/+ and runs handler for
// every command, publishing a Reply on .../cmd/<name>/reply. A payload
// that DecodeCommand refuses gets an error reply without reaching the
// handler. The subscription is renewed after every reconnection. It may
// be called once.
func (c *Client) Commands(ctx context.Context, handler CommandHandler) error {
	if handler == nil {
		return errors.New("publish: Commands needs a handler")
	}
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return fmt.Errorf("publish: commands: %w", ErrClosed)
	case c.handler != nil:
		c.mu.Unlock()
		return errors.New("publish: Commands was already called; pass one handler that dispatches on the name")
	}
	c.handler = handler
	c.cmds = make(chan command, CommandQueue)
	c.worker = make(chan struct{})
	go c.serveCommands(handler, c.cmds, c.worker)
	c.mu.Unlock()
	return c.subscribe(ctx)
}

func (c *Client) subscribe(ctx context.Context) error {
	filter := c.topics.Commands()
	tok := c.conn.Subscribe(filter, c.qos, c.onCommand)
	if err := c.wait(ctx, tok, c.opts.PublishTimeout, "subscribe to "+filter); err != nil {
		return err
	}
	if code, ok := tok.(*mqtt.SubscribeToken).Result()[filter]; ok && code == 0x80 {
		return fmt.Errorf("publish: subscribe to %s: refused by the broker (is this user allowed to read it?)", filter)
	}
	return nil
}

// onCommand runs on paho's router goroutine: it must not block.
func (c *Client) onCommand(_ mqtt.Client, m mqtt.Message) {
	name, ok := c.topics.commandName(m.Topic())
	if !ok {
		return
	}
	select {
	case c.cmds <- command{name: name, payload: m.Payload()}:
	default:
		c.log.Warn("mqtt command dropped: the handler is busy and the queue is full", "command", name, "queue", CommandQueue)
	}
}

// serveCommands is the command worker; it returns when Close starts.
func (c *Client) serveCommands(handler CommandHandler, cmds <-chan command, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-c.life.Done():
			return
		case cmd := <-cmds:
			c.runCommand(handler, cmd)
		}
	}
}

func (c *Client) runCommand(handler CommandHandler, cmd command) {
	var (
		data   []byte
		parsed Command
		err    error
	)
	payload := cmd.payload
	if c.opts.Authorize != nil {
		payload, err = c.opts.Authorize(c.topics.Command(cmd.name), cmd.payload)
		if err != nil {
			c.log.Warn("mqtt command refused", "command", cmd.name, "err", err)
		}
	}
	if err == nil {
		if parsed, err = DecodeCommand(payload); err == nil {
			data, err = handler(cmd.name, payload)
		}
	}
	if err != nil {
		c.log.Info("mqtt command failed", "command", cmd.name, "id", parsed.ID, "err", err)
	}
	b := data
	if err != nil || !rawReply(cmd.name) {
		r := NewReply(c.topics.Device(), cmd.name, parsed.ID, data, err, time.Now())
		if b, err = Encode(r); err != nil {
			c.log.Warn("mqtt command reply not encoded", "command", cmd.name, "err", err)
			return
		}
	}
	if err := c.publish(c.life, c.topics.Reply(cmd.name), false, b, "reply to "+cmd.name); err != nil {
		c.log.Warn("mqtt command reply not sent", "command", cmd.name, "err", err)
	}
}

// Close stops serving commands (waiting, within ctx, for a running
// handler), publishes "offline" retained, waits for its acknowledgement
// within ctx and PublishTimeout, and disconnects, which makes the broker
// discard the will. Pass a context that is still live (a fresh one with a
// timeout, not the cancelled run context). Calling Close again does
// nothing. The connection is closed even when the error is not nil.
func (c *Client) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	worker := c.worker
	c.mu.Unlock()
	c.endLife()

	var errs []error
	if worker != nil {
		select {
		case <-worker:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("publish: close: command handler still running: %w", ctx.Err()))
		}
	}
	// No after-connect sequence may publish "online" after "offline".
	c.announce.Lock()
	defer c.announce.Unlock()
	tok := c.conn.Publish(c.topics.Status(), 1, true, StatusOffline)
	if err := c.wait(ctx, tok, c.opts.PublishTimeout, "status offline"); err != nil {
		errs = append(errs, err)
	}
	quiesce := 250 * time.Millisecond
	if d, ok := ctx.Deadline(); ok {
		quiesce = max(min(quiesce, time.Until(d)), 10*time.Millisecond)
	}
	c.conn.Disconnect(uint(quiesce / time.Millisecond))
	c.log.Info("mqtt disconnected", "broker", c.opts.Broker)
	return errors.Join(errs...)
}
