package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"
)

const topic = "fruitcam/dev1/cam0/result"

// payload is seq's test payload: its seq, then filler up to size bytes.
func payload(seq uint64, size int) []byte {
	b := fmt.Appendf(nil, `{"seq":%d,"pad":"`, seq)
	for len(b) < size-2 {
		b = append(b, 'a'+byte(len(b)%26))
	}
	return append(b, `"}`...)
}

func mustOpen(t testing.TB, dir string, o Options) *Spool {
	t.Helper()
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func appendN(t testing.TB, s *Spool, n, size int) []uint64 {
	t.Helper()
	var seqs []uint64
	for range n {
		seq, err := s.AppendFunc(topic, func(seq uint64) ([]byte, error) { return payload(seq, size), nil })
		if err != nil {
			t.Fatalf("append: %v", err)
		}
		seqs = append(seqs, seq)
	}
	return seqs
}

// drain syncs and returns every unacknowledged record, checking each
// payload is the one appended for its seq.
func drain(t testing.TB, s *Spool, size int) []uint64 {
	t.Helper()
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	recs, err := s.Next(1 << 30)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, r := range recs {
		if want := payload(r.Seq, size); r.Topic != topic || !bytes.Equal(r.Payload, want) {
			t.Fatalf("seq %d: topic %q payload %q, want %q %q", r.Seq, r.Topic, r.Payload, topic, want)
		}
		seqs = append(seqs, r.Seq)
	}
	return seqs
}

func seqRange(first, last uint64) []uint64 {
	var s []uint64
	for q := first; q <= last; q++ {
		s = append(s, q)
	}
	return s
}

// copyDir copies the files of dir into a new directory: the disk as a
// crash would leave it, since the spool has written (and here fsynced)
// everything it reports.
func copyDir(t testing.TB, dir string) string {
	t.Helper()
	dst := t.TempDir()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(m)
	return m
}

func TestAppendNextAck(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{SyncEachRecord: true})
	if got := appendN(t, s, 5, 100); !equalSeqs(got, seqRange(1, 5)) {
		t.Fatalf("seqs %v, want 1..5", got)
	}
	for _, c := range []struct {
		limit int
		ack   uint64
		want  []uint64
	}{
		{2, 0, []uint64{1, 2}},
		{2, 0, []uint64{1, 2}}, // not acknowledged: the same again
		{3, 1, []uint64{1, 2, 3}},
		{10, 3, []uint64{2, 3, 4, 5}},
		{10, 5, []uint64{4, 5}},
		{10, 5, nil},
	} {
		recs, err := s.Next(c.limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []uint64
		for _, r := range recs {
			got = append(got, r.Seq)
		}
		if !equalSeqs(got, c.want) {
			t.Errorf("Next(%d) = %v, want %v", c.limit, got, c.want)
		}
		if err := s.Ack(c.ack); err != nil {
			t.Fatal(err)
		}
	}
	st := s.Stats()
	if st.Appended != 5 || st.Acked != 5 || st.Depth != 0 || st.LastSeq != 5 || st.AckedSeq != 5 || !st.Healthy {
		t.Errorf("stats %+v", st)
	}
	if err := s.Ack(6); err == nil {
		t.Error("ack beyond the last seq accepted")
	}
	if _, err := s.Append("", nil); err == nil {
		t.Error("empty topic accepted")
	}
	if _, err := s.Append(topic, make([]byte, DefaultSegmentBytes)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("record larger than a segment: %v, want ErrTooLarge", err)
	}
	if got := s.Stats().Failed; got != 2 {
		t.Errorf("failed %d, want 2", got)
	}
}

// Records larger than the read-ahead, and many per Next.
func TestBigRecords(t *testing.T) {
	for _, size := range []int{100, 70 << 10, 300 << 10} {
		s := mustOpen(t, t.TempDir(), Options{SegmentBytes: 1 << 20, MaxBytes: 8 << 20, SyncEachRecord: true})
		appendN(t, s, 9, size)
		for _, limit := range []int{1, 4, 100} {
			recs, err := s.Next(limit)
			if err != nil {
				t.Fatal(err)
			}
			if want := min(limit, 9); len(recs) != want {
				t.Errorf("size %d: Next(%d) returned %d records, want %d", size, limit, len(recs), want)
			}
			for i, r := range recs {
				if r.Seq != uint64(i+1) || !bytes.Equal(r.Payload, payload(r.Seq, size)) {
					t.Errorf("size %d: record %d has seq %d and %d bytes", size, i, r.Seq, len(r.Payload))
				}
			}
		}
		if st := s.Stats(); st.Corrupt != 0 {
			t.Errorf("size %d: %d corrupt", size, st.Corrupt)
		}
	}
}

func TestOptionsRejected(t *testing.T) {
	for _, o := range []Options{
		{MaxBytes: -1},
		{SyncEvery: -time.Second},
		{MaxBytes: 1 << 20, SegmentBytes: 600 << 10},
		{SegmentBytes: 10},
	} {
		if s, err := Open(t.TempDir(), o); err == nil {
			s.Close()
			t.Errorf("%+v accepted", o)
		}
	}
}

func TestRestartContinuity(t *testing.T) {
	for _, c := range []struct {
		name  string
		o     Options
		close bool // a clean Close, else abandoned as at a crash
	}{
		{"close", Options{SegmentBytes: 2048, MaxBytes: 1 << 20}, true},
		{"crash each record", Options{SegmentBytes: 2048, MaxBytes: 1 << 20, SyncEachRecord: true}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir, c.o)
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, s, 40, 200)
			if got := drain(t, s, 200); !equalSeqs(got, seqRange(1, 40)) {
				t.Fatalf("drained %v", got)
			}
			if err := s.Ack(25); err != nil {
				t.Fatal(err)
			}
			if c.close {
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			} else {
				dir = copyDir(t, dir)
				defer s.Close()
			}
			s2 := mustOpen(t, dir, c.o)
			if got := drain(t, s2, 200); !equalSeqs(got, seqRange(26, 40)) {
				t.Errorf("after restart got %v, want 26..40", got)
			}
			if got := appendN(t, s2, 1, 200); got[0] != 41 {
				t.Errorf("next seq %d, want 41", got[0])
			}
			if st := s2.Stats(); st.Depth != 16 || st.AckedSeq != 25 {
				t.Errorf("depth %d acked %d, want 16 and 25", st.Depth, st.AckedSeq)
			}
		})
	}
}

