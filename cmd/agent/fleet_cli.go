package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/fruitcam/fruitcam/internal/cli"
	"github.com/fruitcam/fruitcam/internal/config"
	"github.com/fruitcam/fruitcam/internal/signing"
	"github.com/fruitcam/fruitcam/internal/texttable"
	"github.com/fruitcam/fruitcam/publish"
)

// The operator's side of fleet configs (the board's side is fleet.go):
//
//	agent fleet push (--group G | --device D) --key KEY.pem [--config LOCAL.yaml] [--dry-run] FILE
//	agent fleet status [--group G] [--config LOCAL.yaml | --broker URL] [--wait 2s] [--json]
//
// push checks a fleet config as the boards will (config.ParseLayer, and
// config.Merge onto a board's own file with --config), signs it and
// publishes it retained; status prints what every board did with it.

// fleetSubcommands are the subcommands of `agent fleet`.
var fleetSubcommands = []cli.Command{
	{Name: "push", Summary: "check, sign and publish a fleet config to a group or a device (retained)", Run: cmdFleetPush},
	{Name: "status", Summary: "print each board's config state, model, backend, fps and last contact", Run: cmdFleetStatus},
}

// cmdFleet runs `agent fleet SUBCOMMAND`.
func cmdFleet(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, "usage: agent fleet <push|status> [flags]")
		for _, c := range fleetSubcommands {
			fmt.Fprintf(stderr, "  %-8s %s\n", c.Name, c.Summary)
		}
		if len(args) == 0 {
			return cli.Usagef("give a subcommand: push or status")
		}
		return flag.ErrHelp
	}
	for _, c := range fleetSubcommands {
		if c.Name == args[0] {
			return c.Run(args[1:], stdout, stderr)
		}
	}
	return cli.Usagef("unknown subcommand %q: want push or status", args[0])
}

// brokerFlags are the connection flags push and status share. With
// --config the broker, user, password and TLS come from the board's mqtt
// section; the flags given override it.
type brokerFlags struct {
	fs      *flag.FlagSet
	config  *string
	broker  *string
	user    *string
	pwEnv   *string
	prefix  *string
	timeout *time.Duration
}

func addBrokerFlags(fs *flag.FlagSet) *brokerFlags {
	return &brokerFlags{
		fs:      fs,
		config:  fs.String("config", "", "a board's own config `file`: its mqtt section (broker, user, TLS, prefix)"),
		broker:  fs.String("broker", "tcp://127.0.0.1:1883", "broker `URL` (without --config)"),
		user:    fs.String("user", "", "broker user (default: the config's mqtt.username)"),
		pwEnv:   fs.String("password-env", "", "environment `variable` holding the broker password of --user"),
		prefix:  fs.String("prefix", "", "first topic level(s) (default: the config's mqtt.prefix, else "+publish.DefaultPrefix+")"),
		timeout: fs.Duration("timeout", 10*time.Second, "how long to keep trying to reach the broker, and to wait for its acknowledgement"),
	}
}

// connection returns the config dial reads (the board's, with the flags
// given applied, or one made of the flags), the user and password, and
// the prefix.
func (b *brokerFlags) connection(board *config.Config) (cfg *config.Config, user, pw, prefix string, err error) {
	if board != nil {
		cfg = board.Clone()
	} else {
		cfg = config.Default()
		cfg.MQTT.Broker = *b.broker
		cfg.MQTT.Username = ""
		cfg.MQTT.Embedded.Enabled = false
		cfg.MQTT.TLS = config.TLS{}
	}
	if board != nil && cli.IsSet(b.fs, "broker") {
		cfg.MQTT.Broker = *b.broker
		cfg.MQTT.Embedded.Enabled = false
	}
	user = cfg.MQTT.Username
	if *b.user != "" {
		user = *b.user
	}
	switch {
	case *b.pwEnv != "":
		var ok bool
		if pw, ok = os.LookupEnv(*b.pwEnv); !ok {
			return nil, "", "", "", fmt.Errorf("fleet: environment variable %s (--password-env) is not set", *b.pwEnv)
		}
	case board != nil && *b.user == "":
		if pw, err = cfg.MQTT.Password(); err != nil {
			return nil, "", "", "", err
		}
	}
	return cfg, user, pw, b.prefixOf(board), nil
}

