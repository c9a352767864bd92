package publish

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strings"
	"sync"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// DefaultListen is the embedded broker's address when BrokerOptions.Listen
// is empty: loopback only.
const DefaultListen = "127.0.0.1:1883"

// MaxBrokerPacket bounds the size of one MQTT packet the embedded broker
// accepts, so that a client on the network cannot make it buffer
// arbitrarily large messages.
const MaxBrokerPacket = 4 << 20

// BrokerOptions configure StartBroker.
type BrokerOptions struct {
	// Listen is the TCP address; default "127.0.0.1:1883". Port 0 picks a
	// free port (see Broker.Addr).
	Listen string
	// Prefix and Device name the agent's topics as in Options; Device is
	// required.
	Prefix, Device string
	// Users maps user names to passwords. When it is not empty every client
	// must authenticate with one of them; when it is empty the broker is
	// anonymous and as safe as its Listen address.
	Users map[string]string
	// Agent is the agent's own user name, a key of Users (required when
	// Users is set): it may publish and subscribe under
	// <prefix>/<device>/# and nowhere else.
	Agent string
	// Operators are users (keys of Users) who may also send commands,
	// publishing on <prefix>/<device>/cmd/<name>. Every other user only
	// reads under <prefix>/#.
	Operators []string
	// Logger receives the broker's log; default: discarded.
	Logger *slog.Logger
}

// Broker is an embedded MQTT broker (mochi-mqtt) for a stand-alone board
// or a test. Access is denied by default; see BrokerOptions for who may
// do what. The broker keeps retained messages in memory only.
type Broker struct {
	server *mochi.Server
	addr   string
	once   sync.Once
}

// StartBroker listens on o.Listen and serves MQTT 3.1.1 and 5 until Close.
// ctx bounds the start only: the broker outlives it, so that the agent can
// still publish its last results and "offline" while it shuts down.
func StartBroker(ctx context.Context, o BrokerOptions) (*Broker, error) {
	acl, err := newACL(o)
	if err != nil {
		return nil, err
	}
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	acl.log = log
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("publish: broker: listen on %s: %w (is another broker running there? choose another address)", o.Listen, err)
	}
	caps := mochi.NewDefaultServerCapabilities()
	caps.MaximumMessageExpiryInterval = 0 // mochi's default (1 day) would drop the retained status and labels
	caps.MaximumPacketSize = MaxBrokerPacket
	s := mochi.New(&mochi.Options{Logger: log, Capabilities: caps, SysTopicResendInterval: 60})
	for _, h := range []mochi.Hook{acl, &retainGuard{}} {
		if err := s.AddHook(h, nil); err != nil {
			ln.Close()
			return nil, fmt.Errorf("publish: broker: %w", err)
		}
	}
	if err := s.AddListener(listeners.NewNet("tcp", ln)); err != nil {
		ln.Close()
		return nil, fmt.Errorf("publish: broker: %w", err)
	}
	if err := s.Serve(); err != nil {
		s.Close()
		return nil, fmt.Errorf("publish: broker: %w", err)
	}
	log.Info("mqtt broker listening", "addr", ln.Addr().String(), "auth", acl.auth, "device", acl.device)
	return &Broker{server: s, addr: ln.Addr().String()}, nil
}

// Addr returns the address the broker listens on, host:port.
func (b *Broker) Addr() string { return b.addr }

// URL returns tcp://Addr(), for Options.Broker.
func (b *Broker) URL() string { return "tcp://" + b.addr }

// Close disconnects every client and stops listening; it returns once the
// client connections have ended. Calling it again does nothing.
func (b *Broker) Close() error {
	var err error
	b.once.Do(func() { err = b.server.Close() })
	return err
}

// acl is the broker's authentication and authorisation hook.
type acl struct {
	mochi.HookBase
	log       *slog.Logger
	auth      bool
	passwords map[string][32]byte // user -> SHA-256 of the password
	agent     string
	operators map[string]bool
	device    string
	deviceAll string // <prefix>/<device>/#
	commands  string // <prefix>/<device>/cmd/+
	configSet string // <prefix>/<device>/config/set
	fleet     string // <prefix>/fleet/+/config
	all       string // <prefix>/#
}

