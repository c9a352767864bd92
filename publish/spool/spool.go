package spool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Errors of the spool; wrapped with what was being done.
var (
	ErrClosed   = errors.New("spool: closed")
	ErrTooLarge = errors.New("spool: record is larger than a segment")
)

// Spool is a bounded, crash-safe queue of records on disk. One goroutine
// appends (Append, AppendFunc) while another consumes (Wait, Next, Ack);
// every method is safe for concurrent use, and concurrent appends are
// serialised.
type Spool struct {
	dir   string
	o     Options
	fs    FS
	clock Clock
	log   *slog.Logger

	// Lock order: appendMu, syncMu, mu.
	appendMu sync.Mutex // one Append at a time
	syncMu   sync.Mutex // serialises fsyncs, rotation and Close's end

	mu                 sync.Mutex
	closed             bool
	segs               []*segment // oldest first; the last is the active one, written to
	stateF             File
	gen                uint64 // generation of the last state written
	lastSeq            uint64 // last seq handed out
	written            uint64 // last seq written to the active segment
	synced             uint64 // records up to here are durable and visible
	acked              uint64
	stored             uint64 // records in segs
	bytes              int64
	ackDirty, dirDirty bool
	lastSync           time.Time
	cur                cursor
	buf                []byte
	avail              chan struct{} // closed and replaced when records become visible, and at Close
	st                 Stats         // the counters and error fields
	appendFailing      bool
	syncFailing        bool

	dirty chan struct{} // wakes the flusher
	quit  chan struct{}
	done  chan struct{}
}

// cursor is where Next continues when the consumer acknowledged all it
// was given; otherwise Next seeks again from the acknowledged seq.
type cursor struct {
	seg   *segment // nil: seek
	off   int64
	after uint64 // seq of the last record returned
	prev  uint64 // seq of the record before off, 0 at a segment's start
}

// Open opens the spool in dir, creating the directory if needed, and
// recovers it: torn records at the ends of segments are cut off (with
// everything before them kept), and seqs continue after the last one
// used. One process may have a directory open at a time.
func Open(dir string, o Options) (*Spool, error) {
	o, err := o.resolve()
	if err != nil {
		return nil, err
	}
	s := &Spool{
		dir: dir, o: o, fs: o.FS, clock: o.Clock, log: o.Logger,
		avail: make(chan struct{}),
		dirty: make(chan struct{}, 1),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	if err := s.fs.MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("spool: create directory %s: %w (check the path and that the agent may write there)", dir, err)
	}
	if err := s.recover(); err != nil {
		s.closeFiles()
		return nil, err
	}
	s.st.Healthy = true
	s.lastSync = s.clock.Now()
	if o.SyncEachRecord {
		close(s.done)
	} else {
		go s.flusher()
	}
	return s, nil
}

