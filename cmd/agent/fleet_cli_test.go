package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/internal/signing"
	"github.com/fruitcam/fruitcam/publish"
	"github.com/fruitcam/fruitcam/publish/publishtest"
)

// fleetBoard is a board's own file for the fleet tests: no model or
// camera needs to exist, since push only parses and merges.
const fleetBoard = `version: 1
device: {id: belt1, group: lines}
model: {path: /opt/fruitcam/fruits.tflite, top: 3}
cameras:
  - name: belt
    source: {type: pattern, width: 160, height: 120, rate: 30}
mqtt: {enabled: true, broker: "%s"}
signing: {trusted_keys: /etc/fruitcam/trusted_keys}
fleet: {dir: /var/lib/fruitcam/fleet}
`

// fleetLayer is a group's fleet config naming its model by URL.
var fleetLayer = `version: 1
model:
  path: https://models.example/fruits_v3.tflite
  sha256: ` + strings.Repeat("ab", 32) + `
  top: 2
cameras:
  - name: belt
    trigger: {type: continuous, fps: 5}
`

// fleetFiles writes an operator key, a board's file (on broker) and the
// fleet config in a temporary directory.
func fleetFiles(t *testing.T, broker string) (key ed25519.PrivateKey, keyPath, boardPath, layerPath string) {
	t.Helper()
	dir := t.TempDir()
	_, key, err := signing.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keyPath = filepath.Join(dir, "operator.pem")
	if err := signing.SavePrivateKey(keyPath, key); err != nil {
		t.Fatal(err)
	}
	boardPath = writeFleetFile(t, dir, "board.yaml", fmt.Sprintf(fleetBoard, broker))
	layerPath = writeFleetFile(t, dir, "lines.yaml", fleetLayer)
	return key, keyPath, boardPath, layerPath
}

func writeFleetFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func fleetCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestFleetPushDryRun: --dry-run prints the topic, version, body hash,
// key id and the merged config, and reaches for no broker.
func TestFleetPushDryRun(t *testing.T) {
	key, keyPath, boardPath, layerPath := fleetFiles(t, "tcp://127.0.0.1:1") // nothing listens there
	pub, _ := key.Public().(ed25519.PublicKey)
	code, out, errOut := fleetCLI("fleet", "push", "--group", "lines", "--key", keyPath, "--config", boardPath, "--version", "42", "--dry-run", layerPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"topic:   fruitcam/fleet/lines/config\n",
		"version: 42 (--version)\n",
		"sha256:  " + hexSHA256([]byte(fleetLayer)) + "\n",
		"key id:  " + signing.KeyID(pub) + "\n",
		"merged onto " + boardPath,
		"path: https://models.example/fruits_v3.tflite", // the layer's
		"top: 2",
		"fps: 5",
		"type: pattern", // the board's
		"dry run: nothing published",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// A device's override, merged over its group's (--over): the device's
	// key wins, the group's others stay.
	override := writeFleetFile(t, t.TempDir(), "belt7.yaml", "version: 1\nmodel: {top: 4}\n")
	code, out, errOut = fleetCLI("fleet", "push", "--device", "belt7", "--key", keyPath, "--config", boardPath, "--over", layerPath, "--dry-run", override)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"merged onto " + boardPath + " + " + layerPath, "top: 4", "path: https://models.example/fruits_v3.tflite"} {
		if !strings.Contains(out, want) {
			t.Errorf("--over: output lacks %q:\n%s", want, out)
		}
	}
	if code, _, _ := fleetCLI("fleet", "push", "--device", "belt7", "--key", keyPath, "--over", layerPath, "--dry-run", override); code != 2 {
		t.Errorf("--over without --config: exit %d, want 2", code)
	}

	// Without --config: no merged config, the device topic, a version from the clock.
	before := time.Now().UnixMilli()
	code, out, errOut = fleetCLI("fleet", "push", "--device", "belt7", "--prefix", "plant/a", "--key", keyPath, "--dry-run", layerPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "topic:   plant/a/belt7/config/set\n") || strings.Contains(out, "effective config") {
		t.Errorf("output:\n%s", out)
	}
	var v int64
	if _, err := fmt.Sscanf(out[strings.Index(out, "version: "):], "version: %d", &v); err != nil || v < before || v > time.Now().UnixMilli() {
		t.Errorf("version %d (%v), want the Unix time in ms", v, err)
	}
}

