package spool

import (
	"testing"
	"time"
)

// BenchmarkAppend appends results of 600 bytes to per-camera topics, with
// the default group commit and with an fsync per record. It reports
// appends per second, bytes on disk per result and fsyncs per result.
func BenchmarkAppend(b *testing.B) {
	for _, c := range []struct {
		name string
		o    Options
	}{
		{"sync=200ms", Options{}},
		{"sync=each", Options{SyncEachRecord: true}},
	} {
		b.Run(c.name, func(b *testing.B) {
			fsys := newFaultFS()
			c.o.FS = fsys
			s, err := Open(b.TempDir(), c.o)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			p := payload(1, 600)
			b.SetBytes(int64(len(p)))
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				if _, err := s.Append(topic, p); err != nil {
					b.Fatal(err)
				}
			}
			elapsed := time.Since(start)
			st := s.Stats()
			_, fsyncs, _ := fsys.counts()
			b.ReportMetric(float64(st.Appended)/elapsed.Seconds(), "appends/s")
			b.ReportMetric(float64(st.Bytes)/float64(s.stored), "disk-B/result")
			b.ReportMetric(float64(fsyncs)/float64(st.Appended), "fsyncs/result")
		})
	}
}

// BenchmarkDeliver appends and consumes at once, as the agent does: the
// consumer reads in batches and acknowledges each batch.
func BenchmarkDeliver(b *testing.B) {
	s, err := Open(b.TempDir(), Options{SyncEvery: time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	p := payload(1, 600)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if _, err := s.Append(topic, p); err != nil {
			b.Fatal(err)
		}
		if s.LastSeq()%64 == 0 {
			s.Sync()
			recs, err := s.Next(64)
			if err != nil || len(recs) == 0 {
				b.Fatalf("next: %d records, %v", len(recs), err)
			}
			if err := s.Ack(recs[len(recs)-1].Seq); err != nil {
				b.Fatal(err)
			}
		}
	}
}
