package native

import "unsafe"

//go:noescape
func clampAVX2(d *float32, n int, lo, hi float32)

// clampSIMD clamps a multiple of 8 leading values of d as clampRow does,
// with AVX2 where the CPU has it, and returns how many it did.
func clampSIMD(d []float32, lo, hi float32) int {
	n := len(d) &^ 7
	if n == 0 || !opsHaveAVX2 || !clampKernelSIMD {
		return 0
	}
	clampAVX2((*float32)(unsafe.Pointer(unsafe.SliceData(d))), n, lo, hi)
	return n
}
