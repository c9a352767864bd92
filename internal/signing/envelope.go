package signing

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// Format is the envelope format version, the value of its "signed" field.
const Format = 1

// Alg is the only signature algorithm of format 1.
const Alg = "ed25519"

// Purpose says what a signed body is for; it is signed, so a command
// cannot be passed off as a config or the other way round.
type Purpose string

// The purposes.
const (
	Command Purpose = "command" // a payload of <prefix>/<device>/cmd/<name>
	Config  Purpose = "config"  // a YAML config of <prefix>/<device>/config/set or <prefix>/fleet/<group>/config
)

// Limits on an envelope. MaxEnvelope leaves room for a config of
// MaxBody bytes in base64 (4/3) plus the other fields.
const (
	MaxEnvelope = 1 << 20
	MaxBody     = 700 << 10
	MaxTopic    = 1024
	NonceSize   = 16 // bytes Sign draws; Verify accepts 16 to 64
	maxNonce    = 64
	// MaxVersion is the largest config version, 2^53-1: the largest
	// integer every JSON implementation (JavaScript's included) reads
	// exactly, so operators' tools in any language agree on it.
	MaxVersion = 1<<53 - 1
)

// TimeLayout is the layout of the "ts" field that Sign writes: RFC 3339
// in UTC with milliseconds, like the other payloads of the agent. Verify
// accepts any RFC 3339 time.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Message is what Sign signs and what a Verifier returns once every check
// has passed.
type Message struct {
	Purpose Purpose
	// Topic is the MQTT topic the envelope is published on: it is signed,
	// so the envelope is refused on any other topic.
	Topic string
	// Body is the command payload (publish.Command JSON, possibly empty)
	// or the config file's bytes.
	Body []byte
	// Version numbers configs: at least 1, and greater than that of every
	// config signed for the same topic before (e.g. the Unix time in
	// milliseconds, or a counter). Commands have none (0).
	Version uint64
	// Time is when it was signed. A command is accepted only this close
	// to the device's clock (Options.Window); for configs, which are
	// retained and may be read weeks later, it is informational.
	Time time.Time
	// Nonce makes each command unique; Sign draws NonceSize random bytes
	// from crypto/rand when it is nil.
	Nonce []byte
	// KeyID is the signer's key id (KeyID of its public key). Sign fills
	// it in; a Verifier reports the key that signed.
	KeyID string
}

// envelope is the JSON on the wire. Every field but version is required;
// unknown fields are errors.
type envelope struct {
	Signed  int     `json:"signed"`
	Alg     string  `json:"alg"`
	KeyID   string  `json:"kid"`
	Purpose Purpose `json:"purpose"`
	Topic   string  `json:"topic"`
	TS      string  `json:"ts"`
	Nonce   string  `json:"nonce"`
	Version uint64  `json:"version,omitempty"`
	Body    string  `json:"body"`
	Sig     string  `json:"sig"`
}

var b64 = base64.StdEncoding.Strict()