// prefixOf is the topic prefix: --prefix, else the board's, else the
// default.
func (b *brokerFlags) prefixOf(board *config.Config) string {
	if *b.prefix != "" {
		return *b.prefix
	}
	if board != nil && board.MQTT.Prefix != "" {
		return board.MQTT.Prefix
	}
	return publish.DefaultPrefix
}

// cmdFleetPush checks, signs and publishes a fleet config.
func cmdFleetPush(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fleet push", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: agent fleet push (--group G | --device D) --key KEY.pem [--config LOCAL.yaml [--over GROUP.yaml]] [--broker URL --user U --password-env VAR --prefix P] [--version N] [--dry-run] FILE")
		fmt.Fprintln(stderr, "FILE is a fleet config: version: 1 and keys of the sections "+strings.Join(config.FleetSections, ", ")+".")
		fs.PrintDefaults()
	}
	group := fs.String("group", "", "publish to the fleet `group` (<prefix>/fleet/G/config)")
	device := fs.String("device", "", "publish to one `device` (<prefix>/D/config/set)")
	keyFile := fs.String("key", "", "sign with this private key `file` (agent keygen)")
	version := fs.Uint64("version", 0, "the config's version (default: the Unix time in ms, or the retained version + 1 if that is greater)")
	dryRun := fs.Bool("dry-run", false, "check and sign, print what would be pushed, publish nothing")
	var over []string
	fs.Func("over", "with --config: a fleet config `FILE` the boards already run, merged before this one (the group's, under a device's); repeatable, in order", func(s string) error {
		over = append(over, s)
		return nil
	})
	bf := addBrokerFlags(fs)
	pos, err := cli.ParseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 1:
		return cli.Usagef("give one fleet config file")
	case (*group == "") == (*device == ""):
		return cli.Usagef("give --group or --device (one of them)")
	case *keyFile == "":
		return cli.Usagef("--key is required: boards accept only signed configs")
	case *version > signing.MaxVersion:
		return cli.Usagef("--version %d is above %d", *version, uint64(signing.MaxVersion))
	case cli.IsSet(fs, "version") && *version == 0:
		return cli.Usagef("--version must be at least 1")
	case len(over) > 0 && *bf.config == "":
		return cli.Usagef("--over needs --config: the board the layers are merged onto")
	}
	file := pos[0]
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("fleet push: %w", err)
	}
	layer, err := config.ParseLayer(data, file)
	if err != nil {
		return err
	}
	var board, merged *config.Config
	if *bf.config != "" {
		if board, err = config.Load(*bf.config); err != nil {
			return err
		}
		var layers []*config.Layer
		for _, o := range over {
			b, err := os.ReadFile(o)
			if err != nil {
				return fmt.Errorf("fleet push: --over: %w", err)
			}
			l, err := config.ParseLayer(b, o)
			if err != nil {
				return err
			}
			layers = append(layers, l)
		}
		onto := strings.Join(append([]string{*bf.config}, over...), " + ")
		if merged, err = config.Merge(board, append(layers, layer)...); err != nil {
			return fmt.Errorf("fleet push: %s merged onto %s has errors; boards would reject it:\n%w", file, onto, err)
		}
		if g := board.Device.Group; *group != "" && g != *group {
			fmt.Fprintf(stderr, "agent fleet push: warning: %s is a board of group %q, not %q: it will not receive this config\n", *bf.config, g, *group)
		}
	}
	key, err := signing.LoadPrivateKey(*keyFile)
	if err != nil {
		return err
	}
	pub, _ := key.Public().(ed25519.PublicKey)
	prefix := bf.prefixOf(board)
	var topic string
	if *group != "" {
		topic, err = publish.FleetConfigTopic(prefix, *group)
	} else {
		var t publish.Topics
		t, err = publish.NewTopics(prefix, *device)
		topic = t.ConfigSet()
	}
	if err != nil {
		return err
	}
	now := time.Now()

	if *dryRun {
		v, how := *version, "--version"
		if v == 0 {
			v, how = uint64(now.UnixMilli()), "the Unix time in ms; a push takes the retained version + 1 if that is greater"
		}
		if _, err := signing.Sign(key, signing.Message{Purpose: signing.Config, Topic: topic, Body: data, Version: v, Time: now}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "topic:   %s\nversion: %d (%s)\nsha256:  %s\nkey id:  %s\n", topic, v, how, layer.SHA256, signing.KeyID(pub))
		if merged != nil {
			out, err := merged.Marshal()
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "# %s merged onto %s: the effective config\n%s", file, strings.Join(append([]string{*bf.config}, over...), " + "), out)
		}
		fmt.Fprintln(stdout, "dry run: nothing published")
		return nil
	}

	// Credentials only now: a dry run, on an operator's machine, needs
	// none of the board's.
	cfg, user, pw, _, err := bf.connection(board)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	retained := make(chan []byte, 1)
	c, broker, err := dial(ctx, cfg, user, pw, "fleet-push", *bf.timeout, func(c mqtt.Client) {
		c.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) {
			if m.Retained() {
				select {
				case retained <- m.Payload():
				default:
				}
			}
		})
	})
	if err != nil {
		return err
	}
	if c == nil {
		return errors.New("fleet push: interrupted")
	}
	defer c.Disconnect(250)
	last, err := retainedVersion(ctx, retained, 2*time.Second)
	if err != nil {
		fmt.Fprintf(stderr, "agent fleet push: warning: the retained message on %s: %v; overwriting it\n", topic, err)
	}
	v := *version
	switch {
	case v == 0:
		v = max(uint64(now.UnixMilli()), last+1)
	case v <= last:
		return fmt.Errorf("fleet push: --version %d is not above version %d, retained on %s: boards would refuse it as stale; give a greater --version, or leave it out", v, last, topic)
	}
	if v > signing.MaxVersion {
		return fmt.Errorf("fleet push: %s holds version %d, the largest a config may carry, so boards accept no later one; the boards' fleet state (fleet.dir) must be reset", topic, last)
	}
	payload, err := signing.Sign(key, signing.Message{Purpose: signing.Config, Topic: topic, Body: data, Version: v, Time: now})
	if err != nil {
		return err
	}
	c.Unsubscribe(topic).WaitTimeout(*bf.timeout)
	tok := c.Publish(topic, 1, true, payload)
	if !tok.WaitTimeout(*bf.timeout) {
		return fmt.Errorf("fleet push: publish to %s on %s: no acknowledgement within %v", topic, broker, *bf.timeout)
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("fleet push: publish to %s on %s: %w (may %s publish there?)", topic, broker, err, user)
	}
	if err := readBack(ctx, c, topic, payload, v, *bf.timeout); err != nil {
		return fmt.Errorf("fleet push: %s on %s (user %q): %w", topic, broker, user, err)
	}
	fmt.Fprintf(stdout, "pushed version %d (sha256 %s) to %s\n", v, layer.SHA256, topic)
	return nil
}

