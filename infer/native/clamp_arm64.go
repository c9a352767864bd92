package native

import "unsafe"

//go:noescape
func clampNEON(d *float32, n int, lo, hi float32)

// clampSIMD clamps a multiple of 4 leading values of d as clampRow does,
// with NEON, and returns how many it did.
func clampSIMD(d []float32, lo, hi float32) int {
	n := len(d) &^ 3
	if n == 0 || !clampKernelSIMD {
		return 0
	}
	clampNEON(unsafe.SliceData(d), n, lo, hi)
	return n
}
