package native

import "unsafe"

//go:noescape
func vecRowsAVX2(op int, d, x, y *float32, n, rows int)

//go:noescape
func leakyAVX2(d, x *float32, n int, alpha float32)

// vecRowsSIMD computes d[r·n+i] = x[r·n+i] op y[i] for every row of
// n = len(y) values with AVX2 when the CPU has it and n is a multiple of
// 8; it reports whether it did.
func vecRowsSIMD(op floatOp, d, x, y []float32) bool {
	n := len(y)
	if !opsHaveAVX2 || !floatKernelSIMD || n == 0 || n%8 != 0 || len(d) == 0 || len(d)%n != 0 || len(x) < len(d) {
		return false
	}
	vecRowsAVX2(int(op), unsafe.SliceData(d), unsafe.SliceData(x), unsafe.SliceData(y), n, len(d)/n)
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