// readBack checks that the broker holds payload retained on topic. The
// acknowledgement alone proves nothing: in MQTT 3.1.1 a broker
// acknowledges a publish its ACL refuses and drops it (mosquitto does).
func readBack(ctx context.Context, c mqtt.Client, topic string, payload []byte, version uint64, wait time.Duration) error {
	if !c.IsConnectionOpen() {
		return fmt.Errorf("the broker closed the connection after version %d was sent: it refused the publish? (may this user publish there?)", version)
	}
	got := make(chan []byte, 1)
	tok := c.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) {
		if m.Retained() {
			select {
			case got <- m.Payload():
			default:
			}
		}
	})
	if !tok.WaitTimeout(wait) || tok.Error() != nil {
		return fmt.Errorf("version %d sent, but it cannot be read back (%v): the broker may have refused it (may this user publish there?); check with mosquitto_sub -t %s -C 1", version, tok.Error(), topic)
	}
	timer := time.NewTimer(min(wait, 5*time.Second))
	defer timer.Stop()
	select {
	case b := <-got:
		if string(b) == string(payload) {
			return nil
		}
		other, _ := envelopeVersion(b)
		if other > version {
			return fmt.Errorf("another push replaced version %d at once (the broker holds version %d): two operators at work?", version, other)
		}
		return fmt.Errorf("the broker acknowledged version %d but holds another message (version %d): may this user publish there?", version, other)
	case <-timer.C:
		return fmt.Errorf("the broker acknowledged version %d but does not hold it retained: may this user publish there? (brokers drop refused publishes silently in MQTT 3.1.1)", version)
	case <-ctx.Done():
		return errors.New("interrupted")
	}
}

