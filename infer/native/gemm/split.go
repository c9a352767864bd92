package gemm

import "github.com/fruitcam/fruitcam/internal/parallel"

// split runs a GEMM of m rows and the given number of channel panels on up
// to threads goroutines: over rows when there are enough of them to keep
// every thread busy, otherwise over panels (a fully connected layer has a
// single row per image). Both GEMMs use this one rule.
func split(threads, m, panels int, byRows, byPanels func(lo, hi int)) {
	if threads <= 1 || m >= 4*threads || panels < 2*threads {
		parallel.For(threads, m, byRows)
	} else {
		parallel.For(threads, panels, byPanels)
	}
}