func (s *Spool) recover() error {
	names, err := s.fs.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("spool: read directory %s: %w", s.dir, err)
	}
	var st state
	var bases []uint64
	var removed bool
	hasState := false
	for _, n := range names {
		if n == stateName {
			hasState = true
		}
		if b, ok := parseSegmentName(n); ok {
			bases = append(bases, b)
		}
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })

	statePath := filepath.Join(s.dir, stateName)
	s.stateF, err = s.fs.OpenFile(statePath, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("spool: open %s: %w", statePath, err)
	}
	var sb [2 * stateSlotSize]byte
	n, err := s.stateF.ReadAt(sb[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("spool: read %s: %w", statePath, err)
	}
	if v, ok := decodeState(sb[:n]); ok {
		st = v
	} else if hasState && n > 0 {
		s.log.Warn("spool: acknowledgement state unreadable; records stored will be sent again", "file", statePath)
	}
	removed = !hasState

	var prev uint64 // last seq recovered
	for _, base := range bases {
		path := filepath.Join(s.dir, segmentName(base))
		g, torn, err := s.loadSegment(path, base, prev)
		if err != nil {
			return err
		}
		if g == nil {
			// Not a segment: most likely created at a crash before its
			// header was durable. It holds nothing.
			s.log.Warn("spool: removing a segment file without a valid header", "file", path, "bytes", torn)
			s.st.TornBytes += torn
			if err := s.fs.Remove(path); err != nil {
				return fmt.Errorf("spool: remove damaged segment %s: %w", path, err)
			}
			removed = true
			continue
		}
		if torn > 0 {
			s.log.Warn("spool: dropped a torn write at the end of a segment", "file", path, "bytes", torn, "kept_records", g.count())
			s.st.TornBytes += torn
		}
		prev = max(prev, g.last())
		s.segs = append(s.segs, g)
	}
	for i, g := range s.segs {
		if i < len(s.segs)-1 {
			g.close() // reopened for reading when needed
		}
	}
	// The newest segment stays, even when empty or acknowledged: it is the
	// one appended to, and its name keeps the seq numbering.
	for len(s.segs) > 1 && (s.segs[0].count() == 0 || s.segs[0].last() <= st.acked) {
		g := s.segs[0]
		if err := s.fs.Remove(g.name); err != nil {
			return fmt.Errorf("spool: remove acknowledged segment %s: %w", g.name, err)
		}
		s.segs = s.segs[1:]
		removed = true
	}
	if len(s.segs) > 0 {
		g := s.segs[len(s.segs)-1]
		// The last segment may hold records written but not fsynced before
		// a crash of the process (not of the machine): make them durable
		// before anything is sent.
		if err := g.f.Sync(); err != nil {
			return fmt.Errorf("spool: fsync %s: %w", g.name, err)
		}
		prev = max(prev, g.base-1)
	}
	if removed {
		if err := s.fs.SyncDir(s.dir); err != nil {
			return fmt.Errorf("spool: fsync directory %s: %w", s.dir, err)
		}
	}
	for _, g := range s.segs {
		s.stored += g.count()
		s.bytes += g.size
	}
	s.gen = st.gen
	s.acked = st.acked
	s.lastSeq = max(st.last, st.acked, prev)
	s.written, s.synced = prev, prev
	if s.stored > 0 {
		s.log.Info("spool: recovered", "dir", s.dir, "records", s.stored, "unacknowledged", s.pendingLocked(), "last_seq", s.lastSeq)
	}
	return nil
}

// loadSegment reads and checks a segment file, cutting off a torn tail.
// It returns a nil segment when the file has no valid header.
func (s *Spool) loadSegment(path string, base, prev uint64) (*segment, int64, error) {
	f, err := s.fs.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("spool: open segment %s: %w", path, err)
	}
	size, err := f.Size()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("spool: size of segment %s: %w", path, err)
	}
	if size > maxSegmentFile {
		f.Close()
		return nil, 0, fmt.Errorf("spool: segment %s has %d bytes, more than a spool writes (%d); move it out of %s", path, size, int64(maxSegmentFile), s.dir)
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, 0, fmt.Errorf("spool: read segment %s: %w", path, err)
	}
	g := &segment{name: path, f: f}
	hb, valid, err := decodeSegment(b, prev, func(r Record, _ int64) { g.add(r.Seq) })
	if err != nil || hb != base {
		f.Close()
		return nil, size, nil
	}
	g.base, g.size = base, valid
	if valid < size {
		if err := f.Truncate(valid); err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("spool: cut the torn end of segment %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("spool: fsync segment %s: %w", path, err)
		}
	}
	return g, size - valid, nil
}

func segmentName(base uint64) string { return fmt.Sprintf("%016x.seg", base) }

func parseSegmentName(n string) (uint64, bool) {
	hex, ok := strings.CutSuffix(n, ".seg")
	if !ok || len(hex) != 16 {
		return 0, false
	}
	b, err := strconv.ParseUint(hex, 16, 64)
	return b, err == nil && b > 0
}

// Append stores payload for topic under the next seq and returns the seq.
// See AppendFunc.
func (s *Spool) Append(topic string, payload []byte) (uint64, error) {
	return s.AppendFunc(topic, func(uint64) ([]byte, error) { return payload, nil })
}

