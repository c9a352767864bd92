package gemm

import "github.com/fruitcam/fruitcam/internal/parallel"

// minWork is the number of multiply-adds below which another thread costs
// more than it saves: starting and joining a goroutine takes a few
// microseconds, in which the SIMD kernels do about this much work. Tests
// set it to 1 to run the threaded paths on small matrices.
var minWork = 1 << 18

// Threads returns how many of up to threads goroutines a GEMM of
// m·n·k multiply-adds should use: one per minWork, at least one.
func Threads(threads, m, n, k int) int {
	return max(1, min(threads, m*n*k/minWork))
}

// split runs a GEMM of m rows, the given number of channel blocks and
// work multiply-adds on up to threads goroutines: over rows when there
// are enough of them to keep every thread busy, otherwise over channel
// blocks (a fully connected layer has a single row per image). Both GEMMs
// use this one rule.
func split(threads, m, blocks, work int, byRows, byBlocks func(lo, hi int)) {
	threads = max(1, min(threads, work/minWork))
	if threads <= 1 || m >= 4*threads || blocks < 2*threads {
		parallel.For(threads, m, byRows)
	} else {
		parallel.For(threads, blocks, byBlocks)
	}
}