// retainedVersion waits up to wait for the retained envelope of a topic
// and returns its version: 0 when there is none (or it has none). A
// broker sends retained messages right after the subscription, so the
// wait ends at once when there is one.
func retainedVersion(ctx context.Context, retained <-chan []byte, wait time.Duration) (uint64, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case b := <-retained:
		return envelopeVersion(b)
	case <-timer.C:
	case <-ctx.Done():
	}
	return 0, nil
}

// envelopeVersion reads the "version" of a signed envelope without
// verifying it: the pusher only needs a number above it, and a forged
// high version costs nothing but a big number.
func envelopeVersion(b []byte) (uint64, error) {
	if len(b) == 0 {
		return 0, nil // a cleared retained message
	}
	var e struct {
		Version uint64 `json:"version"`
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return 0, fmt.Errorf("not a signed envelope: %v", err)
	}
	if e.Version > signing.MaxVersion {
		return 0, fmt.Errorf("version %d is above %d", e.Version, uint64(signing.MaxVersion))
	}
	return e.Version, nil
}

// cmdFleetStatus prints a table of the boards: what each did with its
// last fleet config, what it runs and when it last reported.
func cmdFleetStatus(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fleet status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: agent fleet status [--group G] [--config LOCAL.yaml | --broker URL --user U --password-env VAR] [--prefix P] [--wait 2s] [--json]")
		fs.PrintDefaults()
	}
	group := fs.String("group", "", "list only the boards of this `group`")
	wait := fs.Duration("wait", 2*time.Second, "how long to collect the boards' retained messages")
	asJSON := fs.Bool("json", false, "print a JSON array of the boards instead of a table")
	bf := addBrokerFlags(fs)
	pos, err := cli.ParseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return cli.Usagef("unexpected argument %q", pos[0])
	case *wait <= 0:
		return cli.Usagef("--wait must be positive")
	}
	var board *config.Config
	if *bf.config != "" {
		if board, err = config.Load(*bf.config); err != nil {
			return err
		}
	}
	cfg, user, pw, prefix, err := bf.connection(board)
	if err != nil {
		return err
	}
	if _, err := publish.NewTopics(prefix, "x"); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	msgs := make(chan mqtt.Message, 256)
	done := make(chan struct{})
	defer close(done)
	c, broker, err := dial(ctx, cfg, user, pw, "fleet-status", *bf.timeout, nil)
	if err != nil {
		return err
	}
	if c == nil {
		return errors.New("fleet status: interrupted")
	}
	defer c.Disconnect(250)
	filters := map[string]byte{prefix + "/+/config/state": 1, prefix + "/+/status": 1, prefix + "/+/stats": 1}
	tok := c.SubscribeMultiple(filters, func(_ mqtt.Client, m mqtt.Message) {
		select {
		case msgs <- m:
		case <-done:
		}
	})
	if !tok.WaitTimeout(*bf.timeout) {
		return fmt.Errorf("fleet status: subscribe on %s: no acknowledgement within %v", broker, *bf.timeout)
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("fleet status: subscribe on %s: %w", broker, err)
	}
	for f, code := range tok.(*mqtt.SubscribeToken).Result() {
		if code == 0x80 {
			return fmt.Errorf("fleet status: subscribe to %s on %s: refused by the broker (may user %q read %s/#?)", f, broker, user, prefix)
		}
	}
	boards := newBoardSet(prefix)
	timer := time.NewTimer(*wait)
	defer timer.Stop()