// TestFleetPushRefuses: push checks a fleet config as the boards will and
// publishes nothing that they would reject.
func TestFleetPushRefuses(t *testing.T) {
	_, keyPath, boardPath, layerPath := fleetFiles(t, "tcp://127.0.0.1:1")
	dir := t.TempDir()
	tests := []struct {
		name  string
		args  []string // before the file; --key and --dry-run are added
		layer string   // "" : layerPath
		code  int
		want  string
	}{
		{"local-only section", []string{"--group", "g"}, "version: 1\nmqtt: {broker: tcp://evil:1883}\n", 1, "may not set mqtt"},
		{"signing section", []string{"--group", "g"}, "version: 1\nsigning: {trusted_keys: /tmp/k}\n", 1, "may not set signing"},
		{"unknown key", []string{"--group", "g"}, "version: 1\nmodel: {topp: 2}\n", 1, "topp"},
		{"no version", []string{"--group", "g"}, "model: {top: 2}\n", 1, "version"},
		{"URL without sha256", []string{"--group", "g"}, "version: 1\nmodel: {path: https://m.example/m.tflite}\n", 1, "sha256"},
		{"merged invalid", []string{"--group", "g", "--config", boardPath}, "version: 1\nmodel: {top: -1}\n", 1, "boards would reject it"},
		{"no target", nil, "", 2, "--group or --device"},
		{"two targets", []string{"--group", "g", "--device", "d"}, "", 2, "--group or --device"},
		{"bad group", []string{"--group", "a/b"}, "", 1, "group"},
		{"version 0", []string{"--group", "g", "--version", "0"}, "", 2, "at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := layerPath
			if tt.layer != "" {
				file = writeFleetFile(t, dir, strings.ReplaceAll(tt.name, " ", "_")+".yaml", tt.layer)
			}
			args := append([]string{"fleet", "push", "--key", keyPath, "--dry-run"}, tt.args...)
			code, out, errOut := fleetCLI(append(args, file)...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, errOut, tt.code, tt.want)
			}
			if strings.Contains(out, "topic:") {
				t.Errorf("printed a push: %s", out)
			}
		})
	}
	if code, _, errOut := fleetCLI("fleet", "push", "--group", "g", layerPath); code != 2 || !strings.Contains(errOut, "--key is required") {
		t.Errorf("no key: exit %d, %s", code, errOut)
	}
	if code, _, errOut := fleetCLI("fleet"); code != 2 || !strings.Contains(errOut, "push or status") {
		t.Errorf("no subcommand: exit %d, %s", code, errOut)
	}
	if code, _, errOut := fleetCLI("fleet", "frob"); code != 2 || !strings.Contains(errOut, `unknown subcommand "frob"`) {
		t.Errorf("unknown subcommand: exit %d, %s", code, errOut)
	}
}

