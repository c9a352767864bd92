package spool

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// faultFS is the OS file system with a budget of bytes that may be
// written before writes fail with ENOSPC (half way, as a full disk
// does), and switchable fsync failures.
type faultFS struct {
	FS
	mu       sync.Mutex
	budget   int64 // bytes writable; negative: unlimited
	syncErr  error // returned by File.Sync and SyncDir when set
	writes   int
	fsyncs   int
	dirSyncs int
}

func newFaultFS() *faultFS { return &faultFS{FS: OSFS(), budget: -1} }

func (f *faultFS) setBudget(n int64) {
	f.mu.Lock()
	f.budget = n
	f.mu.Unlock()
}

func (f *faultFS) setSyncErr(err error) {
	f.mu.Lock()
	f.syncErr = err
	f.mu.Unlock()
}

func (f *faultFS) counts() (writes, fsyncs, dirSyncs int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes, f.fsyncs, f.dirSyncs
}

func (f *faultFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	file, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, name: name}, nil
}

func (f *faultFS) SyncDir(dir string) error {
	f.mu.Lock()
	f.dirSyncs++
	err := f.syncErr
	f.mu.Unlock()
	if err != nil {
		return &os.PathError{Op: "fsync", Path: dir, Err: err}
	}
	return f.FS.SyncDir(dir)
}

type faultFile struct {
	File
	fs   *faultFS
	name string
}

func (f *faultFile) WriteAt(b []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	f.fs.writes++
	n := int64(len(b))
	full := f.fs.budget >= 0 && n > f.fs.budget
	if full {
		n = f.fs.budget
	}
	if f.fs.budget >= 0 {
		f.fs.budget -= n
	}
	f.fs.mu.Unlock()
	if full {
		k, err := f.File.WriteAt(b[:n], off)
		if err == nil {
			err = &os.PathError{Op: "write", Path: f.name, Err: syscall.ENOSPC}
		}
		return k, err
	}
	return f.File.WriteAt(b, off)
}

func (f *faultFile) Sync() error {
	f.fs.mu.Lock()
	f.fs.fsyncs++
	err := f.fs.syncErr
	f.fs.mu.Unlock()
	if err != nil {
		return &os.PathError{Op: "fsync", Path: f.name, Err: err}
	}
	return f.File.Sync()
}

// fakeClock moves only when told; After channels fire when it passes
// their time.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	c  chan time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := waiter{c.now.Add(d), make(chan time.Time, 1)}
	if d <= 0 {
		w.c <- c.now
		return w.c
	}
	c.waiters = append(c.waiters, w)
	return w.c
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	k := 0
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.c <- c.now
			continue
		}
		c.waiters[k] = w
		k++
	}
	c.waiters = c.waiters[:k]
}

// waitForWaiter blocks until some goroutine waits on the clock.
func (c *fakeClock) waitForWaiter(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		n := len(c.waiters)
		c.mu.Unlock()
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("nobody waited on the clock within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// memFS is a file system in memory, for fuzzing at thousands of runs a
// second: fsync costs nothing.
type memFS struct {
	mu    sync.Mutex
	files map[string]*memFile
}

type memFile struct {
	mu sync.Mutex
	b  []byte
}

func newMemFS() *memFS { return &memFS{files: make(map[string]*memFile)} }

func (m *memFS) put(name string, b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[name] = &memFile{b: append([]byte(nil), b...)}
}

func (m *memFS) MkdirAll(string) error { return nil }

func (m *memFS) ReadDir(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var names []string
	for n := range m.files {
		if filepath.Dir(n) == filepath.Clean(dir) {
			names = append(names, filepath.Base(n))
		}
	}
	return names, nil
}

func (m *memFS) OpenFile(name string, flag int, _ fs.FileMode) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.files[name]
	switch {
	case !ok && flag&os.O_CREATE == 0:
		return nil, &os.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	case !ok:
		f = &memFile{}
		m.files[name] = f
	case flag&os.O_TRUNC != 0:
		f.mu.Lock()
		f.b = f.b[:0]
		f.mu.Unlock()
	}
	return memHandle{f}, nil
}

func (m *memFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[name]; !ok {
		return &os.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	delete(m.files, name)
	return nil
}

func (m *memFS) SyncDir(string) error { return nil }

type memHandle struct{ f *memFile }

func (h memHandle) ReadAt(b []byte, off int64) (int, error) {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	if off >= int64(len(h.f.b)) {
		return 0, io.EOF
	}
	n := copy(b, h.f.b[off:])
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

func (h memHandle) WriteAt(b []byte, off int64) (int, error) {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	if end := off + int64(len(b)); end > int64(len(h.f.b)) {
		h.f.b = append(h.f.b, make([]byte, end-int64(len(h.f.b)))...)
	}
	return copy(h.f.b[off:], b), nil
}

func (h memHandle) Truncate(size int64) error {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	if size <= int64(len(h.f.b)) {
		h.f.b = h.f.b[:size]
	} else {
		h.f.b = append(h.f.b, make([]byte, size-int64(len(h.f.b)))...)
	}
	return nil
}

func (h memHandle) Size() (int64, error) {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	return int64(len(h.f.b)), nil
}

func (memHandle) Sync() error  { return nil }
func (memHandle) Close() error { return nil }

// clone copies every file: the disk as a crash leaves it.
func (m *memFS) clone() *memFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := newMemFS()
	for n, f := range m.files {
		f.mu.Lock()
		c.files[n] = &memFile{b: append([]byte(nil), f.b...)}
		f.mu.Unlock()
	}
	return c
}

func (m *memFS) bytes(name string) []byte {
	m.mu.Lock()
	f := m.files[name]
	m.mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]byte(nil), f.b...)
}
