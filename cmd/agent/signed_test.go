package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/internal/signing"
	"github.com/fruitcam/fruitcam/publish"
	"github.com/fruitcam/fruitcam/publish/publishtest"
)

// TestSignedCommands: with signing.trusted_keys the agent obeys commands
// signed by a trusted key (agent keygen, agent command --key) and refuses,
// with the reason in the reply, an unsigned command, a replayed one, a
// forged signature, an untrusted key, and a command signed for another
// device.
func TestSignedCommands(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "operator.pem")
	var line, stderr bytes.Buffer
	if code := run([]string{"keygen", "--out", key, "--comment", "test operator"}, &line, &stderr); code != 0 {
		t.Fatalf("keygen: %s", stderr.String())
	}
	trusted := filepath.Join(dir, "trusted.keys")
	if err := os.WriteFile(trusted, line.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	cfg := testConfig(t, `cameras:
  - name: belt
    source: {type: pattern, width: 160, height: 120, rate: 30}
signing: {trusted_keys: "`+trusted+`"}
`+embeddedMQTT(t, addr))
	cfgPath := writeConfigFile(t, cfg, dir)
	a, sub, cancel, done := startAgent(t, cfg, addr)
	defer cancel()

	// The operator's tool: signed, accepted.
	var out bytes.Buffer
	stderr.Reset()
	if code := run([]string{"command", "--config", cfgPath, "--key", key, "--user", "operator", "--password-env", "VIEWER_TEST_PW", "pause"}, &out, &stderr); code != 0 {
		t.Fatalf("agent command pause: exit %d: %s", code, stderr.String())
	}
	if !a.paused.Load() {
		t.Error("not paused by a signed command")
	}

	priv, err := signing.LoadPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	_, stranger, err := signing.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	topic := "fruitcam/testbelt/cmd/resume"
	sign := func(k []byte, topic string) []byte {
		p, err := signing.Sign(k, signing.Message{Purpose: signing.Command, Topic: topic, Body: []byte(`{"id":"r"}`), Time: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := sign(priv, topic)
	forged := bytes.Clone(good)
	var env map[string]any
	json.Unmarshal(forged, &env)
	// Flip a bit of the signature itself, not of its base64 text (which
	// could make it malformed rather than forged).
	sig, err := base64.StdEncoding.DecodeString(env["sig"].(string))
	if err != nil {
		t.Fatal(err)
	}
	sig[5] ^= 1
	env["sig"] = base64.StdEncoding.EncodeToString(sig)
	forged, _ = json.Marshal(env)

	for _, tc := range []struct {
		name    string
		payload []byte
		want    string // "" : accepted
	}{
		{"unsigned", []byte(`{"id":"r"}`), "not signed"},
		{"signed", good, ""},
		{"replayed", good, "replay"},
		{"forged", forged, "signature"},
		{"untrusted key", sign(stranger, topic), "unknown key"},
		{"another device", sign(priv, "fruitcam/otherbelt/cmd/resume"), "topic"},
	} {
		sub.Reset()
		sub.Publish(t, topic, tc.payload)
		m := sub.WaitFor(t, tc.name+" reply", func(m publishtest.Message) bool { return m.Topic == topic+"/reply" })
		rep, err := publish.DecodeReply(m.Payload)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case tc.want == "" && !rep.OK:
			t.Errorf("%s: refused: %s", tc.name, rep.Error)
		case tc.want != "" && (rep.OK || !strings.Contains(strings.ToLower(rep.Error), tc.want)):
			t.Errorf("%s: reply %s, want a refusal mentioning %q", tc.name, m.Payload, tc.want)
		}
	}
	stopAgent(t, cancel, done)
}

// TestUnsignedCommandsRefusedOnExternalBroker: on a broker the agent does
// not run, and without trusted keys, a command is refused with what to do,
// unless signing.allow_unsigned says the network is trusted.
func TestUnsignedCommandsRefusedOnExternalBroker(t *testing.T) {
	m := publishtest.StartMosquitto(t)
	for _, allow := range []bool{false, true} {
		cfg := testConfig(t, `cameras:
  - name: belt
    source: {type: pattern, width: 160, height: 120, rate: 30}
mqtt: {enabled: true, broker: "`+m.URL()+`", stats_interval: 0s}
`)
		cfg.Signing.AllowUnsigned = allow
		_, cancel, done := startOn(t, cfg)
		sub := publishtest.Subscribe(t, publishtest.Conn{Broker: m.URL()}, "fruitcam/testbelt/cmd/+/reply")
		sub.Publish(t, "fruitcam/testbelt/cmd/pause", []byte(`{"id":"p"}`))
		msg := sub.WaitFor(t, "the pause reply", func(publishtest.Message) bool { return true })
		rep, _ := publish.DecodeReply(msg.Payload)
		if allow != rep.OK || (!allow && !strings.Contains(rep.Error, "signing.trusted_keys")) {
			t.Errorf("allow_unsigned %v: reply %s", allow, msg.Payload)
		}
		stopAgent(t, cancel, done)
	}
}