// AppendFunc stores the payload that build returns for the next seq (so
// the payload can carry its own seq) and returns that seq. It writes to
// the operating system's cache and returns; the record becomes durable
// at the next group commit (Options.SyncEvery) unless SyncEachRecord.
// When the spool is full the oldest segment is deleted first (Stats.Evicted,
// Options.OnEvict).
//
// On a write error (a full disk: errors.Is(err, syscall.ENOSPC)) the
// record is not stored, the seq is used up, so consumers see a gap as for
// an eviction, and the spool stays consistent: later appends succeed once
// there is space again. Every error counts in Stats.Failed. With
// SyncEachRecord a failed fsync is returned too (Stats.SyncErrors): the
// record is then stored, not known durable, and is delivered after a
// later fsync succeeds.
//
// build runs with the spool locked: it must not call the spool.
func (s *Spool) AppendFunc(topic string, build func(seq uint64) ([]byte, error)) (uint64, error) {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	s.mu.Lock()
	seq, size, err := s.prepareLocked(topic, build)
	if err != nil {
		s.failAppendLocked(err)
		s.mu.Unlock()
		return 0, err
	}
	if s.needRotateLocked(size) {
		s.mu.Unlock()
		s.syncMu.Lock()
		s.mu.Lock()
		if s.closed {
			err = fmt.Errorf("spool: append to %s: %w", s.dir, ErrClosed)
		} else {
			err = s.rotateLocked()
		}
		s.syncMu.Unlock()
		if err != nil {
			s.lastSeq = seq
			s.failAppendLocked(err)
			s.mu.Unlock()
			return seq, err
		}
	}
	evicted := s.evictLocked(size)
	err = s.writeLocked(seq, topic)
	s.mu.Unlock()
	for _, e := range evicted {
		s.log.Warn("spool: full: evicted the oldest unacknowledged records", "segment", e.Segment, "records", e.Records, "first_seq", e.First, "last_seq", e.Last)
		if s.o.OnEvict != nil {
			s.o.OnEvict(e)
		}
	}
	if err != nil {
		return seq, err
	}
	if s.o.SyncEachRecord {
		if err := s.Sync(); err != nil {
			return seq, err
		}
	} else {
		s.kick()
	}
	return seq, nil
}

// prepareLocked builds and encodes the record into s.buf.
func (s *Spool) prepareLocked(topic string, build func(uint64) ([]byte, error)) (uint64, int64, error) {
	if s.closed {
		return 0, 0, fmt.Errorf("spool: append to %s: %w", s.dir, ErrClosed)
	}
	if topic == "" || len(topic) > maxTopicLen {
		return 0, 0, fmt.Errorf("spool: append: topic of %d bytes; want 1 to %d", len(topic), maxTopicLen)
	}
	if s.lastSeq == ^uint64(0) {
		return 0, 0, fmt.Errorf("spool: append to %s: every seq is used up; move the directory away to start again from 1", s.dir)
	}
	seq := s.lastSeq + 1
	payload, err := build(seq)
	if err != nil {
		return 0, 0, fmt.Errorf("spool: append seq %d: build the payload: %w", seq, err)
	}
	size := recordSize(topic, payload)
	if limit := s.o.SegmentBytes - segHeaderSize; size > limit {
		return 0, 0, fmt.Errorf("spool: append seq %d: %d bytes, over %d: %w (raise the segment size)", seq, size, limit, ErrTooLarge)
	}
	s.buf = appendRecord(s.buf[:0], seq, topic, payload)
	return seq, size, nil
}

func (s *Spool) needRotateLocked(size int64) bool {
	if len(s.segs) == 0 {
		return true
	}
	g := s.segs[len(s.segs)-1]
	n := g.count()
	if n == 0 {
		return false
	}
	return g.size+size > s.o.SegmentBytes || (s.o.MaxRecords > 0 && n >= s.o.segmentRecords())
}

