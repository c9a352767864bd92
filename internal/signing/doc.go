// Package signing lets a device obey only authorised publishers: commands
// and fleet configs travel over MQTT inside ed25519-signed envelopes
// (RFC 8032), bound to the topic they are published on, and protected
// against replay by a time window and a nonce (commands) or a version
// that only grows (configs). See design.md sections 5 and 6.
//
// # Envelope
//
// The payload of <prefix>/<device>/cmd/<name>, <prefix>/<device>/config/set
// and <prefix>/fleet/<group>/config is one JSON object (testdata/ holds
// examples):
//
//	{"signed":1,"alg":"ed25519","kid":"e432b31851c0597c","purpose":"command",
//	 "topic":"fruitcam/belt-a/cmd/pause","ts":"2026-11-29T09:41:07.123Z",
//	 "nonce":"<base64 of 16 random bytes>","body":"<base64 of the payload>",
//	 "sig":"<base64 of the 64-byte signature>"}
//
//	field    meaning
//	signed   envelope format, 1; an agent refuses formats it does not know (ErrUnsupported)
//	alg      "ed25519", the only algorithm of format 1
//	kid      the signer's key id: the first 8 bytes of SHA-256 of the 32-byte public key, 16 lower-case hex digits (KeyID)
//	purpose  "command" or "config"
//	topic    the MQTT topic the envelope is published on
//	ts       when it was signed, RFC 3339 (Sign writes UTC with milliseconds)
//	nonce    16 to 64 random bytes (Sign draws 16), standard base64 with padding
//	version  configs only: 1 to 2^53-1, greater than that of the previous config for the topic; absent for commands
//	body     the command payload (publish.Command JSON, or empty) or the YAML config, standard base64 with padding
//	sig      the ed25519 signature of the bytes below, standard base64 with padding (88 characters)
//
// Every field is required (version for configs only); unknown fields, a
// second JSON value, and non-canonical base64 are errors (ErrMalformed).
// A payload that is not a JSON object with a "signed" field is
// ErrUnsigned: the agent tells a bare command apart from a broken one.
//
// # The signed bytes
//
// The signature covers a byte string built from the envelope's fields,
// not the JSON, so that re-encoding the JSON (key order, white space,
// escapes) cannot break it. It is the line "fruitcam-signed/1", then one
// line per field in this order, each the field's name, a space, the
// value's length in bytes in decimal, a colon, the value, a line feed
// (0x0A):
//
//	fruitcam-signed/1\n
//	alg <n>:ed25519\n
//	kid <n>:<kid>\n
//	purpose <n>:<purpose>\n
//	topic <n>:<topic>\n
//	ts <n>:<ts exactly as in the envelope>\n
//	nonce <n>:<nonce exactly as in the envelope, base64>\n
//	version <n>:<version in decimal; 0 for commands>\n
//	body <n>:<the body's raw bytes, decoded from base64>\n
//
// The lengths make the string unambiguous whatever a value contains (a
// topic or body may hold line feeds). testdata/command.signed is an
// example; SignedBytes builds it. With OpenSSL 3 a tool in any language
// can sign it: `openssl pkeyutl -sign -inkey key.pem -rawin -in
// signed.bin | base64 -w0` (testdata/openssl.sh does so).
//
// Binding purpose and topic means a signed "pause" for one device cannot
// be replayed as another command, to another device, or as a config, nor
// a config for one fleet group to another group.
//
// # Verification
//
// A Verifier holds the trusted public keys, several at once so that keys
// can be rotated: add the new key to every device, sign with it, then
// remove the old one. It checks, in this order, and reports the first
// failure as one of the sentinel errors of errors.go, wrapped with what
// to do: the envelope's form (ErrUnsigned, ErrMalformed, ErrUnsupported),
// the key id (ErrUnknownKey), the signature (ErrBadSignature), then, the
// envelope being genuine, purpose (ErrWrongPurpose) and topic
// (ErrWrongTopic), and finally freshness:
//
//   - A command is accepted when its ts is within Options.Window (default
//     2 minutes) of the device's clock, either way (ErrExpired), and its
//     nonce was not accepted before (ErrReplayed). A nonce is remembered
//     only while its ts is within the window, so the cache holds at most
//     the commands of one window and is bounded (Options.MaxNonces).
//     The window must cover the clock difference between the operator's
//     machine and the device: both should run NTP, and a board without a
//     real-time clock refuses commands until its clock is set.
//     Options.NotBefore (the agent's start time) refuses commands signed
//     before a restart, which emptied the cache.
//   - A config is accepted when its version is greater than the last
//     one accepted (ErrStaleVersion); the very same config again, as a
//     retained message is delivered after every reconnect, is
//     ErrCurrentVersion, to be ignored. The caller keeps LastConfig on
//     disk (SaveLastConfig, LoadLastConfig). Configs have no time window:
//     retained, they may be read long after they were signed.
//
// Limitations: the nonce cache is in memory and keyed to the wall clock;
// a clock that jumps forward by more than the window and back again
// forgets the nonces accepted before the jump. Anyone holding a trusted
// private key can command every device that trusts it: keep private keys
// on the operators' machines, mode 600, never on the devices.
//
// # Keys
//
// Private keys are PEM "PRIVATE KEY" files (PKCS #8, RFC 8410), as made
// by GenerateKey and SavePrivateKey or by `openssl genpkey -algorithm
// ed25519`; LoadPrivateKey refuses a file its group or others may access.
// Public keys are PEM "PUBLIC KEY" (PKIX) or one line of base64 (the 32
// raw bytes, or the PKIX DER) in a trusted-keys file with comments:
//
//	# operators allowed to command this device
//	MCowBQYDK2VwAyEA...= alice@ops (2026)
//	3q2+7w...= fleet-ci
package signing
