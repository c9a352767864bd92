package signing

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestVerifyCommand(t *testing.T) {
	pubA, privA := testKey("operator A")
	_, privC := testKey("intruder C")
	good := sign(t, privA, command(cmdTopic, cmdBody, t0, "nonce-0123456789"))

	tests := []struct {
		name    string
		payload []byte
		topic   string        // default cmdTopic
		skew    time.Duration // the device's clock minus t0
		opts    Options
		before  [][]byte // accepted first, on the same verifier
		want    error    // nil: accepted
		wantMsg string   // a part of the error message
	}{
		{name: "ok", payload: good},
		{name: "ok empty body", payload: sign(t, privA, command(cmdTopic, "", t0, "nonce-empty-body"))},
		{name: "ok at the window's old edge", payload: good, skew: 2 * time.Minute},
		{name: "ok at the window's future edge", payload: good, skew: -2 * time.Minute},
		{name: "ok wider window", payload: good, skew: 9 * time.Minute, opts: Options{Window: 10 * time.Minute}},
		{name: "forged signature", payload: edit(t, good, func(m map[string]any) {
			sig, _ := b64.DecodeString(m["sig"].(string))
			sig[10] ^= 1
			m["sig"] = b64.EncodeToString(sig)
		}), want: ErrBadSignature, wantMsg: "forged, or altered"},
		{name: "altered body", payload: edit(t, good, func(m map[string]any) {
			m["body"] = b64.EncodeToString([]byte(`{"id":"43"}`))
		}), want: ErrBadSignature},
		{name: "altered ts", payload: edit(t, good, func(m map[string]any) { m["ts"] = "2026-11-29T09:41:08.123Z" }), want: ErrBadSignature},
		{name: "altered topic", payload: edit(t, good, func(m map[string]any) { m["topic"] = "fruitcam/belt-b/cmd/pause" }),
			topic: "fruitcam/belt-b/cmd/pause", want: ErrBadSignature},
		{name: "wrong key under a trusted id", payload: edit(t, sign(t, privC, command(cmdTopic, cmdBody, t0, "nonce-0123456789")), func(m map[string]any) {
			m["kid"] = KeyID(pubA)
		}), want: ErrBadSignature},
		{name: "unknown key id", payload: sign(t, privC, command(cmdTopic, cmdBody, t0, "nonce-0123456789")), want: ErrUnknownKey, wantMsg: "not among the trusted keys"},
		{name: "replayed nonce", payload: good, before: [][]byte{good}, want: ErrReplayed},
		{name: "replayed nonce with other content", payload: sign(t, privA, command(cmdTopic, `{"id":"7"}`, t0.Add(time.Second), "nonce-0123456789")),
			before: [][]byte{good}, want: ErrReplayed},
		{name: "other nonce accepted", payload: sign(t, privA, command(cmdTopic, cmdBody, t0, "nonce-other-0000")), before: [][]byte{good}},
		{name: "too old", payload: good, skew: 2*time.Minute + time.Millisecond, want: ErrExpired, wantMsg: "old"},
		{name: "from the future", payload: good, skew: -2*time.Minute - time.Millisecond, want: ErrExpired, wantMsg: "in the future"},
		{name: "an hour old", payload: good, skew: time.Hour, want: ErrExpired, wantMsg: "timedatectl"},
		{name: "signed before the start", payload: good, opts: Options{NotBefore: t0.Add(time.Second)}, want: ErrExpired, wantMsg: "before the agent started"},
		{name: "wrong topic: other device", payload: good, topic: "fruitcam/belt-b/cmd/pause", want: ErrWrongTopic, wantMsg: `signed for "fruitcam/belt-a/cmd/pause"`},
		{name: "wrong topic: other command", payload: good, topic: "fruitcam/belt-a/cmd/resume", want: ErrWrongTopic},
		{name: "config as command", payload: sign(t, privA, config(cmdTopic, cfgBody, 5)), want: ErrWrongPurpose},
		{name: "empty", payload: nil, want: ErrUnsigned},
		{name: "white space", payload: []byte(" \n"), want: ErrUnsigned},
		{name: "bare command", payload: []byte(`{"id":"42","camera":"belt1"}`), want: ErrUnsigned, wantMsg: "only signed"},
		{name: "not JSON", payload: []byte("pause"), want: ErrUnsigned},
		{name: "garbage", payload: []byte("{\x00\xff\"signed"), want: ErrMalformed},
		{name: "truncated", payload: good[:len(good)/2], want: ErrMalformed},
		{name: "truncated by one", payload: good[:len(good)-1], want: ErrMalformed},
		{name: "trailing data", payload: append(append([]byte{}, good...), "{}"...), want: ErrMalformed},
		{name: "JSON array", payload: []byte(`[1,2]`), want: ErrUnsigned},
		{name: "signed null", payload: []byte(`{"signed":null}`), want: ErrMalformed},
		{name: "format 2", payload: edit(t, good, func(m map[string]any) { m["signed"] = 2 }), want: ErrUnsupported},
		{name: "other algorithm", payload: edit(t, good, func(m map[string]any) { m["alg"] = "rsa" }), want: ErrUnsupported},
		{name: "unknown field", payload: edit(t, good, func(m map[string]any) { m["admin"] = true }), want: ErrMalformed, wantMsg: "admin"},
		{name: "missing sig", payload: edit(t, good, func(m map[string]any) { delete(m, "sig") }), want: ErrMalformed, wantMsg: `"sig" is missing`},
		{name: "missing body", payload: edit(t, good, func(m map[string]any) { delete(m, "body") }), want: ErrMalformed},
		{name: "missing nonce", payload: edit(t, good, func(m map[string]any) { delete(m, "nonce") }), want: ErrMalformed},
		{name: "short nonce", payload: edit(t, good, func(m map[string]any) { m["nonce"] = b64.EncodeToString([]byte("short")) }), want: ErrMalformed, wantMsg: "nonce is 5 bytes"},
		{name: "nonce not base64", payload: edit(t, good, func(m map[string]any) { m["nonce"] = "!!!!" }), want: ErrMalformed},
		{name: "nonce without padding", payload: edit(t, good, func(m map[string]any) { m["nonce"] = strings.TrimRight(m["nonce"].(string), "=") }), want: ErrMalformed},
		{name: "body not base64", payload: edit(t, good, func(m map[string]any) { m["body"] = cmdBody }), want: ErrMalformed},
		{name: "short sig", payload: edit(t, good, func(m map[string]any) { m["sig"] = m["sig"].(string)[:40] }), want: ErrMalformed},
		{name: "sig not base64", payload: edit(t, good, func(m map[string]any) { m["sig"] = strings.Repeat("*", 88) }), want: ErrMalformed},
		{name: "kid not hex", payload: edit(t, good, func(m map[string]any) { m["kid"] = "ZZZZZZZZZZZZZZZZ" }), want: ErrMalformed},
		{name: "kid upper case", payload: edit(t, good, func(m map[string]any) { m["kid"] = strings.ToUpper(KeyID(pubA)) }), want: ErrMalformed},
		{name: "ts not RFC 3339", payload: edit(t, good, func(m map[string]any) { m["ts"] = "yesterday" }), want: ErrMalformed},
		{name: "purpose unknown", payload: edit(t, good, func(m map[string]any) { m["purpose"] = "firmware" }), want: ErrMalformed},
		{name: "command with version", payload: edit(t, good, func(m map[string]any) { m["version"] = 3 }), want: ErrMalformed},
		{name: "version negative", payload: edit(t, good, func(m map[string]any) { m["version"] = -1 }), want: ErrMalformed},
		{name: "empty topic", payload: edit(t, good, func(m map[string]any) { m["topic"] = "" }), want: ErrMalformed},
		{name: "too large", payload: append(append([]byte{}, good...), bytes.Repeat([]byte(" "), MaxEnvelope)...), want: ErrMalformed, wantMsg: "at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, tt.opts, pubA)
			for i, b := range tt.before {
				if _, err := v.VerifyCommand(cmdTopic, b, t0); err != nil {
					t.Fatalf("before[%d]: %v", i, err)
				}
			}
			topic := tt.topic
			if topic == "" {
				topic = cmdTopic
			}
			m, err := v.VerifyCommand(topic, tt.payload, t0.Add(tt.skew))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("VerifyCommand: %v", err)
				}
				if m.Topic != topic || m.Purpose != Command || m.KeyID != KeyID(pubA) {
					t.Errorf("got %+v", m)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got error %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "signing: ") || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("got message %q, want one starting with \"signing: \" containing %q", err, tt.wantMsg)
			}
			if m.Body != nil || m.Topic != "" {
				t.Errorf("got message %+v with the error, want the zero Message", m)
			}
		})
	}
}