// A restart after everything was acknowledged and old segments deleted
// continues the seqs, also without a state file.
func TestSeqSurvivesFullAck(t *testing.T) {
	dir := t.TempDir()
	o := Options{SegmentBytes: 1024, MaxBytes: 1 << 20, SyncEachRecord: true}
	s := mustOpen(t, dir, o)
	appendN(t, s, 30, 100)
	drain(t, s, 100)
	if err := s.Ack(30); err != nil {
		t.Fatal(err)
	}
	if n := len(segmentFiles(t, dir)); n != 1 {
		t.Errorf("%d segments after a full ack, want 1 (the active one)", n)
	}
	crashed := copyDir(t, dir)
	os.Remove(filepath.Join(crashed, stateName))
	s.Close()
	for _, d := range []string{dir, crashed} {
		s2 := mustOpen(t, d, o)
		if got := appendN(t, s2, 1, 100)[0]; got != 31 {
			t.Errorf("%s: next seq %d, want 31", d, got)
		}
		s2.Close()
	}
}

// The crash simulation: the last record of the last segment torn at every
// byte offset. Every complete record is kept and seqs continue.
func TestTornLastRecord(t *testing.T) {
	const dir = "/spool"
	fsys := newMemFS()
	o := Options{SegmentBytes: 4096, MaxBytes: 1 << 20, SyncEachRecord: true, FS: fsys}
	s := mustOpen(t, dir, o)
	appendN(t, s, 23, 300) // 3 segments, the last with 3 records
	s.Close()
	names, _ := fsys.ReadDir(dir)
	sort.Strings(names)
	if len(names) != 4 || names[3] != stateName {
		t.Fatalf("files %v, want 3 segments and the state", names)
	}
	lastName := filepath.Join(dir, names[2])
	last := fsys.bytes(lastName)
	recLen := int(recordSize(topic, payload(23, 300)))
	start := len(last) - recLen
	for cut := start; cut < len(last); cut++ {
		crashed := fsys.clone()
		crashed.Remove(filepath.Join(dir, stateName)) // as if never acknowledged nor closed
		crashed.put(lastName, last[:cut])
		o.FS = crashed
		s := mustOpen(t, dir, o)
		if got := drain(t, s, 300); !equalSeqs(got, seqRange(1, 22)) {
			t.Fatalf("cut at %d: got %v, want 1..22", cut, got)
		}
		st := s.Stats()
		if st.TornBytes != int64(cut-start) {
			t.Errorf("cut at %d: torn bytes %d, want %d", cut, st.TornBytes, cut-start)
		}
		// The torn record never reached anyone (it was not durable), so
		// its seq is free again.
		if got := appendN(t, s, 1, 300)[0]; got != 23 {
			t.Errorf("cut at %d: next seq %d, want 23", cut, got)
		}
		s.Close()
		s = mustOpen(t, dir, o)
		if got := drain(t, s, 300); !equalSeqs(got, seqRange(1, 23)) {
			t.Errorf("cut at %d, reopened: got %v, want 1..23", cut, got)
		}
		s.Close()
	}
}

