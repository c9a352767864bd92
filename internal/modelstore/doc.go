// Package modelstore fetches the models that fleet configs name by
// reference and keeps them, content-addressed, in one directory of the
// board.
//
// A fleet config does not carry a model (an MQTT message of a few hundred
// bytes cannot carry 5 MB); it names one by reference (model.path: an
// http:// or https:// URL, a file:///abs/path, or a plain absolute path)
// and pins its content with model.sha256. ParseRef checks a reference:
// relative paths (relative to what, on a board?), other schemes and URLs
// with user:password (a secret in a config that is published retained to
// every board of a group) are refused. URLs are read as RFC 3986 (Go's
// net/url); of RFC 8089's file URLs only the local forms file:///path and
// file://localhost/path are accepted.
//
// Store.Fetch makes the model a local file at Dir/<sha256><ext>. The name
// is the content's hash, so a model already fetched costs nothing (it is
// only hashed again, to catch a corrupted disk), the same model named by
// two URLs is stored once, and a changed file at the same URL can never be
// mistaken for the old one. The bytes stream through SHA-256 into a
// temporary file in Dir and are renamed into place only once the hash is
// verified (the file and the directory synced, as in package atomicfile),
// so an aborted, oversized or wrong download never appears under the
// final name: models from the network are untrusted input. A download is
// bounded in bytes (MaxBytes) and time (Timeout).
//
// Store.Prune deletes the models no config needs any more, and temporary
// files left by a crash. It only ever deletes files inside Dir whose names
// the store itself makes, so a Dir set to the wrong directory by mistake
// loses nothing.
//
// One process is expected to own a Dir: fetches of the same hash within a
// process wait for each other (a per-hash lock), and the temporary names
// are unique, so even two processes never tear a file.
package modelstore