// rotateLocked starts a new active segment for the next seq. The old one
// is fsynced first, so that only the newest segment can hold a torn write.
func (s *Spool) rotateLocked() error {
	base := s.lastSeq + 1
	path := filepath.Join(s.dir, segmentName(base))
	f, err := s.fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("spool: create segment %s: %w%s", path, err, hint(err))
	}
	if _, err := f.WriteAt(appendSegmentHeader(nil, base), 0); err != nil {
		f.Close()
		s.fs.Remove(path)
		return fmt.Errorf("spool: write segment header %s: %w%s", path, err, hint(err))
	}
	if err := s.fs.SyncDir(s.dir); err != nil {
		f.Close()
		s.fs.Remove(path)
		return fmt.Errorf("spool: fsync directory %s: %w%s", s.dir, err, hint(err))
	}
	if len(s.segs) > 0 {
		old := s.segs[len(s.segs)-1]
		if old.dirtyTail > 0 && old.f.Truncate(old.size) == nil {
			old.dirtyTail = 0 // garbage of a failed write; recovery would cut it too
		}
		if err := old.f.Sync(); err != nil {
			// Its records stay stored and will be sent; whether they
			// survive a power loss is unknown, which the error reports.
			s.failSyncLocked(fmt.Errorf("spool: fsync segment %s: %w", old.name, err))
		}
		s.advanceSyncedLocked(s.written)
		if s.cur.seg != old {
			old.close()
		}
	}
	s.segs = append(s.segs, &segment{name: path, base: base, size: segHeaderSize, f: f})
	s.bytes += segHeaderSize
	s.dropAckedLocked()
	return nil
}

// evictLocked deletes the oldest segments until a record of size bytes
// fits within the bounds.
func (s *Spool) evictLocked(size int64) []Eviction {
	var ev []Eviction
	for len(s.segs) > 1 && (s.bytes+size > s.o.MaxBytes || (s.o.MaxRecords > 0 && s.stored+1 > uint64(s.o.MaxRecords))) {
		g := s.segs[0]
		n := g.countIn(s.acked, ^uint64(0))
		if n > 0 {
			s.st.Evicted += n
			ev = append(ev, Eviction{Segment: filepath.Base(g.name), Records: int(n), First: max(g.first(), s.acked+1), Last: g.last()})
		}
		s.removeFirstLocked()
	}
	return ev
}

// removeFirstLocked deletes the oldest segment, which is not the active one.
func (s *Spool) removeFirstLocked() {
	g := s.segs[0]
	g.close()
	if s.cur.seg == g {
		s.cur = cursor{}
	}
	if err := s.fs.Remove(g.name); err != nil && !errors.Is(err, os.ErrNotExist) {
		// Left on disk it comes back at the next Open: sent again, or
		// evicted again. Not worth failing for.
		s.log.Warn("spool: cannot remove segment", "file", g.name, "err", err)
	}
	s.segs = s.segs[1:]
	s.stored -= g.count()
	s.bytes -= g.size
	s.dirDirty = true
}

// dropAckedLocked deletes old segments whose records are all acknowledged.
func (s *Spool) dropAckedLocked() {
	for len(s.segs) > 1 && s.segs[0].last() <= s.acked {
		s.removeFirstLocked()
	}
}

func (s *Spool) writeLocked(seq uint64, topic string) error {
	g := s.segs[len(s.segs)-1]
	s.lastSeq = seq
	if _, err := g.f.WriteAt(s.buf, g.size); err != nil {
		// A partial write is cut off now if possible; otherwise the next
		// record overwrites it and recovery cuts what is left.
		if g.f.Truncate(g.size) != nil {
			g.dirtyTail = max(g.dirtyTail, int64(len(s.buf)))
		}
		err = fmt.Errorf("spool: append seq %d (%s) to %s: %w%s", seq, topic, g.name, err, hint(err))
		s.failAppendLocked(err)
		return err
	}
	n := int64(len(s.buf))
	g.size += n
	g.dirtyTail = max(0, g.dirtyTail-n)
	g.add(seq)
	s.bytes += n
	s.stored++
	s.written = seq
	s.st.Appended++
	if s.appendFailing {
		s.appendFailing = false
		s.logRecoveryLocked()
	}
	return nil
}

