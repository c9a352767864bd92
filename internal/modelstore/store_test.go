package modelstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// modelServer serves files by path and counts the requests per path.
// "/slow/..." waits until the request is cancelled; "/chunked/..." sends
// its body without a Content-Length.
type modelServer struct {
	*httptest.Server
	files map[string][]byte
	mu    sync.Mutex
	hits  map[string]int
}

func newModelServer(t *testing.T, files map[string][]byte) *modelServer {
	s := &modelServer{files: files, hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		p := r.URL.Path
		switch {
		case strings.HasPrefix(p, "/slow/"):
			w.Header().Set("Content-Length", "1000")
			w.Write([]byte("partial"))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		case strings.HasPrefix(p, "/chunked/"):
			b, ok := s.files[strings.TrimPrefix(p, "/chunked")]
			if !ok {
				http.NotFound(w, r)
				return
			}
			for len(b) > 0 {
				n := min(len(b), 1000)
				w.Write(b[:n])
				w.(http.Flusher).Flush()
				b = b[n:]
			}
			return
		}
		b, ok := s.files[p]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		time.Sleep(20 * time.Millisecond) // lets concurrent fetches overlap
		w.Write(b)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *modelServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func TestFetchHTTP(t *testing.T) {
	model := bytes.Repeat([]byte("TFL3 weights "), 1000)
	big := bytes.Repeat([]byte{7}, 5000)
	srv := newModelServer(t, map[string][]byte{"/m/fruit.tflite": model, "/big.bin": big, "/noext": model})
	tests := []struct {
		name     string
		path     string
		sha      string
		max      int64
		wantFile string // base name; "" when an error is wanted
		wantErr  []string
		mismatch bool
	}{
		{name: "200", path: "/m/fruit.tflite", sha: sum(model), wantFile: sum(model) + ".tflite"},
		{name: "upper-case hash", path: "/m/fruit.tflite", sha: strings.ToUpper(sum(model)), wantFile: sum(model) + ".tflite"},
		{name: "no extension", path: "/noext", sha: sum(model), wantFile: sum(model)},
		{name: "chunked", path: "/chunked/m/fruit.tflite", sha: sum(model), wantFile: sum(model) + ".tflite"},
		{name: "404", path: "/m/missing.tflite", sha: sum(model), wantErr: []string{"modelstore: fetch " + srv.URL + "/m/missing.tflite: ", "404"}},
		{name: "wrong hash", path: "/m/fruit.tflite", sha: sum(big), mismatch: true, wantErr: []string{
			"modelstore: fetch " + srv.URL + "/m/fruit.tflite: ", "got " + sum(model), "want " + sum(big), "run sha256sum"}},
		{name: "too big, Content-Length", path: "/big.bin", sha: sum(big), max: 4096, wantErr: []string{"5000 bytes", "limit of 4096"}},
		{name: "too big, chunked", path: "/chunked/big.bin", sha: sum(big), max: 4096, wantErr: []string{"more than the store's limit of 4096 bytes"}},
		{name: "exactly MaxBytes", path: "/chunked/big.bin", sha: sum(big), max: 5000, wantFile: sum(big) + ".bin"},
		{name: "bad hash", path: "/m/fruit.tflite", sha: "abc", wantErr: []string{`sha256 "abc" is not 64 hex digits`}},
		{name: "bad hash digits", path: "/m/fruit.tflite", sha: strings.Repeat("g", 64), wantErr: []string{"not 64 hex digits"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Store{Dir: t.TempDir(), MaxBytes: tt.max}
			got, err := s.Fetch(context.Background(), srv.URL+tt.path, tt.sha)
			if tt.wantFile != "" {
				if err != nil {
					t.Fatal(err)
				}
				if want := filepath.Join(s.Dir, tt.wantFile); got != want {
					t.Errorf("path: got %s, want %s", got, want)
				}
				if h, err := hashFile(got); err != nil || h != strings.ToLower(tt.sha) {
					t.Errorf("stored file hashes to %s (%v), want %s", h, err, tt.sha)
				}
				assertDir(t, s.Dir, tt.wantFile)
				return
			}
			if err == nil {
				t.Fatalf("no error; got %s", got)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if got := errors.Is(err, ErrHashMismatch); got != tt.mismatch {
				t.Errorf("errors.Is(err, ErrHashMismatch) = %v, want %v", got, tt.mismatch)
			}
			assertDir(t, s.Dir) // nothing left, not even a temporary file
		})
	}
}

// TestFetchTimeout: a server that stalls mid-body is abandoned after
// Timeout, or when the caller's context ends, and leaves no file.
func TestFetchTimeout(t *testing.T) {
	srv := newModelServer(t, nil)
	sha := strings.Repeat("ab", 32)
	t.Run("Timeout", func(t *testing.T) {
		s := &Store{Dir: t.TempDir(), Timeout: 200 * time.Millisecond}
		start := time.Now()
		_, err := s.Fetch(context.Background(), srv.URL+"/slow/m.tflite", sha)
		if err == nil || !strings.Contains(err.Error(), "not done within 200ms") {
			t.Errorf("got %v, want a timeout error", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v", d)
		}
		assertDir(t, s.Dir)
	})
	t.Run("ctx", func(t *testing.T) {
		s := &Store{Dir: t.TempDir()}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := s.Fetch(ctx, srv.URL+"/slow/m.tflite", sha)
		if err == nil || !strings.Contains(err.Error(), "modelstore: fetch "+srv.URL+"/slow/m.tflite") || strings.Contains(err.Error(), "Timeout") {
			t.Errorf("got %v, want an error naming the URL, not blaming Timeout", err)
		}
		assertDir(t, s.Dir)
	})
}

func TestFetchLocal(t *testing.T) {
	src := t.TempDir()
	model := []byte("a local model")
	path := filepath.Join(src, "fruit.tflite")
	if err := os.WriteFile(path, model, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{path, "file://" + path} {
		s := &Store{Dir: t.TempDir()}
		got, err := s.Fetch(context.Background(), ref, sum(model))
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if b, _ := os.ReadFile(got); !bytes.Equal(b, model) {
			t.Errorf("%s: stored %q", ref, b)
		}
		if fi, _ := os.Stat(got); fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want 0644", ref, fi.Mode().Perm())
		}
		if _, err := s.Fetch(context.Background(), ref, sum([]byte("other"))); !errors.Is(err, ErrHashMismatch) {
			t.Errorf("%s, wrong hash: got %v, want ErrHashMismatch", ref, err)
		}
		if _, err := s.Fetch(context.Background(), ref+".missing", sum(model)); err == nil || !strings.Contains(err.Error(), "no such file") {
			t.Errorf("%s, missing file: got %v", ref, err)
		}
		if _, err := s.Fetch(context.Background(), src, sum(model)); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("directory: got %v", err)
		}
		assertDir(t, s.Dir, sum(model)+".tflite")
	}
}

// TestFetchCached: a model already stored is not fetched again; a
// corrupted copy is.
func TestFetchCached(t *testing.T) {
	model := []byte("model bytes")
	srv := newModelServer(t, map[string][]byte{"/m.tflite": model})
	s := &Store{Dir: t.TempDir()}
	ctx := context.Background()
	first, err := s.Fetch(ctx, srv.URL+"/m.tflite", sum(model))
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Fetch(ctx, srv.URL+"/m.tflite", sum(model))
	if err != nil || second != first {
		t.Fatalf("second fetch: %s, %v; want %s", second, err, first)
	}
	if n := srv.count("/m.tflite"); n != 1 {
		t.Errorf("%d requests for a cached model, want 1", n)
	}
	// The same URL pinned to another hash is fetched and refused, not
	// served from the copy of the first.
	if _, err := s.Fetch(ctx, srv.URL+"/m.tflite", sum([]byte("another model"))); !errors.Is(err, ErrHashMismatch) {
		t.Errorf("same URL, wrong hash: got %v, want ErrHashMismatch", err)
	}
	if n := srv.count("/m.tflite"); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	if err := os.WriteFile(first, []byte("bit rot"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fetch(ctx, srv.URL+"/m.tflite", sum(model)); err != nil {
		t.Fatal(err)
	}
	if n := srv.count("/m.tflite"); n != 3 {
		t.Errorf("%d requests after the copy was corrupted, want 3", n)
	}
	if b, _ := os.ReadFile(first); !bytes.Equal(b, model) {
		t.Errorf("copy not repaired: %q", b)
	}
}

// TestFetchConcurrent: goroutines fetching the same model download it
// once and all get the complete file.
func TestFetchConcurrent(t *testing.T) {
	model := bytes.Repeat([]byte("0123456789"), 100000)
	srv := newModelServer(t, map[string][]byte{"/m.tflite": model})
	s := &Store{Dir: t.TempDir()}
	var wg sync.WaitGroup
	var fails atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := s.Fetch(context.Background(), srv.URL+"/m.tflite", sum(model))
			if err != nil {
				t.Error(err)
				fails.Add(1)
				return
			}
			if b, err := os.ReadFile(p); err != nil || !bytes.Equal(b, model) {
				t.Errorf("torn file: %d bytes, %v", len(b), err)
			}
		}()
	}
	wg.Wait()
	if n := srv.count("/m.tflite"); n != 1 {
		t.Errorf("%d downloads, want 1", n)
	}
	assertDir(t, s.Dir, sum(model)+".tflite")
	locks.Lock()
	if n := len(locks.m); n != 0 {
		t.Errorf("%d locks left", n)
	}
	locks.Unlock()
}

func TestPrune(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	a, b, c := sum([]byte("a")), sum([]byte("b")), sum([]byte("c"))
	files := map[string]time.Time{
		a + ".tflite":                  {},
		b + ".tflite":                  {},
		c:                              {},
		b + ".txt":                     {},
		tmpPrefix + a + "-123":         time.Now().Add(-time.Hour), // stale: a crashed fetch
		tmpPrefix + c + "-456":         {},                         // fresh: maybe another process's fetch
		"notes.txt":                    {},                         // not the store's
		tmpPrefix + "x-1":              time.Now().Add(-time.Hour),
		strings.Repeat("a", 64) + ".-": {},
	}
	for name, mtime := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
		if !mtime.IsZero() {
			os.Chtimes(p, mtime, mtime)
		}
	}
	os.Mkdir(filepath.Join(dir, strings.Repeat("d", 64)), 0o755)
	os.WriteFile(filepath.Join(outside, a+".tflite"), nil, 0o644)

	s := &Store{Dir: dir}
	keep := []string{filepath.Join(dir, a+".tflite"), filepath.Join(dir, b+".txt"), filepath.Join(outside, c)}
	if err := s.Prune(keep); err != nil {
		t.Fatal(err)
	}
	assertDir(t, dir, tmpPrefix+c+"-456", tmpPrefix+"x-1", a+".tflite", strings.Repeat("a", 64)+".-", b+".txt", strings.Repeat("d", 64), "notes.txt")
	assertDir(t, outside, a+".tflite")

	if err := (&Store{Dir: filepath.Join(dir, "missing")}).Prune(nil); err != nil {
		t.Errorf("missing Dir: %v", err)
	}
}

// TestPruneBusy: a model being fetched is not pruned.
func TestPruneBusy(t *testing.T) {
	dir := t.TempDir()
	h := sum([]byte("m"))
	os.WriteFile(filepath.Join(dir, h+".tflite"), []byte("m"), 0o644)
	unlock, err := lock(context.Background(), dir, h)
	if err != nil {
		t.Fatal(err)
	}
	s := &Store{Dir: dir}
	if err := s.Prune(nil); err != nil {
		t.Fatal(err)
	}
	assertDir(t, dir, h+".tflite")
	unlock()
	if err := s.Prune(nil); err != nil {
		t.Fatal(err)
	}
	assertDir(t, dir)
}

// assertDir checks that dir holds exactly names (in any order).
func assertDir(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range ents {
		got[e.Name()] = true
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for n := range got {
		if !want[n] {
			t.Errorf("%s holds %s, which it should not", dir, n)
		}
	}
	for n := range want {
		if !got[n] {
			t.Errorf("%s lacks %s", dir, n)
		}
	}
}

func TestPath(t *testing.T) {
	model := []byte("m")
	src := filepath.Join(t.TempDir(), "m.tflite")
	os.WriteFile(src, model, 0o644)
	s := &Store{Dir: t.TempDir()}
	want, err := s.Path("file://"+src, strings.ToUpper(sum(model)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Fetch(context.Background(), src, sum(model))
	if err != nil || got != want {
		t.Errorf("Fetch = %s, %v; Path = %s", got, err, want)
	}
	if _, err := s.Path("file://"+src, "xyz"); err == nil {
		t.Error("Path accepted a bad hash")
	}
	if _, err := s.Path("m.tflite", sum(model)); err == nil {
		t.Error("Path accepted a relative reference")
	}
}

// TestUnreachable: failures that may pass by themselves wrap
// ErrUnreachable (a caller retries them); those that need a new config
// do not.
func TestUnreachable(t *testing.T) {
	body := []byte("model bytes")
	sum := sha256.Sum256(body)
	good := hex.EncodeToString(sum[:])
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/busy.tflite":
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case "/slow-down.tflite":
			http.Error(w, "slow down", http.StatusTooManyRequests)
		case "/m.tflite":
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	for _, tc := range []struct {
		url, sum    string
		unreachable bool
	}{
		{srv.URL + "/busy.tflite", good, true},
		{srv.URL + "/slow-down.tflite", good, true},
		{closedURL + "/m.tflite", good, true},
		{srv.URL + "/missing.tflite", good, false},
		{srv.URL + "/m.tflite", strings.Repeat("0", 64), false},
	} {
		s := &Store{Dir: t.TempDir()}
		_, err := s.Fetch(t.Context(), tc.url, tc.sum)
		if err == nil || errors.Is(err, ErrUnreachable) != tc.unreachable {
			t.Errorf("Fetch(%s) = %v; want an error, unreachable %v", tc.url, err, tc.unreachable)
		}
	}
}
