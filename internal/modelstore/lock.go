package modelstore

import (
	"context"
	"path/filepath"
	"sync"
)

// The per-hash locks of the process: fetches of one model into one
// directory wait for each other (the second finds the first's file and
// downloads nothing), fetches of different models run in parallel, and
// Prune leaves a model alone while it is being fetched.
var locks = struct {
	sync.Mutex
	m map[string]*hashLock
}{m: map[string]*hashLock{}}

type hashLock struct {
	ch    chan struct{} // holds a token while locked
	users int           // holders and waiters; the entry goes at 0
}

func lockKey(dir, hash string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return filepath.Join(dir, hash)
}

// lock takes the lock of hash in dir, or gives up when ctx ends.
func lock(ctx context.Context, dir, hash string) (unlock func(), err error) {
	key := lockKey(dir, hash)
	locks.Lock()
	l := locks.m[key]
	if l == nil {
		l = &hashLock{ch: make(chan struct{}, 1)}
		locks.m[key] = l
	}
	l.users++
	locks.Unlock()
	release := func() {
		locks.Lock()
		if l.users--; l.users == 0 {
			delete(locks.m, key)
		}
		locks.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

// busy reports whether a fetch of hash into dir is running or waiting.
func busy(dir, hash string) bool {
	locks.Lock()
	defer locks.Unlock()
	return locks.m[lockKey(dir, hash)] != nil
}