// TestFleetPush publishes to a broker and reads the retained envelope
// back as a board would: signed by the operator's key, for its topic,
// with versions that only grow.
func TestFleetPush(t *testing.T) {
	m := publishtest.StartMosquitto(t)
	key, keyPath, boardPath, layerPath := fleetFiles(t, m.URL())
	pub, _ := key.Public().(ed25519.PublicKey)
	verifier, err := signing.NewVerifier([]signing.TrustedKey{signing.NewTrustedKey(pub, "operator")}, signing.Options{})
	if err != nil {
		t.Fatal(err)
	}
	topic := "fruitcam/fleet/lines/config"
	retained := func() signing.Message {
		t.Helper()
		sub := publishtest.Subscribe(t, publishtest.Conn{Broker: m.URL()}, topic)
		msg := sub.ExpectTopic(t, topic)
		if !msg.Retained {
			t.Error("not retained")
		}
		got, err := verifier.VerifyConfig(topic, msg.Payload, signing.LastConfig{})
		if err != nil {
			t.Fatal(err)
		}
		sub.Client().Disconnect(0)
		return got
	}
	push := func(args ...string) (uint64, string) {
		t.Helper()
		code, out, errOut := fleetCLI(append([]string{"fleet", "push", "--key", keyPath}, args...)...)
		if code != 0 {
			t.Fatalf("push %q: exit %d: %s", args, code, errOut)
		}
		var v uint64
		var sum, to string
		if _, err := fmt.Sscanf(out, "pushed version %d (sha256 %64s) to %s\n", &v, &sum, &to); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		if sum != hexSHA256([]byte(fleetLayer)) {
			t.Errorf("sha256 %s, want the file's", sum)
		}
		return v, to
	}

	before := uint64(time.Now().UnixMilli())
	v1, to := push("--group", "lines", "--config", boardPath, layerPath)
	if to != topic || v1 < before {
		t.Errorf("pushed v%d to %s; want a Unix time in ms to %s", v1, to, topic)
	}
	got := retained()
	if got.Version != v1 || string(got.Body) != fleetLayer || got.KeyID != signing.KeyID(pub) || got.Topic != topic {
		t.Errorf("retained %+v, want version %d of the file", got, v1)
	}

	// A version far ahead (another operator's counter): the next push goes one above it.
	ahead := v1 + 1e9
	push("--group", "lines", "--broker", m.URL(), "--version", strconv.FormatUint(ahead, 10), layerPath)
	if v, _ := push("--group", "lines", "--broker", m.URL(), layerPath); v != ahead+1 {
		t.Errorf("pushed v%d after v%d, want v%d", v, ahead, ahead+1)
	}
	if got := retained(); got.Version != ahead+1 {
		t.Errorf("retained v%d, want v%d", got.Version, ahead+1)
	}
	// An explicit version at or below the retained one would be refused by every board.
	code, _, errOut := fleetCLI("fleet", "push", "--key", keyPath, "--group", "lines", "--broker", m.URL(), "--version", "5", layerPath)
	if code != 1 || !strings.Contains(errOut, "not above version "+strconv.FormatUint(ahead+1, 10)) {
		t.Errorf("stale --version: exit %d, %s", code, errOut)
	}

	// One device.
	if _, to := push("--device", "belt7", "--broker", m.URL(), layerPath); to != "fruitcam/belt7/config/set" {
		t.Errorf("device push to %s", to)
	}
}

