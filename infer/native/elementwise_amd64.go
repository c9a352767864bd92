package native

import "unsafe"

//go:noescape
func vecRowsAVX2(op int, d, x, y *float32, n, rows int, lo, hi float32)

//go:noescape
func leakyAVX2(d, x *float32, n int, alpha float32)

// floatSIMDWidth is the number of float32 lanes the SIMD element-wise
// kernels take at a time, 0 without them.
func floatSIMDWidth() int {
	if opsHaveAVX2 {
		return 8
	}
	return 0
}

// vecRowsSIMD computes d[r·n+i] = min(max(x[r·n+i] op y[i], lo), hi) for
// every row of n = len(y) values with AVX2 when the CPU has it, n is a
// multiple of 8 and the bounds suit the SIMD clamp (simdClampBounds); it
// reports whether it did.
func vecRowsSIMD(op floatOp, d, x, y []float32, lo, hi float32) bool {
	n := len(y)
	if !opsHaveAVX2 || !floatKernelSIMD || n == 0 || n%8 != 0 || len(d) == 0 || len(d)%n != 0 || len(x) < len(d) || !simdClampBounds(lo, hi) {
		return false
	}
	vecRowsAVX2(int(op), unsafe.SliceData(d), unsafe.SliceData(x), unsafe.SliceData(y), n, len(d)/n, lo, hi)
	return true
}

// leakySIMD computes a multiple of 8 leading values of the float
// LEAKY_RELU with AVX2 when the CPU has it, and returns how many.
func leakySIMD(d, x []float32, alpha float32) int {
	n := min(len(d), len(x)) &^ 7
	if !opsHaveAVX2 || !floatKernelSIMD || n == 0 {
		return 0
	}
	leakyAVX2(unsafe.SliceData(d), unsafe.SliceData(x), n, alpha)
	return n
}