// A segment created at a crash before its header was written, and garbage
// after the last record, are cleaned up.
func TestRecoverDebris(t *testing.T) {
	dir := t.TempDir()
	o := Options{SegmentBytes: 4096, MaxBytes: 1 << 20, SyncEachRecord: true}
	s := mustOpen(t, dir, o)
	appendN(t, s, 10, 300)
	s.Close()
	segs := segmentFiles(t, dir)
	f, err := os.OpenFile(segs[len(segs)-1], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 4096)) // zeros: a file extended but not written
	f.Close()
	empty := filepath.Join(dir, segmentName(11))
	os.WriteFile(empty, []byte("fcsp"), 0o640)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not ours"), 0o640)

	s = mustOpen(t, dir, o)
	if got := drain(t, s, 300); !equalSeqs(got, seqRange(1, 10)) {
		t.Errorf("got %v, want 1..10", got)
	}
	if _, err := os.Stat(empty); !os.IsNotExist(err) {
		t.Errorf("headerless segment still there: %v", err)
	}
	if got := appendN(t, s, 1, 300)[0]; got != 11 {
		t.Errorf("next seq %d, want 11", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Errorf("a foreign file was touched: %v", err)
	}
}

func TestEviction(t *testing.T) {
	for _, c := range []struct {
		name      string
		o         Options
		n         int
		ack       uint64 // acknowledged before the appends that overflow
		wantFirst uint64 // oldest seq left
		wantEv    uint64
	}{
		// 4 records a segment (16+4*245 = 996 <= 1024), 4 segments fit.
		{"bytes", Options{MaxBytes: 4096, SegmentBytes: 1024}, 30, 0, 17, 16},
		{"bytes, some acknowledged", Options{MaxBytes: 4096, SegmentBytes: 1024}, 30, 6, 17, 10},
		{"records", Options{MaxRecords: 8, MaxBytes: 1 << 20}, 30, 0, 23, 22},
		// 1-12 evicted before the ack of 20, then 21-22.
		{"records, acknowledged later", Options{MaxRecords: 8, MaxBytes: 1 << 20}, 30, 20, 23, 14},
		{"no overflow", Options{MaxBytes: 1 << 20}, 30, 0, 1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.o.SyncEachRecord = true
			var evs []Eviction
			c.o.OnEvict = func(e Eviction) { evs = append(evs, e) }
			s := mustOpen(t, t.TempDir(), c.o)
			for i := 1; i <= c.n; i++ {
				appendN(t, s, 1, 200)
				if uint64(i) == c.ack {
					if err := s.Ack(c.ack); err != nil {
						t.Fatal(err)
					}
				}
				st := s.Stats()
				if st.Bytes > c.o.MaxBytes || (c.o.MaxRecords > 0 && int(s.stored) > c.o.MaxRecords) {
					t.Fatalf("after %d appends: %d bytes, %d records stored, over the bounds", i, st.Bytes, s.stored)
				}
			}
			st := s.Stats()
			if st.Evicted != c.wantEv {
				t.Errorf("evicted %d, want %d", st.Evicted, c.wantEv)
			}
			// Evicted, acknowledged and left over: each seq exactly once,
			// evictions oldest first.
			seen := make([]int, c.n+1)
			var sum, prev uint64
			for _, e := range evs {
				if e.First <= prev || e.Last < e.First || uint64(e.Records) != e.Last-e.First+1 {
					t.Errorf("eviction %+v after seq %d: want whole ranges in order", e, prev)
				}
				for q := e.First; q <= e.Last; q++ {
					seen[q]++
				}
				prev = e.Last
				sum += uint64(e.Records)
			}
			if sum != st.Evicted {
				t.Errorf("callbacks report %d evicted, stats %d", sum, st.Evicted)
			}
			got := drain(t, s, 200)
			if want := seqRange(max(c.wantFirst, c.ack+1), uint64(c.n)); !equalSeqs(got, want) {
				t.Errorf("left %v, want %v", got, want)
			}
			for _, q := range got {
				seen[q]++
			}
			for q := 1; q <= c.n; q++ {
				if uint64(q) <= c.ack && seen[q] == 0 {
					seen[q]++
				}
				if seen[q] != 1 {
					t.Errorf("seq %d evicted or left %d times, want once", q, seen[q])
				}
			}
			if st.Depth != len(got) || st.Bytes > c.o.MaxBytes {
				t.Errorf("depth %d bytes %d; want %d records within %d", st.Depth, st.Bytes, len(got), c.o.MaxBytes)
			}
		})
	}
}