func hint(err error) string {
	if errors.Is(err, syscall.ENOSPC) {
		return " (the disk is full: free space or lower the spool's size bound; appends resume by themselves)"
	}
	return ""
}

// failAppendLocked counts a failed Append and reports the start of a
// streak of them.
func (s *Spool) failAppendLocked(err error) {
	s.st.Failed++
	s.setErrLocked(err)
	if !s.appendFailing && !errors.Is(err, ErrClosed) {
		s.appendFailing = true
		s.log.Error("spool: append failed; results are being lost", "err", err)
	}
}

func (s *Spool) failSyncLocked(err error) {
	s.st.SyncErrors++
	s.setErrLocked(err)
	if !s.syncFailing {
		s.syncFailing = true
		s.log.Error("spool: fsync failed; records are not durable", "err", err)
	}
}

func (s *Spool) setErrLocked(err error) {
	s.st.LastError = err
	s.st.LastErrorAt = s.clock.Now()
}

func (s *Spool) logRecoveryLocked() {
	if !s.appendFailing && !s.syncFailing {
		s.log.Info("spool: writing again", "failed_appends", s.st.Failed)
	}
}

func (s *Spool) advanceSyncedLocked(seq uint64) {
	if seq > s.synced {
		s.synced = seq
		close(s.avail)
		s.avail = make(chan struct{})
	}
}

// kick wakes the flusher.
func (s *Spool) kick() {
	select {
	case s.dirty <- struct{}{}:
	default:
	}
}

// flusher is the group commit: after a change it waits until SyncEvery
// has passed since the last fsync, then fsyncs everything changed since.
func (s *Spool) flusher() {
	defer close(s.done)
	for {
		select {
		case <-s.dirty:
		case <-s.quit:
			return
		}
		s.mu.Lock()
		next := s.lastSync.Add(s.o.SyncEvery)
		s.mu.Unlock()
		if wait := next.Sub(s.clock.Now()); wait > 0 {
			select {
			case <-s.clock.After(wait):
			case <-s.quit:
				return
			}
		}
		if err := s.Sync(); err != nil && !errors.Is(err, ErrClosed) {
			s.kick() // try again a period later
		}
	}
}

// Sync makes every record appended and every acknowledgement so far
// durable now, and the records visible to Next. The group commit calls
// it; callers need not.
func (s *Spool) Sync() error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return fmt.Errorf("spool: sync %s: %w", s.dir, ErrClosed)
	}
	return s.syncHeld()
}

