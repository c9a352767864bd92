package signing

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultWindow    = 2 * time.Minute
	DefaultMaxNonces = 4096
)

// Options tunes a Verifier. The zero value is the defaults.
type Options struct {
	// Window is how far a command's timestamp may be from the device's
	// clock, either way: the clock skew tolerated between the operator's
	// machine and the device plus the delivery delay. Default 2m. Boards
	// without a real-time clock (a Raspberry Pi) start with a stale clock
	// until NTP has synchronised it and refuse commands until then.
	Window time.Duration
	// MaxNonces bounds the nonces remembered (each about 100 bytes); a
	// nonce is kept only until its command leaves the window. When this
	// many commands arrived within one window, more are refused
	// (ErrTooMany) rather than forgetting nonces. Default 4096.
	MaxNonces int
	// NotBefore refuses commands signed before it. Set it to the agent's
	// start time: a restart empties the nonce cache, and without it a
	// command captured in the window before the restart could be replayed
	// after it. Zero: no such limit.
	NotBefore time.Time
}

// Verifier checks envelopes against a set of trusted keys and remembers
// the nonces of the commands it accepted. It is safe for concurrent use.
type Verifier struct {
	window    time.Duration
	maxNonces int
	notBefore time.Time

	mu        sync.Mutex
	keys      map[string]TrustedKey
	nonces    map[string]time.Time // nonce -> when it leaves the window (its ts + window)
	nextPrune time.Time
}

// NewVerifier returns a Verifier trusting keys, which may hold several
// keys (rotation: trust the new key everywhere, switch the signers to it,
// then drop the old one).
func NewVerifier(keys []TrustedKey, o Options) (*Verifier, error) {
	if o.Window == 0 {
		o.Window = DefaultWindow
	}
	if o.Window < 0 {
		return nil, fmt.Errorf("signing: window %v is negative; give the clock skew tolerated, e.g. 2m", o.Window)
	}
	if o.MaxNonces == 0 {
		o.MaxNonces = DefaultMaxNonces
	}
	if o.MaxNonces < 0 {
		return nil, fmt.Errorf("signing: max nonces %d is negative", o.MaxNonces)
	}
	v := &Verifier{window: o.Window, maxNonces: o.MaxNonces, notBefore: o.NotBefore, nonces: make(map[string]time.Time)}
	if err := v.SetKeys(keys); err != nil {
		return nil, err
	}
	return v, nil
}

// SetKeys replaces the trusted keys, e.g. after the config was reloaded.
// The nonces seen are kept: a new Verifier would forget them and accept
// a replay of a command from the last window.
func (v *Verifier) SetKeys(keys []TrustedKey) error {
	if len(keys) == 0 {
		return errors.New("signing: no trusted keys: a device that trusts no key accepts no command or config; add the operators' public keys")
	}
	m := make(map[string]TrustedKey, len(keys))
	for _, k := range keys {
		if len(k.Key) != ed25519.PublicKeySize {
			return fmt.Errorf("signing: trusted key %s is %d bytes; want an ed25519 public key of %d", k.Source, len(k.Key), ed25519.PublicKeySize)
		}
		k.ID = KeyID(k.Key) // whatever the caller set: the id is the key's
		m[k.ID] = k
	}
	v.mu.Lock()
	v.keys = m
	v.mu.Unlock()
	return nil
}

// Keys returns the ids of the trusted keys, sorted.
func (v *Verifier) Keys() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	ids := make([]string, 0, len(v.keys))
	for id := range v.keys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// verify decodes payload and checks its signature, purpose and topic.
func (v *Verifier) verify(p Purpose, topic string, payload []byte) (Message, error) {
	e, m, err := decode(payload)
	if err != nil {
		return Message{}, err
	}
	v.mu.Lock()
	k, ok := v.keys[e.KeyID]
	v.mu.Unlock()
	if !ok {
		return Message{}, fmt.Errorf("%w: %s is not among the trusted keys (%s); add its public key to the device, or sign with a trusted key", ErrUnknownKey, e.KeyID, strings.Join(v.Keys(), ", "))
	}
	sig, _ := b64.DecodeString(e.Sig) // decode checked it
	if !ed25519.Verify(k.Key, e.signedBytes(m.Body), sig) {
		return Message{}, fmt.Errorf("%w: the envelope was not signed by key %s (%s) as it is: forged, or altered after signing", ErrBadSignature, k.ID, describeKey(k))
	}
	// From here the envelope is genuine: a mismatch is a replay elsewhere.
	if m.Purpose != p {
		return Message{}, fmt.Errorf("%w: signed as a %s, received as a %s on %q", ErrWrongPurpose, m.Purpose, p, topic)
	}
	if m.Topic != topic {
		return Message{}, fmt.Errorf("%w: signed for %q, received on %q; sign it for the topic it is published on", ErrWrongTopic, m.Topic, topic)
	}
	return m, nil
}