// A full disk: appends fail with ENOSPC (counted), everything stored
// stays readable and consistent, and appends work again once there is
// space.
func TestDiskFull(t *testing.T) {
	rec := recordSize(topic, payload(1, 200))
	for _, c := range []struct {
		name   string
		budget int64 // bytes writable after the first 10 records
		fails  int
	}{
		{"mid record", rec / 2, 3},
		{"mid header", 5, 3},
		{"at a rotation", 2 * rec, 4}, // 12 records fill a segment; the next needs a header
		{"nothing", 0, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			fsys := newFaultFS()
			o := Options{MaxBytes: 1 << 20, SegmentBytes: 16 + 12*rec, FS: fsys, SyncEachRecord: true}
			s := mustOpen(t, dir, o)
			appendN(t, s, 10, 200)
			fsys.setBudget(c.budget)
			var stored []uint64
			stored = append(stored, seqRange(1, 10)...)
			failed := 0
			for range 12 {
				seq, err := s.AppendFunc(topic, func(seq uint64) ([]byte, error) { return payload(seq, 200), nil })
				if err != nil {
					if !errors.Is(err, syscall.ENOSPC) {
						t.Fatalf("error %v, want ENOSPC", err)
					}
					failed++
					if failed == c.fails {
						break
					}
					continue
				}
				stored = append(stored, seq)
			}
			st := s.Stats()
			if st.Failed != uint64(failed) || st.Healthy || !errors.Is(st.LastError, syscall.ENOSPC) {
				t.Errorf("stats failed %d healthy %v last error %v; want %d, false, ENOSPC", st.Failed, st.Healthy, st.LastError, failed)
			}
			if got := drain(t, s, 200); !equalSeqs(got, stored) {
				t.Errorf("while full: stored %v, want %v", got, stored)
			}
			fsys.setBudget(-1)
			seq := appendN(t, s, 1, 200)[0]
			stored = append(stored, seq)
			if want := uint64(10 + len(stored) - 10 + failed); seq != want {
				t.Errorf("seq after recovery %d, want %d (failed seqs are used up)", seq, want)
			}
			if st := s.Stats(); !st.Healthy {
				t.Errorf("not healthy after a successful append: %v", st.LastError)
			}
			s.Close()
			s = mustOpen(t, dir, Options{MaxBytes: 1 << 20, SegmentBytes: 16 + 12*rec})
			if got := drain(t, s, 200); !equalSeqs(got, stored) {
				t.Errorf("reopened: %v, want %v", got, stored)
			}
			if st := s.Stats(); st.TornBytes != 0 {
				t.Errorf("reopened: %d torn bytes; failed writes should have been cut off", st.TornBytes)
			}
		})
	}
}

// fsync failures: records are not shown to the consumer until a sync
// succeeds; the error is counted and reported.
func TestSyncFailure(t *testing.T) {
	fsys := newFaultFS()
	s := mustOpen(t, t.TempDir(), Options{FS: fsys, Clock: newFakeClock()}) // no group commit meanwhile
	appendN(t, s, 3, 100)
	fsys.setSyncErr(syscall.EIO)
	if err := s.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("sync: %v, want EIO", err)
	}
	if recs, _ := s.Next(10); len(recs) != 0 {
		t.Errorf("%d records visible before they are durable", len(recs))
	}
	if st := s.Stats(); st.Healthy || st.SyncErrors != 1 {
		t.Errorf("healthy %v sync errors %d; want false, 1", st.Healthy, st.SyncErrors)
	}
	fsys.setSyncErr(nil)
	if got := drain(t, s, 100); !equalSeqs(got, seqRange(1, 3)) {
		t.Errorf("got %v, want 1..3", got)
	}
	if !s.Stats().Healthy {
		t.Error("not healthy after a successful sync")
	}
}

