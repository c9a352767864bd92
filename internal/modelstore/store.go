package modelstore

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fruitcam/fruitcam/internal/atomicfile"
)

// Defaults of a Store's zero fields.
const (
	DefaultMaxBytes = 1 << 30         // 1 GiB: far above any board's model
	DefaultTimeout  = 5 * time.Minute // a large model over a slow uplink
)

// ErrHashMismatch is wrapped by Fetch's error when the content's SHA-256
// is not the one the config pins.
var ErrHashMismatch = errors.New("sha256 mismatch")

// ErrUnreachable is wrapped by Fetch's error when the failure may pass by
// itself: the server did not answer, the connection broke, the download
// timed out, or the server answered 5xx or 429. A caller may try again
// later; other errors (404, a wrong hash, a certificate the CA did not
// sign) need a new config.
var ErrUnreachable = errors.New("server unreachable")

// Store keeps fetched models in Dir, named by their SHA-256.
type Store struct {
	// Dir holds the models; it is created (mode 755) when missing.
	Dir string
	// Client downloads http(s) references; nil: a client with the
	// system's CA certificates and the environment's proxy settings.
	Client *http.Client
	// MaxBytes bounds a model's size in bytes; 0: DefaultMaxBytes.
	MaxBytes int64
	// Timeout bounds one fetch, download and verification together;
	// 0: DefaultTimeout.
	Timeout time.Duration
}

// tmpPrefix starts the names of temporary files, which Prune deletes
// when they are stale.
const tmpPrefix = ".fetch-"

func (s *Store) maxBytes() int64 {
	if s.MaxBytes > 0 {
		return s.MaxBytes
	}
	return DefaultMaxBytes
}

func (s *Store) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultTimeout
}

func (s *Store) client() *http.Client {
	if s.Client != nil {
		return s.Client
	}
	return http.DefaultClient
}

// Fetch returns the path of a local copy of the model ref names whose
// SHA-256 is sha256hex (64 hex digits, either case). A copy already in
// Dir is hashed again and returned without fetching; otherwise ref is
// downloaded or copied into Dir and verified before it gets its name.
// Errors start "modelstore: fetch REF: "; a wrong hash wraps
// ErrHashMismatch.
func (s *Store) Fetch(ctx context.Context, ref string, sha256hex string) (string, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return "", err
	}
	want := strings.ToLower(sha256hex)
	if !isHash(want) {
		return "", fmt.Errorf("modelstore: fetch %s: sha256 %.80q is not 64 hex digits; write the output of sha256sum", r, sha256hex)
	}
	if s.Dir == "" {
		return "", fmt.Errorf("modelstore: fetch %s: the store has no directory", r)
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return "", fmt.Errorf("modelstore: fetch %s: %w", r, err)
	}
	final := filepath.Join(s.Dir, want+r.Ext)
	unlock, err := lock(ctx, s.Dir, want)
	if err != nil {
		return "", fmt.Errorf("modelstore: fetch %s: waiting for another fetch of the same model: %w", r, err)
	}
	defer unlock()

	switch got, err := hashFile(final); {
	case err == nil && got == want:
		return final, nil
	case err == nil:
		// The disk changed the copy under us: fetch it anew.
		os.Remove(final)
	case !errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("modelstore: fetch %s: reading the stored copy: %w", r, err)
	}

	fetchCtx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	if err := s.fetch(fetchCtx, r, want, final); err != nil {
		if fetchCtx.Err() != nil && ctx.Err() == nil && !errors.Is(err, ErrHashMismatch) {
			return "", fmt.Errorf("modelstore: fetch %s: %w: not done within %v (Timeout; is the server slow or the model large?): %w", r, ErrUnreachable, s.timeout(), err)
		}
		return "", fmt.Errorf("modelstore: fetch %s: %w", r, err)
	}
	return final, nil
}

// Path returns where Fetch keeps the model ref names with SHA-256
// sha256hex, without fetching it: for the keep list of Prune.
func (s *Store) Path(ref, sha256hex string) (string, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return "", err
	}
	want := strings.ToLower(sha256hex)
	if !isHash(want) {
		return "", fmt.Errorf("modelstore: %s: sha256 %.80q is not 64 hex digits; write the output of sha256sum", r, sha256hex)
	}
	return filepath.Join(s.Dir, want+r.Ext), nil
}

// fetch copies r into a temporary file, verifies it and renames it to
// final. The temporary file is removed on every error.
func (s *Store) fetch(ctx context.Context, r Ref, want, final string) (err error) {
	src, size, err := s.open(ctx, r)
	if err != nil {
		return err
	}
	defer src.Close()
	if size > s.maxBytes() {
		return fmt.Errorf("%d bytes is more than the store's limit of %d (MaxBytes); is the reference right?", size, s.maxBytes())
	}
	f, err := os.CreateTemp(s.Dir, tmpPrefix+want+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), &ctxReader{ctx: ctx, r: io.LimitReader(src, s.maxBytes()+1)})
	switch {
	case err != nil && r.Remote() && ctx.Err() == nil:
		return fmt.Errorf("%w: the connection broke after %d bytes: %w", ErrUnreachable, n, err)
	case err != nil:
		return fmt.Errorf("after %d bytes: %w", n, err)
	case n > s.maxBytes():
		return fmt.Errorf("more than the store's limit of %d bytes (MaxBytes); is the reference right?", s.maxBytes())
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%w: got %s, want %s: the file at %s changed, or the config's sha256 is wrong: run sha256sum on the file you meant", ErrHashMismatch, got, want, r)
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, final); err != nil {
		return err
	}
	return atomicfile.SyncDir(s.Dir)
}

// open returns the content of r and its size when known (else -1).
func (s *Store) open(ctx context.Context, r Ref) (io.ReadCloser, int64, error) {
	if !r.Remote() {
		f, err := os.Open(r.Path)
		if err != nil {
			return nil, 0, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, err
		}
		if !fi.Mode().IsRegular() {
			f.Close()
			return nil, 0, fmt.Errorf("%s is not a regular file", r.Path)
		}
		return f, fi.Size(), nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := s.client().Do(req)
	if err != nil {
		var cert *tls.CertificateVerificationError
		if errors.As(err, &cert) || ctx.Err() != nil {
			return nil, 0, err
		}
		return nil, 0, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return nil, 0, fmt.Errorf("%w: HTTP status %q, want 200 OK", ErrUnreachable, resp.Status)
		}
		return nil, 0, fmt.Errorf("HTTP status %q, want 200 OK", resp.Status)
	}
	return resp.Body, resp.ContentLength, nil
}

// ctxReader stops reading once ctx is done: a local copy from a hung
// network file system, or a body whose transport ignores the context.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// hashFile returns the hex SHA-256 of the file at path.
func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// isHash reports whether s is 64 lower-case hex digits.
func isHash(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