// Sign returns the envelope of m signed with key: the payload an
// operator's tool publishes on m.Topic. m.Time must be set (the tool's
// clock: time.Now()); m.Nonce may be nil.
func Sign(key ed25519.PrivateKey, m Message) ([]byte, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("signing: private key is %d bytes, want an ed25519 key of %d; load it with LoadPrivateKey", len(key), ed25519.PrivateKeySize)
	}
	if m.Time.IsZero() {
		return nil, errors.New("signing: sign: Message.Time is zero; pass the time of signing (time.Now())")
	}
	if m.Nonce == nil {
		m.Nonce = make([]byte, NonceSize)
		if _, err := io.ReadFull(rand.Reader, m.Nonce); err != nil {
			return nil, fmt.Errorf("signing: sign: drawing a nonce: %w", err)
		}
	}
	pub, _ := key.Public().(ed25519.PublicKey) // always an ed25519.PublicKey
	e := envelope{
		Signed:  Format,
		Alg:     Alg,
		KeyID:   KeyID(pub),
		Purpose: m.Purpose,
		Topic:   m.Topic,
		TS:      m.Time.UTC().Format(TimeLayout),
		Nonce:   b64.EncodeToString(m.Nonce),
		Version: m.Version,
		Body:    b64.EncodeToString(m.Body),
	}
	if _, err := e.check(); err != nil {
		return nil, fmt.Errorf("signing: sign: %w", err)
	}
	e.Sig = b64.EncodeToString(ed25519.Sign(key, e.signedBytes(m.Body)))
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil { // strings and ints: cannot fail
		return nil, fmt.Errorf("signing: sign: %w", err)
	}
	if b.Len() > MaxEnvelope {
		return nil, fmt.Errorf("signing: sign: the envelope is %d bytes; at most %d are accepted (body at most %d)", b.Len(), MaxEnvelope, MaxBody)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// SignedBytes returns the exact bytes an envelope's signature covers
// (see the package documentation): for tools in other languages, and for
// tests that sign with other implementations.
func SignedBytes(m Message) []byte {
	e := envelope{
		Alg:     Alg,
		KeyID:   m.KeyID,
		Purpose: m.Purpose,
		Topic:   m.Topic,
		TS:      m.Time.UTC().Format(TimeLayout),
		Nonce:   b64.EncodeToString(m.Nonce),
		Version: m.Version,
	}
	return e.signedBytes(m.Body)
}

// signedBytes is the canonical byte string of the package documentation:
// a header line, then each field as name, space, length, colon, value,
// line feed. The lengths make it unambiguous whatever the values hold.
func (e *envelope) signedBytes(body []byte) []byte {
	version := strconv.FormatUint(e.Version, 10)
	n := 64 + len(e.Alg) + len(e.KeyID) + len(e.Purpose) + len(e.Topic) + len(e.TS) + len(e.Nonce) + len(version) + len(body)
	b := make([]byte, 0, n)
	b = append(b, "fruitcam-signed/1\n"...)
	field := func(name, value string) {
		b = append(b, name...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(len(value)), 10)
		b = append(b, ':')
		b = append(b, value...)
		b = append(b, '\n')
	}
	field("alg", e.Alg)
	field("kid", e.KeyID)
	field("purpose", string(e.Purpose))
	field("topic", e.Topic)
	field("ts", e.TS)
	field("nonce", e.Nonce)
	field("version", version)
	field("body", string(body))
	return b
}

// decode parses an envelope: well-formed JSON with every field present and
// of the right shape. It checks no signature.
func decode(payload []byte) (envelope, Message, error) {
	var e envelope
	if len(payload) > MaxEnvelope {
		return e, Message{}, fmt.Errorf("%w: %d bytes; at most %d are accepted", ErrMalformed, len(payload), MaxEnvelope)
	}
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 {
		return e, Message{}, fmt.Errorf("%w: the payload is empty; sign it with `agent fleet` (or Sign) and publish the envelope", ErrUnsigned)
	}
	if trimmed[0] != '{' {
		return e, Message{}, fmt.Errorf("%w: the payload is not a JSON object; want a signed envelope {\"signed\":1,...}", ErrUnsigned)
	}
	// First only look for "signed", so that an unsigned command gets
	// ErrUnsigned rather than a complaint about its fields.
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &probe); err != nil {
		return e, Message{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, ok := probe["signed"]; !ok {
		return e, Message{}, fmt.Errorf("%w: the JSON object has no \"signed\" field; this agent accepts only signed envelopes (sign with `agent fleet` or Sign)", ErrUnsigned)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return e, Message{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return e, Message{}, fmt.Errorf("%w: data after the JSON object", ErrMalformed)
	}
	for _, f := range []string{"alg", "kid", "purpose", "topic", "ts", "nonce", "body", "sig"} {
		if _, ok := probe[f]; !ok {
			return e, Message{}, fmt.Errorf("%w: field %q is missing", ErrMalformed, f)
		}
	}
	if e.Signed != Format {
		return e, Message{}, fmt.Errorf("%w: format \"signed\": %d; this agent reads format %d (update the agent, or sign with the matching tool)", ErrUnsupported, e.Signed, Format)
	}
	if e.Alg != Alg {
		return e, Message{}, fmt.Errorf("%w: algorithm %.40q; this agent verifies %q only", ErrUnsupported, e.Alg, Alg)
	}
	m, err := e.check()
	if err != nil {
		return e, Message{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(e.Sig) != b64.EncodedLen(ed25519.SignatureSize) {
		return e, Message{}, fmt.Errorf("%w: sig is %d characters; an ed25519 signature is %d bytes, %d in base64", ErrMalformed, len(e.Sig), ed25519.SignatureSize, b64.EncodedLen(ed25519.SignatureSize))
	}
	if _, err := b64.DecodeString(e.Sig); err != nil {
		return e, Message{}, fmt.Errorf("%w: sig: not standard base64: %v", ErrMalformed, err)
	}
	return e, m, nil
}

// check validates the fields both Sign and decode need, and returns the
// Message they hold (KeyID included). Its errors say what is wrong;
// decode wraps them in ErrMalformed.
func (e *envelope) check() (Message, error) {
	m := Message{Purpose: e.Purpose, Topic: e.Topic, Version: e.Version, KeyID: e.KeyID}
	switch {
	case e.Purpose != Command && e.Purpose != Config:
		return m, fmt.Errorf("purpose %.40q; want %q or %q", e.Purpose, Command, Config)
	case e.Topic == "":
		return m, errors.New("topic is empty; sign for the topic the envelope is published on")
	case len(e.Topic) > MaxTopic:
		return m, fmt.Errorf("topic is %d bytes; at most %d", len(e.Topic), MaxTopic)
	case !utf8.ValidString(e.Topic):
		return m, errors.New("topic is not valid UTF-8")
	case !validKeyID(e.KeyID):
		return m, fmt.Errorf("kid %.40q; want %d lower-case hex digits (KeyID of the public key)", e.KeyID, keyIDLen)
	case e.Purpose == Config && (e.Version < 1 || e.Version > MaxVersion):
		return m, fmt.Errorf("a config needs a version from 1 to %d, got %d", uint64(MaxVersion), e.Version)
	case e.Purpose == Command && e.Version != 0:
		return m, fmt.Errorf("a command has no version, got %d; commands are kept unique by their nonce", e.Version)
	case len(e.Body) > b64.EncodedLen(MaxBody):
		return m, fmt.Errorf("body is %d base64 characters; at most %d bytes (%d characters) are accepted", len(e.Body), MaxBody, b64.EncodedLen(MaxBody))
	}
	t, err := time.Parse(time.RFC3339Nano, e.TS)
	if err != nil {
		return m, fmt.Errorf("ts %.40q: want RFC 3339 such as \"2026-11-29T09:41:07.123Z\"", e.TS)
	}
	m.Time = t.UTC()
	if y := m.Time.Year(); y < 0 || y > 9999 {
		return m, fmt.Errorf("ts %.40q is outside RFC 3339's years 0000-9999 in UTC", e.TS)
	}
	if m.Nonce, err = b64.DecodeString(e.Nonce); err != nil {
		return m, fmt.Errorf("nonce: not standard base64: %v", err)
	}
	if len(m.Nonce) < NonceSize || len(m.Nonce) > maxNonce {
		return m, fmt.Errorf("nonce is %d bytes; want %d to %d random bytes", len(m.Nonce), NonceSize, maxNonce)
	}
	if m.Body, err = b64.DecodeString(e.Body); err != nil {
		return m, fmt.Errorf("body: not standard base64: %v", err)
	}
	if len(m.Body) > MaxBody {
		return m, fmt.Errorf("body is %d bytes; at most %d are accepted", len(m.Body), MaxBody)
	}
	return m, nil
}
