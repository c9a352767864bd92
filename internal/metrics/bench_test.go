package metrics

import (
	"io"
	"testing"
)

func BenchmarkCounterInc(b *testing.B) {
	c := NewRegistry().Counter("c_total", "c")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Inc()
		}
	})
}

func BenchmarkHistogramObserve(b *testing.B) {
	h := NewRegistry().Histogram("h_seconds", "h", inferenceBuckets)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		v := 0.0
		for pb.Next() {
			h.Observe(v)
			v += 0.0001
		}
	})
}

// BenchmarkScrape writes the agent's figures with two cameras, what one
// /metrics request costs the board.
func BenchmarkScrape(b *testing.B) {
	r := goldenRegistry()
	b.ReportAllocs()
	for b.Loop() {
		r.WriteTo(io.Discard)
	}
}
