package native

import "unsafe"

//go:noescape
func vecRowsNEON(op int, d, x, y *float32, n, rows int, lo, hi float32)

//go:noescape
func leakyNEON(d, x *float32, n int, alpha float32)

// floatSIMDWidth is the number of float32 lanes the SIMD element-wise
// kernels take at a time: NEON's 4.
func floatSIMDWidth() int { return 4 }

// vecRowsSIMD computes d[r·n+i] = min(max(x[r·n+i] op y[i], lo), hi) for
// every row of n = len(y) values with NEON when n is a multiple of 4 (or
// there is one row: its tail of fewer than 4 values takes floatRow) and
// the bounds are those the amd64 kernel takes too (simdClampBounds); it
// reports whether it did.
func vecRowsSIMD(op floatOp, d, x, y []float32, lo, hi float32) bool {
	n := len(y)
	if !floatKernelSIMD || n < 4 || len(d) == 0 || len(d)%n != 0 || len(x) < len(d) || !simdClampBounds(lo, hi) {
		return false
	}
	rows := len(d) / n
	if n%4 == 0 {
		vecRowsNEON(int(op), unsafe.SliceData(d), unsafe.SliceData(x), unsafe.SliceData(y), n, rows, lo, hi)
		return true
	}
	if rows != 1 {
		return false
	}
	m := n &^ 3
	vecRowsNEON(int(op), unsafe.SliceData(d), unsafe.SliceData(x), unsafe.SliceData(y), m, 1, lo, hi)
	floatRow(op, d[m:n], x[m:n], y[m:n], 1, 1, lo, hi)
	return true
}

// leakySIMD computes a multiple of 4 leading values of the float
// LEAKY_RELU with NEON and returns how many.
func leakySIMD(d, x []float32, alpha float32) int {
	n := min(len(d), len(x)) &^ 3
	if !floatKernelSIMD || n == 0 {
		return 0
	}
	leakyNEON(unsafe.SliceData(d), unsafe.SliceData(x), n, alpha)
	return n
}