func describeKey(k TrustedKey) string {
	switch {
	case k.Comment != "" && k.Source != "":
		return k.Comment + ", " + k.Source
	case k.Comment != "":
		return k.Comment
	case k.Source != "":
		return k.Source
	}
	return "trusted key"
}

// VerifyCommand checks a command envelope received on topic at the
// device's time now: a trusted key's signature, purpose command, the
// topic, the time window and a fresh nonce. It returns the message, whose
// Body is the command payload. A command is accepted once: its nonce is
// remembered until it leaves the window.
func (v *Verifier) VerifyCommand(topic string, payload []byte, now time.Time) (Message, error) {
	m, err := v.verify(Command, topic, payload)
	if err != nil {
		return Message{}, err
	}
	if !v.notBefore.IsZero() && m.Time.Before(v.notBefore) {
		return Message{}, fmt.Errorf("%w: signed at %s, before the agent started (%s); commands from before a restart are refused, send it again", ErrExpired, m.Time.Format(TimeLayout), v.notBefore.UTC().Format(TimeLayout))
	}
	if d := now.Sub(m.Time); d > v.window || d < -v.window {
		return Message{}, expired(m.Time, now, d, v.window)
	}
	key := string(m.Nonce)
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, seen := v.nonces[key]; seen {
		return Message{}, fmt.Errorf("%w: the command signed at %s by key %s was already accepted; sign each command anew", ErrReplayed, m.Time.Format(TimeLayout), m.KeyID)
	}
	if len(v.nonces) >= v.maxNonces || !now.Before(v.nextPrune) {
		v.prune(now)
	}
	if len(v.nonces) >= v.maxNonces {
		return Message{}, fmt.Errorf("%w: %d commands within %v; this many is not an operator's, check the sending tool", ErrTooMany, len(v.nonces), 2*v.window)
	}
	// Kept while a command with this timestamp is inside the window.
	v.nonces[key] = m.Time.Add(v.window)
	return m, nil
}

// prune drops the nonces of commands that left the window; called at
// most every half window, or when the cache is full.
func (v *Verifier) prune(now time.Time) {
	for n, until := range v.nonces {
		if now.After(until) {
			delete(v.nonces, n)
		}
	}
	v.nextPrune = now.Add(v.window / 2)
}

func expired(ts, now time.Time, d, window time.Duration) error {
	when := "old"
	if d < 0 {
		when, d = "in the future", -d
	}
	return fmt.Errorf("%w: signed at %s, %v %s for this device's clock (%s); commands are accepted within %v: send it again, or check the clocks (NTP: timedatectl) of the device and the sender",
		ErrExpired, ts.Format(TimeLayout), d.Round(time.Millisecond), when, now.UTC().Format(TimeLayout), window)
}

// LastConfig is what a device remembers of the last config it accepted:
// its version, and the SHA-256 of its body to tell the same config
// delivered again (a retained message after a reconnect) from a reused
// version number. The caller persists it (SaveLastConfig) for every config
// that passed VerifyConfig, applied or rejected by validation (so that a
// bad config is not tried again on every reconnect), and passes it to
// VerifyConfig.
type LastConfig struct {
	Version uint64 `json:"version"`
	SHA256  string `json:"sha256"` // hex of the body's SHA-256
}

// Last returns the LastConfig to remember once m, a config, is handled.
func (m Message) Last() LastConfig {
	sum := sha256.Sum256(m.Body)
	return LastConfig{Version: m.Version, SHA256: hex.EncodeToString(sum[:])}
}

// VerifyConfig checks a config envelope received on topic: a trusted
// key's signature, purpose config, the topic, and a version greater than
// last.Version (the zero LastConfig accepts any version). The time is not
// checked: configs are retained and may be delivered long after they were
// signed. The same config as last gives ErrCurrentVersion, which callers
// ignore; an older version, or last's version with another body,
// ErrStaleVersion.
func (v *Verifier) VerifyConfig(topic string, payload []byte, last LastConfig) (Message, error) {
	m, err := v.verify(Config, topic, payload)
	if err != nil {
		return Message{}, err
	}
	if m.Version > last.Version {
		return m, nil
	}
	if m.Version == last.Version {
		if m.Last().SHA256 == last.SHA256 {
			return Message{}, fmt.Errorf("%w: version %d was received before (and applied or rejected then)", ErrCurrentVersion, m.Version)
		}
		return Message{}, fmt.Errorf("%w: version %d is that of the last config received, but the body differs; sign the new config with a greater version", ErrStaleVersion, m.Version)
	}
	return Message{}, fmt.Errorf("%w: version %d is older than the last config received (version %d); an old config replayed, or sign the new one with a version above %d", ErrStaleVersion, m.Version, last.Version, last.Version)
}