func newACL(o BrokerOptions) (*acl, error) {
	topics, err := NewTopics(o.Prefix, o.Device)
	if err != nil {
		return nil, fmt.Errorf("publish: broker: %w (the embedded broker serves one device)", err)
	}
	a := &acl{
		auth:      len(o.Users) > 0,
		passwords: make(map[string][32]byte, len(o.Users)),
		agent:     o.Agent,
		operators: make(map[string]bool, len(o.Operators)),
		device:    o.Device,
		deviceAll: topics.DeviceFilter(),
		commands:  topics.Commands(),
		configSet: topics.ConfigSet(),
		fleet:     topics.FleetConfig("+"),
		all:       topics.AllFilter(),
	}
	for user, pass := range o.Users {
		if user == "" || pass == "" {
			return nil, fmt.Errorf("publish: broker: user %q has an empty name or password; give every user both", user)
		}
		a.passwords[user] = sha256.Sum256([]byte(pass))
	}
	if !a.auth {
		if o.Agent != "" || len(o.Operators) > 0 {
			return nil, errors.New("publish: broker: Agent and Operators need Users (names with passwords)")
		}
		return a, nil
	}
	if _, ok := o.Users[o.Agent]; !ok {
		return nil, fmt.Errorf("publish: broker: Agent %q is not one of the users %s; name the agent's own user", o.Agent, userList(o.Users))
	}
	for _, op := range o.Operators {
		if _, ok := o.Users[op]; !ok {
			return nil, fmt.Errorf("publish: broker: operator %q is not one of the users %s", op, userList(o.Users))
		}
		a.operators[op] = true
	}
	return a, nil
}

func userList(users map[string]string) string {
	names := make([]string, 0, len(users))
	for u := range users {
		names = append(names, u)
	}
	sort.Strings(names)
	return "[" + strings.Join(names, ", ") + "]"
}

func (a *acl) ID() string { return "fruitcam-acl" }

func (a *acl) Provides(b byte) bool {
	return b == mochi.OnConnectAuthenticate || b == mochi.OnACLCheck
}

// OnConnectAuthenticate checks the password in constant time and refuses
// a will on a topic the user may not publish to (the broker would
// otherwise publish it without an ACL check) and a delayed will (MQTT 5;
// see retainGuard).
func (a *acl) OnConnectAuthenticate(cl *mochi.Client, pk packets.Packet) bool {
	user := string(cl.Properties.Username)
	if a.auth {
		want, known := a.passwords[user]
		got := sha256.Sum256(pk.Connect.Password)
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !known {
			a.log.Warn("mqtt broker: authentication failed", "username", user, "remote", cl.Net.Remote)
			return false
		}
	}
	if pk.Connect.WillFlag && pk.Connect.WillProperties.WillDelayInterval > 0 {
		a.log.Warn("mqtt broker: will delay is not supported; send the will at once", "username", user, "remote", cl.Net.Remote)
		return false
	}
	if pk.Connect.WillFlag && !a.allowed(user, pk.Connect.WillTopic, true) {
		a.log.Warn("mqtt broker: will topic not allowed for this user", "username", user, "topic", pk.Connect.WillTopic, "remote", cl.Net.Remote)
		return false
	}
	return true
}

// OnACLCheck allows a publish (write) to topic or a subscription (read)
// to the filter topic.
func (a *acl) OnACLCheck(cl *mochi.Client, topic string, write bool) bool {
	user := string(cl.Properties.Username)
	if a.allowed(user, topic, write) {
		return true
	}
	a.log.Warn("mqtt broker: access denied", "username", user, "client", cl.ID, "topic", topic, "write", write)
	return false
}

// allowed is the rule table:
//
//	who                    read (subscribe)                  write (publish)
//	agent                  <prefix>/<device>/#,              <prefix>/<device>/#
//	                       <prefix>/fleet/+/config
//	operator               <prefix>/#                        <prefix>/<device>/cmd/+, <prefix>/<device>/config/set,
//	                                                         <prefix>/fleet/+/config
//	any other user         <prefix>/#                        -
//	anyone (no Users)      <prefix>/#                        <prefix>/<device>/#, <prefix>/fleet/+/config
//
// Everything else, $SYS included, is denied.
func (a *acl) allowed(user, filter string, write bool) bool {
	if rest, ok := strings.CutPrefix(filter, "$share/"); ok && !write {
		if _, f, ok := strings.Cut(rest, "/"); ok {
			filter = f
		}
	}
	if !a.auth {
		if write {
			return filterCovers(a.deviceAll, filter) || filterCovers(a.fleet, filter)
		}
		return filterCovers(a.all, filter)
	}
	switch {
	case user == a.agent:
		if !write && filterCovers(a.fleet, filter) {
			return true // its group's fleet config
		}
		return filterCovers(a.deviceAll, filter)
	case !write:
		return filterCovers(a.all, filter)
	case a.operators[user]:
		return filterCovers(a.commands, filter) || filterCovers(a.configSet, filter) || filterCovers(a.fleet, filter)
	}
	return false
}