func TestVerifyCommandBody(t *testing.T) {
	pub, priv := testKey("operator A")
	v := newVerifier(t, Options{}, pub)
	m, err := v.VerifyCommand(cmdTopic, sign(t, priv, command(cmdTopic, cmdBody, t0, "nonce-0123456789")), t0)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Body) != cmdBody || !m.Time.Equal(t0) || string(m.Nonce) != "nonce-0123456789" || m.Version != 0 {
		t.Errorf("got %+v, want body %s at %v", m, cmdBody, t0)
	}
}

func TestVerifyConfig(t *testing.T) {
	pubA, privA := testKey("operator A")
	_, privC := testKey("intruder C")
	v5 := sign(t, privA, config(cfgTopic, cfgBody, 5))
	last5 := Message{Body: []byte(cfgBody), Version: 5}.Last()

	tests := []struct {
		name    string
		payload []byte
		topic   string
		last    LastConfig
		want    error
	}{
		{name: "first config", payload: v5},
		{name: "newer", payload: v5, last: LastConfig{Version: 4, SHA256: strings.Repeat("ab", 32)}},
		{name: "very old signature still fine", payload: sign(t, privA, Message{Purpose: Config, Topic: cfgTopic, Body: []byte(cfgBody), Version: 6, Time: t0.AddDate(-1, 0, 0)}), last: last5},
		{name: "stale", payload: v5, last: LastConfig{Version: 6, SHA256: strings.Repeat("ab", 32)}, want: ErrStaleVersion},
		{name: "same again", payload: v5, last: last5, want: ErrCurrentVersion},
		{name: "version reused", payload: sign(t, privA, config(cfgTopic, cfgBody+"# changed\n", 5)), last: last5, want: ErrStaleVersion},
		{name: "other group", payload: v5, topic: "fruitcam/fleet/line2/config", want: ErrWrongTopic},
		{name: "group config on a device topic", payload: v5, topic: "fruitcam/belt-a/config/set", want: ErrWrongTopic},
		{name: "command as config", payload: sign(t, privA, command(cfgTopic, cmdBody, t0, "nonce-0123456789")), want: ErrWrongPurpose},
		{name: "unknown key", payload: sign(t, privC, config(cfgTopic, cfgBody, 5)), want: ErrUnknownKey},
		{name: "forged version", payload: edit(t, v5, func(m map[string]any) { m["version"] = 99 }), want: ErrBadSignature},
		{name: "version missing", payload: edit(t, v5, func(m map[string]any) { delete(m, "version") }), want: ErrMalformed},
		{name: "version above 2^53-1", payload: edit(t, v5, func(m map[string]any) { m["version"] = uint64(MaxVersion) + 1 }), want: ErrMalformed},
		{name: "version fraction", payload: edit(t, v5, func(m map[string]any) { m["version"] = 5.5 }), want: ErrMalformed},
		{name: "unsigned YAML", payload: []byte(cfgBody), want: ErrUnsigned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, Options{}, pubA)
			topic := tt.topic
			if topic == "" {
				topic = cfgTopic
			}
			m, err := v.VerifyConfig(topic, tt.payload, tt.last)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got error %v, want %v", err, tt.want)
			}
			if err == nil && (m.Purpose != Config || m.Version <= tt.last.Version || string(m.Body) == "") {
				t.Errorf("got %+v", m)
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	oldPub, oldPriv := testKey("2025 key")
	newPub, newPriv := testKey("2026 key")
	v := newVerifier(t, Options{}, oldPub, newPub)
	byOld := sign(t, oldPriv, command(cmdTopic, cmdBody, t0, "nonce-by-old-key"))
	byNew := sign(t, newPriv, command(cmdTopic, cmdBody, t0, "nonce-by-new-key"))
	for name, p := range map[string][]byte{"old": byOld, "new": byNew} {
		if _, err := v.VerifyCommand(cmdTopic, p, t0); err != nil {
			t.Errorf("%s key while both are trusted: %v", name, err)
		}
	}
	// Retire the old key: what it signs is refused, and the nonces seen
	// survive the change.
	if err := v.SetKeys([]TrustedKey{NewTrustedKey(newPub, "2026")}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyCommand(cmdTopic, sign(t, oldPriv, command(cmdTopic, cmdBody, t0, "nonce-by-old-2nd")), t0); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old key after rotation: got %v, want %v", err, ErrUnknownKey)
	}
	if _, err := v.VerifyCommand(cmdTopic, byNew, t0); !errors.Is(err, ErrReplayed) {
		t.Errorf("replay after SetKeys: got %v, want %v", err, ErrReplayed)
	}
	if got := v.Keys(); len(got) != 1 || got[0] != KeyID(newPub) {
		t.Errorf("Keys() = %v, want [%s]", got, KeyID(newPub))
	}
}

func TestNonceCacheBounded(t *testing.T) {
	pub, priv := testKey("operator A")
	const window = time.Minute
	v := newVerifier(t, Options{Window: window, MaxNonces: 3}, pub)
	at := func(ts time.Time, i int) []byte {
		return sign(t, priv, command(cmdTopic, "", ts, fmt.Sprintf("nonce-%010d", i)))
	}
	for i := range 3 {
		if _, err := v.VerifyCommand(cmdTopic, at(t0, i), t0); err != nil {
			t.Fatalf("command %d: %v", i, err)
		}
	}
	if _, err := v.VerifyCommand(cmdTopic, at(t0, 3), t0); !errors.Is(err, ErrTooMany) {
		t.Fatalf("4th command within the window: got %v, want %v", err, ErrTooMany)
	}
	// Once the first three left the window their nonces are forgotten.
	later := t0.Add(window + time.Millisecond)
	if _, err := v.VerifyCommand(cmdTopic, at(later, 4), later); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	if got := len(v.nonces); got != 1 {
		t.Errorf("nonces cached after the window: got %d, want 1", got)
	}

	// A steady stream over a long time: the cache holds about one
	// window's worth, not everything ever seen.
	v = newVerifier(t, Options{Window: window, MaxNonces: 1000}, pub)
	most := 0
	for i := range 600 {
		now := t0.Add(time.Duration(i) * 5 * time.Second) // 12 per minute
		if _, err := v.VerifyCommand(cmdTopic, at(now.Add(-time.Second), i), now); err != nil {
			t.Fatalf("command %d: %v", i, err)
		}
		most = max(most, len(v.nonces))
	}
	// A nonce lives 1 window (12 commands) past its ts, plus up to half a
	// window until the next prune: at most ~19.
	if most > 20 {
		t.Errorf("nonce cache grew to %d entries for 12 commands per window, want at most 20", most)
	}
}

func TestConcurrentReplay(t *testing.T) {
	pub, priv := testKey("operator A")
	v := newVerifier(t, Options{}, pub)
	p := sign(t, priv, command(cmdTopic, cmdBody, t0, "nonce-0123456789"))
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted, replayed := 0, 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := v.VerifyCommand(cmdTopic, p, t0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				accepted++
			case errors.Is(err, ErrReplayed):
				replayed++
			default:
				t.Errorf("VerifyCommand: %v", err)
			}
		}()
	}
	wg.Wait()
	if accepted != 1 || replayed != 7 {
		t.Errorf("got %d accepted, %d replayed; want 1, 7", accepted, replayed)
	}
}

