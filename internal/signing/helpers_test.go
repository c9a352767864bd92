package signing

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"testing"
	"time"
)

// testKey derives a fixed key pair from name, so tests and golden files
// are deterministic.
func testKey(name string) (ed25519.PublicKey, ed25519.PrivateKey) {
	seed := sha256.Sum256([]byte(name))
	priv := ed25519.NewKeyFromSeed(seed[:])
	return priv.Public().(ed25519.PublicKey), priv
}

var (
	t0          = time.Date(2026, 11, 29, 9, 41, 7, 123e6, time.UTC)
	goldenNonce = []byte("fruitcam-golden!")
)

const (
	cmdTopic  = "fruitcam/belt-a/cmd/pause"
	cfgTopic  = "fruitcam/fleet/line1/config"
	cmdBody   = `{"id":"42"}`
	cfgBody   = "version: 1\nmodel:\n  path: /var/lib/fruitcam/fruit.tflite\ncameras:\n  - name: belt1\n    source: {type: v4l2, device: /dev/video0}\n"
	goldenKey = "fruitcam golden test key; public, never trust it"
)

// sign signs m with priv and fails the test on error.
func sign(t testing.TB, priv ed25519.PrivateKey, m Message) []byte {
	t.Helper()
	b, err := Sign(priv, m)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return b
}

func command(topic, body string, ts time.Time, nonce string) Message {
	return Message{Purpose: Command, Topic: topic, Body: []byte(body), Time: ts, Nonce: []byte(nonce)}
}

func config(topic, body string, version uint64) Message {
	return Message{Purpose: Config, Topic: topic, Body: []byte(body), Version: version, Time: t0, Nonce: goldenNonce}
}

// edit decodes an envelope into a map, applies f, and encodes it again:
// for envelopes that Sign would not produce.
func edit(t testing.TB, payload []byte, f func(map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatalf("edit: %v", err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("edit: %v", err)
	}
	return b
}

func newVerifier(t testing.TB, o Options, pubs ...ed25519.PublicKey) *Verifier {
	t.Helper()
	var keys []TrustedKey
	for _, p := range pubs {
		keys = append(keys, NewTrustedKey(p, "test"))
	}
	v, err := NewVerifier(keys, o)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}