// TestFleetStatus publishes boards' retained state, stats and status
// and reads them back as the table, the summary and --json.
func TestFleetStatus(t *testing.T) {
	m := publishtest.StartMosquitto(t)
	cl := publishtest.Dial(t, publishtest.Conn{Broker: m.URL()})
	now := time.Now()
	sha := strings.Repeat("c0ffee", 10) + "abcd"
	retain := func(topic string, v any) {
		var b []byte
		switch v := v.(type) {
		case string:
			b = []byte(v)
		default:
			var err error
			if b, err = publish.Encode(v); err != nil {
				t.Fatal(err)
			}
		}
		publishtest.Publish(t, cl, topic, 1, true, b)
	}
	state := func(device, group, st, health string, v uint64, reason string) publish.ConfigState {
		return publish.ConfigState{Schema: publish.Schema, TS: publish.Timestamp{Time: now}, Device: device, Group: group,
			Source: "group", Version: v, State: st, Health: health, Reason: reason,
			Running: publish.Running{Model: publish.Model{Name: "fruits_v3", SHA256: sha}, Backend: "native"}}
	}
	stats := func(device string, fps float64, age time.Duration, backend string) publish.Stats {
		return publish.Stats{Schema: publish.Schema, TS: publish.Timestamp{Time: now.Add(-age)}, Device: device,
			FPS: publish.FPS{Processed: fps}, Backend: backend}
	}
	retain("fruitcam/belt1/config/state", state("belt1", "lines", publish.ConfigApplied, publish.HealthPassed, 17, ""))
	retain("fruitcam/belt1/stats", stats("belt1", 9.5, 3*time.Second, "edgetpu"))
	retain("fruitcam/belt1/status", "online")
	retain("fruitcam/belt2/config/state", state("belt2", "lines", publish.ConfigRejected, "", 18,
		"model: fetch https://models.example/fruits_v3.tflite: sha256 mismatch: got 1234, want 5678: the file changed"))
	retain("fruitcam/belt2/status", "online")
	retain("fruitcam/belt3/config/state", state("belt3", "dock", publish.ConfigRolledBack, "", 19, "health: \x1b[31mno frames\x1b[0m"))
	retain("fruitcam/belt3/stats", stats("belt3", 0, 2*time.Hour, ""))
	retain("fruitcam/belt3/status", "offline")
	retain("fruitcam/belt4/status", "online") // no fleet state yet
	retain("fruitcam/belt5/stats", "not json")
	retain("other/belt9/status", "online")

	code, out, errOut := fleetCLI("fleet", "status", "--broker", m.URL(), "--wait", "500ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	t.Logf("agent fleet status:\n%s", out)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines, want a header, 4 boards and the summary:\n%s", len(lines), out)
	}
	for i, want := range [][]string{
		{"DEVICE", "GROUP", "STATUS", "CONFIG", "MODEL", "BACKEND", "FPS", "LAST SEEN", "REASON"},
		{"belt1", "lines", "online", "applied v17 (passed)", "fruits_v3 c0ffeec0", "edgetpu", "9.5", "3s ago"},
		{"belt2", "lines", "online", "rejected v18", "native", "model: fetch https://models.example/fruits_v3.tflite: sha...", "-"},
		{"belt3", "dock", "offline", "rolled_back v19", "0.0", "2h ago", "health: ?[31mno frames?[0m"},
		{"belt4", "-", "online", "-"},
		{"4 boards: 1 applied, 1 rejected, 1 rolled back, 1 offline"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("line %d %q lacks %q", i, lines[i], w)
			}
		}
	}
	if !strings.Contains(errOut, "fruitcam/belt5/stats") {
		t.Errorf("no warning about the bad stats payload: %q", errOut)
	}

	code, out, errOut = fleetCLI("fleet", "status", "--broker", m.URL(), "--wait", "300ms", "--prefix", "nothere")
	if code != 0 || !strings.Contains(out, "0 boards: 0 applied") || !strings.Contains(errOut, "no boards") {
		t.Errorf("no boards: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	code, out, errOut = fleetCLI("fleet", "status", "--broker", m.URL(), "--wait", "500ms", "--group", "lines", "--json")
	if code != 0 {
		t.Fatalf("--json: exit %d: %s", code, errOut)
	}
	var rows []boardRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(rows) != 2 || rows[0].Device != "belt1" || rows[1].Device != "belt2" {
		t.Fatalf("--group lines: %+v", rows)
	}
	if r := rows[0]; r.State != "applied" || r.Version != 17 || r.ModelSHA256 != sha || r.FPS == nil || *r.FPS != 9.5 || r.AgeS == nil || *r.AgeS < 3 {
		t.Errorf("belt1: %+v", r)
	}
	if r := rows[1]; r.FPS != nil || r.LastSeen != nil || !strings.HasSuffix(r.Reason, "the file changed") {
		t.Errorf("belt2: %+v", r)
	}
}

func TestAgo(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Minute: "now", 0: "now", 3 * time.Second: "3s ago", 90 * time.Second: "1m ago",
		5 * time.Hour: "5h ago", 47 * time.Hour: "47h ago", 72 * time.Hour: "3d ago",
	} {
		if got := ago(d); got != want {
			t.Errorf("ago(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestEnvelopeVersion(t *testing.T) {
	tests := []struct {
		payload string
		want    uint64
		err     bool
	}{
		{``, 0, false},
		{`{"signed":1,"version":17,"body":"eA=="}`, 17, false},
		{`{"signed":1}`, 0, false},
		{`not json`, 0, true},
		{`{"version":-1}`, 0, true},
		{`{"version":9007199254740992}`, 0, true},
	}
	for _, tt := range tests {
		got, err := envelopeVersion([]byte(tt.payload))
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("envelopeVersion(%q) = %d, %v; want %d, error %v", tt.payload, got, err, tt.want, tt.err)
		}
	}
}

// TestFleetPushRefusedByBroker: a broker that refuses the publish (the
// embedded broker lets only operators push fleet configs; a viewer may
// read) is an error, not a "pushed" line: push reads the retained message
// back.
func TestFleetPushRefusedByBroker(t *testing.T) {
	b, err := publish.StartBroker(t.Context(), publish.BrokerOptions{
		Listen: "127.0.0.1:0", Device: "belt1",
		Users: map[string]string{"agent": "a", "operator": "o", "viewer": "v"}, Agent: "agent", Operators: []string{"operator"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	t.Setenv("FLEET_TEST_PW", "v")
	_, keyPath, _, layerPath := fleetFiles(t, b.URL())
	start := time.Now()
	code, out, errOut := fleetCLI("fleet", "push", "--key", keyPath, "--group", "lines", "--broker", b.URL(),
		"--user", "viewer", "--password-env", "FLEET_TEST_PW", "--timeout", "3s", layerPath)
	if code != 1 || strings.Contains(out, "pushed") || !strings.Contains(errOut, "fruitcam/fleet/lines/config") {
		t.Errorf("exit %d, stdout %q, stderr %q; want a failure naming the topic", code, out, errOut)
	}
	t.Logf("%v: %s", time.Since(start), errOut)
}