func TestNewVerifierErrors(t *testing.T) {
	pub, _ := testKey("operator A")
	tests := []struct {
		name string
		keys []TrustedKey
		o    Options
		want string
	}{
		{name: "no keys", want: "no trusted keys"},
		{name: "short key", keys: []TrustedKey{{Key: ed25519.PublicKey{1, 2}, Source: "k.pub:3"}}, want: "k.pub:3"},
		{name: "negative window", keys: []TrustedKey{NewTrustedKey(pub, "")}, o: Options{Window: -time.Second}, want: "negative"},
		{name: "negative max nonces", keys: []TrustedKey{NewTrustedKey(pub, "")}, o: Options{MaxNonces: -1}, want: "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewVerifier(tt.keys, tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestSignErrors(t *testing.T) {
	_, priv := testKey("operator A")
	tests := []struct {
		name string
		key  ed25519.PrivateKey
		m    Message
		want string
	}{
		{name: "short key", key: priv[:10], m: command(cmdTopic, "", t0, "nonce-0123456789"), want: "private key is 10 bytes"},
		{name: "no time", key: priv, m: Message{Purpose: Command, Topic: cmdTopic}, want: "Time is zero"},
		{name: "no purpose", key: priv, m: Message{Topic: cmdTopic, Time: t0}, want: "purpose"},
		{name: "no topic", key: priv, m: Message{Purpose: Command, Time: t0}, want: "topic is empty"},
		{name: "config without version", key: priv, m: config(cfgTopic, cfgBody, 0), want: "version from 1"},
		{name: "command with version", key: priv, m: Message{Purpose: Command, Topic: cmdTopic, Time: t0, Version: 2}, want: "no version"},
		{name: "short nonce", key: priv, m: command(cmdTopic, "", t0, "x"), want: "nonce is 1 bytes"},
		{name: "body too large", key: priv, m: Message{Purpose: Config, Topic: cfgTopic, Time: t0, Version: 1, Body: make([]byte, MaxBody+1)}, want: "body is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Sign(tt.key, tt.m)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestSignDrawsNonces(t *testing.T) {
	pub, priv := testKey("operator A")
	v := newVerifier(t, Options{}, pub)
	for i := range 3 {
		p := sign(t, priv, Message{Purpose: Command, Topic: cmdTopic, Time: t0})
		m, err := v.VerifyCommand(cmdTopic, p, t0)
		if err != nil {
			t.Fatalf("command %d: %v", i, err)
		}
		if len(m.Nonce) != NonceSize {
			t.Errorf("nonce of %d bytes, want %d", len(m.Nonce), NonceSize)
		}
	}
}

func TestMaxBodyFits(t *testing.T) {
	pub, priv := testKey("operator A")
	v := newVerifier(t, Options{}, pub)
	body := bytes.Repeat([]byte("a"), MaxBody)
	p := sign(t, priv, Message{Purpose: Config, Topic: cfgTopic, Time: t0, Version: 1, Body: body})
	if _, err := v.VerifyConfig(cfgTopic, p, LastConfig{}); err != nil {
		t.Fatalf("a body of MaxBody bytes: %v", err)
	}
}

func TestSentinelsDistinct(t *testing.T) {
	all := []error{ErrMalformed, ErrUnsigned, ErrUnsupported, ErrUnknownKey, ErrBadSignature, ErrWrongPurpose,
		ErrWrongTopic, ErrExpired, ErrReplayed, ErrTooMany, ErrStaleVersion, ErrCurrentVersion}
	for i, a := range all {
		if !strings.HasPrefix(a.Error(), "signing: ") {
			t.Errorf("%q lacks the package prefix", a)
		}
		for j, b := range all {
			if i != j && (errors.Is(a, b) || a.Error() == b.Error()) {
				t.Errorf("%q and %q are not distinct", a, b)
			}
		}
	}
}
