package signing

import "errors"

// The reasons a payload is refused. Verifier methods wrap exactly one of
// them with the details (which key, which topic, how far off the clock
// was), so that callers can choose a reply or log level with errors.Is
// and still print a message that says what to fix.
var (
	// ErrMalformed: the payload is not a well-formed envelope (not JSON,
	// a field missing or of the wrong type or length, bad base64, too
	// large). Nothing in it can be trusted, not even the key id.
	ErrMalformed = errors.New("signing: malformed envelope")
	// ErrUnsigned: the payload is not an envelope at all (empty, or JSON
	// without a "signed" field): a bare command or config from a tool
	// that does not sign, or from someone without a key.
	ErrUnsigned = errors.New("signing: payload is not signed")
	// ErrUnsupported: a well-formed envelope of a format version or an
	// algorithm this agent does not implement.
	ErrUnsupported = errors.New("signing: unsupported envelope")
	// ErrUnknownKey: signed by a key id that is not among the trusted keys.
	ErrUnknownKey = errors.New("signing: unknown key id")
	// ErrBadSignature: the signature does not match the envelope and the
	// trusted key of its key id: forged or altered in transit.
	ErrBadSignature = errors.New("signing: bad signature")
	// ErrWrongPurpose: a genuine envelope signed as a command offered as a
	// config, or the other way round.
	ErrWrongPurpose = errors.New("signing: wrong purpose")
	// ErrWrongTopic: a genuine envelope signed for another topic (another
	// device, command or fleet group) than the one it arrived on.
	ErrWrongTopic = errors.New("signing: wrong topic")
	// ErrExpired: a command whose timestamp is outside the accepted
	// window around the device's clock (too old, or from the future).
	ErrExpired = errors.New("signing: outside the time window")
	// ErrReplayed: a command whose nonce was already accepted within the
	// window: the same message sent twice.
	ErrReplayed = errors.New("signing: replayed nonce")
	// ErrTooMany: more commands within one window than the nonce cache
	// holds (Options.MaxNonces); refused rather than forgetting nonces.
	ErrTooMany = errors.New("signing: too many commands within the time window")
	// ErrStaleVersion: a config whose version is not greater than the last
	// accepted one (an old config replayed, or a version number reused).
	ErrStaleVersion = errors.New("signing: stale config version")
	// ErrCurrentVersion: the config already applied, byte for byte, again:
	// a retained message delivered anew after a reconnect. Harmless;
	// callers ignore it rather than report a rejection.
	ErrCurrentVersion = errors.New("signing: config version already applied")
)
