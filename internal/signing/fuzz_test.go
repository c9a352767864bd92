package signing

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func seedFile(f *testing.F, name string) []byte {
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	return data
}

// FuzzVerify feeds arbitrary payloads to both Verify methods: no panic,
// every error one of the sentinels, and nothing accepted but what the
// trusted key signed for that topic.
func FuzzVerify(f *testing.F) {
	f.Add(seedFile(f, "command.json"), cmdTopic)
	f.Add(seedFile(f, "config.json"), cfgTopic)
	f.Add([]byte(`{"id":"42"}`), cmdTopic)
	f.Add([]byte(`{"signed":1}`), cmdTopic)
	f.Add([]byte(`{"signed":1,"alg":"ed25519","kid":"e432b31851c0597c","purpose":"command","topic":"t","ts":"2026-11-29T09:41:07Z","nonce":"AAAAAAAAAAAAAAAAAAAAAA==","body":"","sig":""}`), "t")
	f.Add([]byte{}, "")
	pub, _ := testKey(goldenKey)
	sentinels := []error{ErrMalformed, ErrUnsigned, ErrUnsupported, ErrUnknownKey, ErrBadSignature, ErrWrongPurpose,
		ErrWrongTopic, ErrExpired, ErrReplayed, ErrTooMany, ErrStaleVersion, ErrCurrentVersion}
	f.Fuzz(func(t *testing.T, payload []byte, topic string) {
		v, err := NewVerifier([]TrustedKey{NewTrustedKey(pub, "golden")}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		check := func(m Message, err error, p Purpose) {
			if err == nil {
				if m.Topic != topic || m.Purpose != p || m.KeyID != KeyID(pub) {
					t.Fatalf("accepted %+v on %q as %s", m, topic, p)
				}
				return
			}
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error %v is none of the sentinels", err)
		}
		m, err := v.VerifyCommand(topic, payload, t0)
		check(m, err, Command)
		m, err = v.VerifyConfig(topic, payload, LastConfig{})
		check(m, err, Config)
	})
}

// FuzzDecode checks that whatever decode accepts, Sign reproduces: the
// fields survive a round trip through the envelope.
func FuzzDecode(f *testing.F) {
	f.Add(seedFile(f, "command.json"))
	f.Add(seedFile(f, "config.json"))
	f.Add([]byte(`{"signed":1,"alg":"ed25519"}`))
	_, priv := testKey("fuzz")
	f.Fuzz(func(t *testing.T, payload []byte) {
		_, m, err := decode(payload)
		if err != nil {
			return
		}
		signed, err := Sign(priv, m)
		if err != nil {
			t.Fatalf("Sign of a decoded message %+v: %v", m, err)
		}
		_, got, err := decode(signed)
		if err != nil {
			t.Fatalf("decode of Sign's envelope: %v\n%s", err, signed)
		}
		if got.Purpose != m.Purpose || got.Topic != m.Topic || got.Version != m.Version || !got.Time.Equal(m.Time.Truncate(time.Millisecond)) ||
			!bytes.Equal(got.Body, m.Body) || !bytes.Equal(got.Nonce, m.Nonce) {
			t.Fatalf("round trip: got %+v, want %+v", got, m)
		}
	})
}

// FuzzParseTrustedKeys: no panic; every key returned is a valid ed25519
// public key with its id and source.
func FuzzParseTrustedKeys(f *testing.F) {
	f.Add(seedFile(f, "trusted.keys"))
	f.Add(seedFile(f, "golden.pub"))
	f.Add(seedFile(f, "golden.key"))
	f.Add([]byte("# only a comment\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseTrustedKeys(data, "fuzz.keys")
		if err != nil {
			return
		}
		if len(keys) == 0 {
			t.Fatal("no error and no key")
		}
		for _, k := range keys {
			if len(k.Key) != 32 || k.ID != KeyID(k.Key) || k.Source == "" {
				t.Fatalf("bad key %+v", k)
			}
		}
	})
}

// FuzzParsePrivateKey: no panic; a key returned signs what its public key
// verifies.
func FuzzParsePrivateKey(f *testing.F) {
	f.Add(seedFile(f, "golden.key"))
	f.Add(seedFile(f, "golden.pub"))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		priv, err := ParsePrivateKey(data, "fuzz.key")
		if err != nil {
			return
		}
		pub := priv.Public().(ed25519.PublicKey)
		p, err := Sign(priv, command(cmdTopic, cmdBody, t0, "nonce-0123456789"))
		if err != nil {
			t.Fatalf("Sign with a parsed key: %v", err)
		}
		v, err := NewVerifier([]TrustedKey{NewTrustedKey(pub, "")}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.VerifyCommand(cmdTopic, p, t0); err != nil {
			t.Fatalf("a parsed key's signature: %v", err)
		}
	})
}

// FuzzParseLastConfig: no panic; what parses saves and parses the same.
func FuzzParseLastConfig(f *testing.F) {
	f.Add([]byte(`{"version":3,"sha256":"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLastConfig(data, "fuzz.json")
		if err != nil {
			return
		}
		path := filepath.Join(t.TempDir(), "last.json")
		if err := SaveLastConfig(path, l); err != nil {
			t.Fatal(err)
		}
		got, err := LoadLastConfig(path)
		if err != nil || got != l {
			t.Fatalf("round trip: got %+v, %v; want %+v", got, err, l)
		}
	})
}
