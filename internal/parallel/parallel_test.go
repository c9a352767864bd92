package parallel

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

func TestForCoversEveryIndexOnce(t *testing.T) {
	for _, threads := range []int{0, 1, 2, 3, 8} {
		for _, n := range []int{0, 1, 2, 5, 7, 100} {
			hits := make([]int32, n)
			For(threads, n, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&hits[i], 1)
				}
			})
			for i, h := range hits {
				if h != 1 {
					t.Errorf("threads=%d n=%d: index %d visited %d times, want 1", threads, n, i, h)
				}
			}
		}
	}
}

// BenchmarkFor measures the cost of splitting a tiny loop over two
// goroutines: what an operator pays for threads.
func BenchmarkFor(b *testing.B) {
	var sink atomic.Int64
	fn := func(lo, hi int) { sink.Add(int64(hi - lo)) }
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			for b.Loop() {
				For(threads, 2, fn)
			}
		})
	}
}

// TestForDoesNotAllocate: warm, For allocates nothing.
func TestForDoesNotAllocate(t *testing.T) {
	fn := func(lo, hi int) {}
	For(2, 2, fn)
	if n := testing.AllocsPerRun(100, func() { For(2, 100, fn) }); n != 0 {
		t.Errorf("%v allocations per For", n)
	}
}

// TestForConcurrentCallers: For from many goroutines at once (several
// interpreters) still covers every index of every call exactly once.
func TestForConcurrentCallers(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for iter := range 200 {
				n := 1 + (g*7+iter)%50
				hits := make([]int32, n)
				For(1+iter%4, n, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						atomic.AddInt32(&hits[i], 1)
					}
				})
				for i, h := range hits {
					if h != 1 {
						t.Errorf("caller %d iteration %d: index %d visited %d times", g, iter, i, h)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}