collect:
	for {
		select {
		case m := <-msgs:
			if err := boards.add(m.Topic(), m.Payload()); err != nil {
				fmt.Fprintf(stderr, "agent fleet status: warning: %v\n", err)
			}
		case <-timer.C:
			break collect
		case <-ctx.Done():
			return errors.New("fleet status: interrupted")
		}
	}
	rows := boards.rows(*group, time.Now())
	if len(rows) == 0 {
		fmt.Fprintf(stderr, "agent fleet status: no boards on %s under %s/ within %v (another --prefix? a longer --wait?)\n", broker, prefix, *wait)
	}
	if *asJSON {
		if rows == nil {
			rows = []boardRow{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	writeBoardTable(stdout, rows)
	return nil
}

// boardSet collects the retained messages of the boards.
type boardSet struct {
	prefix string
	boards map[string]*boardMsgs
}

type boardMsgs struct {
	state  *publish.ConfigState
	stats  *publish.Stats
	status string
}

func newBoardSet(prefix string) *boardSet {
	return &boardSet{prefix: prefix + "/", boards: map[string]*boardMsgs{}}
}

// add records one message of <prefix>/<device>/{config/state,status,stats}.
// An empty payload (a retained message cleared) forgets that part.
func (s *boardSet) add(topic string, payload []byte) error {
	rest, ok := strings.CutPrefix(topic, s.prefix)
	if !ok {
		return nil
	}
	device, kind, ok := strings.Cut(rest, "/")
	if !ok || device == "" || device == "fleet" {
		return nil
	}
	b := s.boards[device]
	if b == nil {
		b = &boardMsgs{}
		s.boards[device] = b
	}
	switch kind {
	case "config/state":
		b.state = nil
		if len(payload) == 0 {
			return nil
		}
		st, err := publish.DecodeConfigState(payload)
		if err != nil {
			return fmt.Errorf("%s: %v", topic, err)
		}
		b.state = &st
	case "stats":
		b.stats = nil
		if len(payload) == 0 {
			return nil
		}
		st, err := publish.DecodeStats(payload)
		if err != nil {
			return fmt.Errorf("%s: %v", topic, err)
		}
		b.stats = &st
	case "status":
		b.status = string(payload)
	}
	return nil
}

// boardRow is one board in `agent fleet status`: a table row, or an
// element of the --json array.
type boardRow struct {
	Device string `json:"device"`
	Group  string `json:"group,omitempty"`
	// Status is the retained availability: online, offline, or "" when
	// the board never connected (or its status was cleared).
	Status string `json:"status"`
	// The last config state: State is applied, rejected or rolled_back
	// ("" when the board published none), Health checking or passed.
	State   string `json:"state,omitempty"`
	Version uint64 `json:"version,omitempty"`
	Health  string `json:"health,omitempty"`
	Source  string `json:"source,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// What runs.
	Model       string `json:"model,omitempty"`
	ModelSHA256 string `json:"model_sha256,omitempty"`
	Backend     string `json:"backend,omitempty"`
	// From the last stats: frames classified per second, and when.
	FPS      *float64   `json:"fps,omitempty"`
	LastSeen *time.Time `json:"last_seen,omitempty"`
	// AgeS is the age of LastSeen in seconds when the command ran.
	AgeS *float64 `json:"age_s,omitempty"`
}

// rows returns the boards sorted by device; with group, only the boards
// whose last config state names that group.
func (s *boardSet) rows(group string, now time.Time) []boardRow {
	var rows []boardRow
	for device, b := range s.boards {
		if b.state == nil && b.stats == nil && b.status == "" {
			continue
		}
		r := boardRow{Device: device, Status: b.status}
		if st := b.state; st != nil {
			r.Group, r.State, r.Version, r.Health, r.Source, r.Reason = st.Group, st.State, st.Version, st.Health, st.Source, st.Reason
			r.Model, r.ModelSHA256, r.Backend = st.Running.Model.Name, st.Running.Model.SHA256, st.Running.Backend
		}
		if group != "" && r.Group != group {
			continue
		}
		if st := b.stats; st != nil {
			fps := st.FPS.Processed
			r.FPS = &fps
			if st.Backend != "" {
				r.Backend = st.Backend // what runs now: after an Edge TPU failover, not what was configured
			}
			if !st.TS.IsZero() {
				ts := st.TS.Time
				age := now.Sub(ts).Seconds()
				r.LastSeen, r.AgeS = &ts, &age
			}
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b boardRow) int { return strings.Compare(a.Device, b.Device) })
	return rows
}

// maxReason is the width of the REASON column; --json has it whole.
const maxReason = 60

// writeBoardTable prints rows as a table and a summary line.
func writeBoardTable(w io.Writer, rows []boardRow) {
	table := [][]string{{"DEVICE", "GROUP", "STATUS", "CONFIG", "MODEL", "BACKEND", "FPS", "LAST SEEN", "REASON"}}
	var applied, rejected, rolledBack, offline int
	for _, r := range rows {
		switch r.State {
		case publish.ConfigApplied:
			applied++
		case publish.ConfigRejected:
			rejected++
		case publish.ConfigRolledBack:
			rolledBack++
		}
		if r.Status == publish.StatusOffline {
			offline++
		}
		cfg := "-"
		if r.State != "" {
			cfg = r.State + " v" + strconv.FormatUint(r.Version, 10)
			if r.Health != "" {
				cfg += " (" + r.Health + ")"
			}
		}
		model := r.Model
		if sha := r.ModelSHA256; sha != "" {
			model = strings.TrimSpace(model + " " + sha[:min(8, len(sha))])
		}
		fps, seen := "-", "-"
		if r.FPS != nil {
			fps = strconv.FormatFloat(*r.FPS, 'f', 1, 64)
		}
		if r.AgeS != nil {
			seen = ago(time.Duration(*r.AgeS * float64(time.Second)))
		}
		reason := r.Reason
		if len(reason) > maxReason {
			reason = reason[:maxReason-3] + "..."
		}
		table = append(table, []string{
			cell(r.Device), cell(r.Group), cell(r.Status), cell(cfg), cell(model), cell(r.Backend), fps, seen, printable(reason),
		})
	}
	texttable.Write(w, table, map[int]bool{6: true})
	fmt.Fprintf(w, "%d boards: %d applied, %d rejected, %d rolled back, %d offline\n", len(rows), applied, rejected, rolledBack, offline)
}

// cell is s for a table cell: "-" when empty, printable ASCII only.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return printable(s)
}

// printable replaces what is not printable ASCII with '?': the cells come
// from the network, and a terminal must not receive escape sequences (nor
// texttable bytes it cannot measure).
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return '?'
		}
		return r
	}, s)
}

// ago formats an age as "3s ago", "5m ago", "2h ago", "4d ago"; a stats
// time ahead of this machine's clock is "now" (clocks disagree a little).
func ago(d time.Duration) string {
	switch {
	case d < time.Second:
		return "now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
}
