package spool

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// One producer and one consumer at full speed, with rotation and, in one
// case, eviction: the consumer sees increasing seqs with intact payloads,
// and every seq when nothing is evicted.
func TestProducerConsumer(t *testing.T) {
	for _, c := range []struct {
		name  string
		o     Options
		n     uint64
		evict bool
	}{
		{"group commit", Options{SegmentBytes: 8 << 10, MaxBytes: 16 << 20, SyncEvery: time.Millisecond}, 2000, false},
		{"each record", Options{SegmentBytes: 8 << 10, MaxBytes: 16 << 20, SyncEachRecord: true}, 500, false},
		{"evicting", Options{SegmentBytes: 2 << 10, MaxBytes: 8 << 10, SyncEvery: time.Millisecond}, 2000, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := c.n
			s := mustOpen(t, t.TempDir(), c.o)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range n {
					if _, err := s.AppendFunc(topic, func(seq uint64) ([]byte, error) { return payload(seq, 150), nil }); err != nil {
						t.Errorf("append: %v", err)
						return
					}
				}
			}()
			var got []uint64
			var last uint64
			for last < n {
				if err := s.Wait(ctx); err != nil {
					t.Fatalf("wait after seq %d: %v", last, err)
				}
				recs, err := s.Next(50)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range recs {
					if r.Seq <= last || !bytes.Equal(r.Payload, payload(r.Seq, 150)) {
						t.Fatalf("seq %d after %d, payload %.30q", r.Seq, last, r.Payload)
					}
					last = r.Seq
					got = append(got, r.Seq)
				}
				if len(recs) > 0 {
					if err := s.Ack(last); err != nil {
						t.Fatal(err)
					}
				}
			}
			wg.Wait()
			st := s.Stats()
			if !c.evict && (uint64(len(got)) != n || st.Evicted != 0) {
				t.Errorf("received %d of %d, %d evicted", len(got), n, st.Evicted)
			}
			// Every record is acknowledged or evicted; some evicted ones
			// were received, read before the eviction and not yet acked.
			if st.Depth != 0 || st.Acked+st.Evicted != n || uint64(len(got))+st.Evicted < n {
				t.Errorf("received %d, depth %d, acked %d, evicted %d; want every one of %d acked or evicted", len(got), st.Depth, st.Acked, st.Evicted, n)
			}
		})
	}
}

// FuzzRecover: arbitrary segment and state files never make Open, Next,
// Append or Close panic, and what Open accepts reads back in order.
func FuzzRecover(f *testing.F) {
	seg := segmentBytes(4,
		Record{Seq: 4, Topic: topic, Payload: payload(4, 100)},
		Record{Seq: 5, Topic: topic, Payload: payload(5, 100)})
	f.Add(seg, state{gen: 1, acked: 4, last: 5}.encode())
	f.Add(seg[:len(seg)-9], []byte{})
	f.Add([]byte(segMagic+"\x01\x00\x00\x00\x00\x00\x00\x00"), state{gen: 7, acked: 1 << 63, last: 2}.encode())
	f.Add([]byte{}, []byte("fcak"))
	f.Fuzz(func(t *testing.T, segment, st []byte) {
		const dir = "/spool"
		base := uint64(4)
		if b, err := decodeSegmentHeader(segment); err == nil && b != 0 {
			base = b
		}
		fsys := newMemFS()
		fsys.put(filepath.Join(dir, segmentName(base)), segment)
		fsys.put(filepath.Join(dir, stateName), st)
		s, err := Open(dir, Options{SyncEachRecord: true, FS: fsys})
		if err != nil {
			return
		}
		defer s.Close()
		recs, err := s.Next(1000)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(recs); i++ {
			if recs[i].Seq <= recs[i-1].Seq {
				t.Fatalf("seq %d after %d", recs[i].Seq, recs[i-1].Seq)
			}
		}
		last := s.LastSeq()
		if last == 1<<64-1 {
			return // no seq left; Append refuses
		}
		seq, err := s.Append(topic, []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		if seq != last+1 {
			t.Fatalf("appended seq %d after last %d", seq, last)
		}
	})
}
