package native

import "math"

// clampKernelSIMD selects the SIMD clamp where the CPU has one, and
// floatKernelSIMD the other float element-wise kernels; tests clear them
// to compare both paths.
var clampKernelSIMD, floatKernelSIMD = true, true

// clampRow sets d[i] to min(max(d[i], lo), hi) (Go's min and max: NaN
// stays NaN, max(−0, +0) is +0), the clamp of a fused activation. Bounds
// that are NaN, a lower bound of −0 or an upper bound of zero (no
// activation has them) take the Go loop only.
func clampRow(d []float32, lo, hi float32) {
	if !math.IsNaN(float64(lo)) && !math.IsNaN(float64(hi)) && !(lo == 0 && math.Signbit(float64(lo))) && hi != 0 {
		d = d[clampSIMD(d, lo, hi):]
	}
	for i, v := range d {
		d[i] = min(max(v, lo), hi)
	}
}