// syncHeld is Sync with syncMu held.
func (s *Spool) syncHeld() error {
	s.mu.Lock()
	target := s.written
	var f File
	var name string
	if target > s.synced && len(s.segs) > 0 {
		g := s.segs[len(s.segs)-1]
		f, name = g.f, g.name
	}
	ackDirty, dirDirty := s.ackDirty, s.dirDirty
	st := state{gen: s.gen + 1, acked: s.acked, last: s.lastSeq}
	s.ackDirty, s.dirDirty = false, false
	s.mu.Unlock()

	var fErr, dErr, aErr error
	if f != nil {
		if err := f.Sync(); err != nil {
			fErr = fmt.Errorf("spool: fsync segment %s: %w", name, err)
		}
	}
	if dirDirty {
		if err := s.fs.SyncDir(s.dir); err != nil {
			dErr = fmt.Errorf("spool: fsync directory %s: %w", s.dir, err)
		}
	}
	if ackDirty {
		if _, err := s.stateF.WriteAt(st.encode(), st.offset()); err != nil {
			aErr = fmt.Errorf("spool: write acknowledgement state in %s: %w%s", s.dir, err, hint(err))
		} else if err := s.stateF.Sync(); err != nil {
			aErr = fmt.Errorf("spool: fsync acknowledgement state in %s: %w", s.dir, err)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastSync = s.clock.Now()
	if fErr == nil {
		s.advanceSyncedLocked(target)
	}
	if dErr != nil {
		s.dirDirty = true
	}
	if aErr != nil {
		s.ackDirty = true
	} else if ackDirty {
		s.gen = st.gen
	}
	err := errors.Join(fErr, dErr, aErr)
	for _, e := range []error{fErr, dErr, aErr} {
		if e != nil {
			s.failSyncLocked(e)
		}
	}
	if err == nil && s.syncFailing {
		s.syncFailing = false
		s.logRecoveryLocked()
	}
	return err
}

// Wait returns nil once Next has records to return, ctx.Err() when ctx
// ends first, ErrClosed when the spool is closed. Records that were
// returned by Next but not acknowledged count: after a failed delivery
// Wait returns at once, and the caller backs off itself.
func (s *Spool) Wait(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return fmt.Errorf("spool: wait on %s: %w", s.dir, ErrClosed)
		}
		if s.pendingLocked() > 0 {
			s.mu.Unlock()
			return nil
		}
		ch := s.avail
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// pendingLocked counts the visible unacknowledged records.
func (s *Spool) pendingLocked() uint64 {
	var n uint64
	for i := len(s.segs) - 1; i >= 0; i-- {
		g := s.segs[i]
		if g.last() <= s.acked {
			break
		}
		n += g.countIn(s.acked, s.synced)
	}
	return n
}

// Next returns up to limit of the oldest unacknowledged durable records, in
// seq order, without removing them: the consumer sends them and then
// acknowledges (Ack) up to the last one the broker acknowledged. Until
// it does, Next returns the same records again. Payloads are the
// caller's. A record found damaged is dropped with the rest of its
// segment (Stats.Corrupt) rather than stopping delivery.
func (s *Spool) Next(limit int) ([]Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("spool: read %s: %w", s.dir, ErrClosed)
	}
	if limit <= 0 || s.synced <= s.acked {
		return nil, nil
	}
	if s.cur.seg == nil || s.cur.after != s.acked {
		s.seekLocked()
	}
	var out []Record
	var chunk []byte // bytes of cur.seg from chunkOff
	var chunkOff int64
	ahead := int64(min(max(limit, 4), 64)) << 10
	for len(out) < limit && s.cur.seg != nil {
		g := s.cur.seg
		if s.cur.off >= g.size {
			if !s.nextSegmentLocked() {
				break
			}
			chunk = nil
			continue
		}
		// Records are decoded from chunks read ahead, a few KiB per
		// record asked for.
		rel, left := s.cur.off-chunkOff, g.size-s.cur.off
		if chunk == nil || rel < 0 || rel+4 > int64(len(chunk)) {
			c, err := s.readLocked(g, min(left, ahead))
			if err != nil {
				return out, err
			}
			if chunk, chunkOff, rel = c, s.cur.off, 0; chunk == nil {
				continue // damaged
			}
		}
		n, err := recordLen(chunk[rel:], left)
		if err != nil {
			s.corruptLocked(g)
			chunk = nil
			continue
		}
		if rel+n > int64(len(chunk)) {
			c, err := s.readLocked(g, max(n, min(left, ahead)))
			if err != nil {
				return out, err
			}
			if chunk, chunkOff, rel = c, s.cur.off, 0; chunk == nil {
				continue
			}
		}
		r, err := decodeRecord(chunk[rel : rel+n])
		if err != nil || r.Seq <= s.cur.prev {
			s.corruptLocked(g)
			chunk = nil
			continue
		}
		if r.Seq > s.synced {
			break
		}
		s.cur.off += n
		s.cur.prev = r.Seq
		if r.Seq <= s.cur.after {
			continue // seeking past acknowledged records
		}
		s.cur.after = r.Seq
		out = append(out, r)
	}
	return out, nil
}

// readLocked reads n bytes of g at the cursor, opening g if needed. It
// returns nil bytes, and drops the rest of g, when the file is shorter
// than written.
func (s *Spool) readLocked(g *segment, n int64) ([]byte, error) {
	if g.f == nil {
		f, err := s.fs.OpenFile(g.name, os.O_RDONLY, 0)
		if err != nil {
			err = fmt.Errorf("spool: open segment %s: %w", g.name, err)
			s.setErrLocked(err)
			return nil, err
		}
		g.f = f
	}
	b := make([]byte, n)
	if k, err := g.f.ReadAt(b, s.cur.off); k < len(b) {
		if err == nil || errors.Is(err, io.EOF) {
			s.corruptLocked(g)
			return nil, nil
		}
		err = fmt.Errorf("spool: read segment %s: %w", g.name, err)
		s.setErrLocked(err)
		return nil, err
	}
	return b, nil
}

// seekLocked points the cursor at the first record after the
// acknowledged seq.
func (s *Spool) seekLocked() {
	s.cur = cursor{after: s.acked}
	for _, g := range s.segs {
		if g.last() > s.acked {
			s.cur.seg, s.cur.off = g, segHeaderSize
			return
		}
	}
}

// nextSegmentLocked moves the cursor to the start of the segment after
// its own, closing the reader of the one it leaves.
func (s *Spool) nextSegmentLocked() bool {
	for i, g := range s.segs[:len(s.segs)-1] {
		if g == s.cur.seg {
			g.close()
			s.cur.seg, s.cur.off, s.cur.prev = s.segs[i+1], segHeaderSize, 0
			return true
		}
	}
	return false
}

// corruptLocked drops the records of g from the cursor on: damaged after
// Open checked them (the storage failed, or someone wrote to the file).
// For the active segment the next Append overwrites the damage.
func (s *Spool) corruptLocked(g *segment) {
	lost := g.cut(s.cur.after)
	s.st.Corrupt += lost
	s.stored -= lost
	s.bytes -= g.size - s.cur.off
	err := fmt.Errorf("spool: segment %s is damaged at offset %d; dropped %d records after seq %d", g.name, s.cur.off, lost, s.cur.after)
	s.setErrLocked(err)
	s.log.Error("spool: damaged segment", "err", err)
	g.dirtyTail = max(g.dirtyTail, g.size-s.cur.off)
	g.size = s.cur.off
}

// Ack acknowledges every record up to seq: the broker has them. Old
// segments acknowledged in full are deleted; the acknowledged seq is
// persisted at the next group commit, so after a crash a few records
// may be sent again (at least once). Acknowledging less than before does
// nothing.
func (s *Spool) Ack(seq uint64) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("spool: ack seq %d in %s: %w", seq, s.dir, ErrClosed)
	}
	if seq > s.lastSeq {
		s.mu.Unlock()
		return fmt.Errorf("spool: ack of seq %d beyond the last appended %d; ack the seqs Next returned", seq, s.lastSeq)
	}
	if seq <= s.acked {
		s.mu.Unlock()
		return nil
	}
	for _, g := range s.segs {
		s.st.Acked += g.countIn(s.acked, seq)
	}
	s.acked = seq
	s.ackDirty = true
	s.dropAckedLocked()
	s.mu.Unlock()
	if s.o.SyncEachRecord {
		return s.Sync()
	}
	s.kick()
	return nil
}

// LastSeq returns the last seq handed out by Append.
func (s *Spool) LastSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastSeq
}

// Stats returns the spool's figures now.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	for _, g := range s.segs {
		st.Depth += int(g.countIn(s.acked, ^uint64(0)))
	}
	st.Bytes = s.bytes
	st.Segments = len(s.segs)
	st.LastSeq = s.lastSeq
	st.AckedSeq = s.acked
	st.Synced = s.synced
	st.Healthy = !s.appendFailing && !s.syncFailing
	return st
}

// Close makes everything durable (a last group commit) and closes the
// files. Waiters return ErrClosed.
func (s *Spool) Close() error {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.ackDirty = true // the last seq, for the next Open
	close(s.avail)
	s.avail = make(chan struct{})
	s.mu.Unlock()
	close(s.quit)
	<-s.done
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	err := s.syncHeld()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeFiles()
	return err
}

func (s *Spool) closeFiles() {
	for _, g := range s.segs {
		g.close()
	}
	if s.stateF != nil {
		s.stateF.Close()
		s.stateF = nil
	}
}