// Group commit: records become durable and visible at most SyncEvery
// after the previous fsync, all together.
func TestGroupCommit(t *testing.T) {
	clock := newFakeClock()
	fsys := newFaultFS()
	s := mustOpen(t, t.TempDir(), Options{Clock: clock, FS: fsys, SyncEvery: 200 * time.Millisecond})
	_, before, _ := fsys.counts()
	appendN(t, s, 5, 100)
	clock.waitForWaiter(t) // the flusher waits for the period to end
	appendN(t, s, 5, 100)
	if recs, _ := s.Next(100); len(recs) != 0 {
		t.Fatalf("%d records visible before the group commit", len(recs))
	}
	clock.Advance(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	recs, err := s.Next(100)
	if err != nil || len(recs) != 10 {
		t.Fatalf("after the commit: %d records, %v; want 10", len(recs), err)
	}
	if _, after, _ := fsys.counts(); after-before != 1 {
		t.Errorf("%d fsyncs for 10 records, want 1", after-before)
	}
}

func TestWait(t *testing.T) {
	s, err := Open(t.TempDir(), Options{SyncEachRecord: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	if err := s.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("empty: %v, want a deadline", err)
	}
	cancel()
	woke := make(chan error)
	go func() { woke <- s.Wait(context.Background()) }()
	appendN(t, s, 1, 10)
	if err := <-woke; err != nil {
		t.Errorf("after an append: %v", err)
	}
	go func() { woke <- s.Wait(context.Background()) }()
	if err := <-woke; err != nil {
		t.Errorf("unacknowledged record: %v, want nil at once", err)
	}
	s.Ack(1)
	go func() { woke <- s.Wait(context.Background()) }()
	s.Close()
	if err := <-woke; !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
	if _, err := s.Append(topic, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("append after Close: %v", err)
	}
}

// Damage found while reading (after Open checked the files) drops the
// rest of that segment only.
func TestCorruptWhileRunning(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{SegmentBytes: 1024, MaxBytes: 1 << 20, SyncEachRecord: true})
	appendN(t, s, 10, 200) // segments of 4 records: 1-4, 5-8, 9-10
	segs := segmentFiles(t, dir)
	f, err := os.OpenFile(segs[0], os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{0xff}, segHeaderSize+2*recordSize(topic, payload(1, 200))+30) // inside record 3
	f.Close()
	if got := drain(t, s, 200); !equalSeqs(got, []uint64{1, 2, 5, 6, 7, 8, 9, 10}) {
		t.Errorf("got %v, want 1, 2, 5..10", got)
	}
	if st := s.Stats(); st.Corrupt != 2 || st.LastError == nil {
		t.Errorf("corrupt %d, last error %v; want 2 and an error", st.Corrupt, st.LastError)
	}
}

// Acknowledgements are persisted by the group commit: one made since
// the last commit is lost at a crash, and its records are sent again.
func TestAckDurability(t *testing.T) {
	const dir = "/spool"
	clock := newFakeClock()
	fsys := newMemFS()
	o := Options{Clock: clock, FS: fsys, SyncEvery: 200 * time.Millisecond}
	s := mustOpen(t, dir, o)
	appendN(t, s, 10, 100)
	drain(t, s, 100)
	s.Ack(4)
	s.Sync()
	s.Ack(8)
	reopen := func() []uint64 {
		o := o
		o.FS = fsys.clone()
		o.SyncEachRecord = true
		s := mustOpen(t, dir, o)
		defer s.Close()
		return drain(t, s, 100)
	}
	if got := reopen(); !equalSeqs(got, seqRange(5, 10)) {
		t.Errorf("crash before the commit: %v, want 5..10 again", got)
	}
	clock.waitForWaiter(t)
	clock.Advance(200 * time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if st, ok := decodeState(fsys.bytes(dir + "/" + stateName)); ok && st.acked == 8 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("ack of 8 not persisted within 10 s of the commit")
		}
		time.Sleep(time.Millisecond)
	}
	if got := reopen(); !equalSeqs(got, seqRange(9, 10)) {
		t.Errorf("crash after the commit: %v, want 9..10", got)
	}
}
