package native

import "math"

// clampKernelSIMD selects the SIMD clamp where the CPU has one, and
// floatKernelSIMD the other float element-wise kernels; tests clear them
// to compare both paths.
var clampKernelSIMD, floatKernelSIMD = true, true

// clampRow sets d[i] to min(max(d[i], lo), hi) (Go's min and max: NaN
// stays NaN, max(−0, +0) is +0), the clamp of a fused activation. Bounds
// the SIMD kernels do not take (simdClampBounds) take the Go loop only.
func clampRow(d []float32, lo, hi float32) {
	if simdClampBounds(lo, hi) {
		d = d[clampSIMD(d, lo, hi):]
	}
	for i, v := range d {
		d[i] = min(max(v, lo), hi)
	}
}

// simdClampBounds reports whether the SIMD clamps (clampSIMD and the one
// fused into vecRowsSIMD) reproduce Go's min(max(v, lo), hi) for these
// bounds: neither NaN, lo not −0 and hi not zero. Every fused
// activation's bounds qualify. The AVX2 sequence needs the exclusions
// (see clamp_amd64.s); NEON's FMAX and FMIN are Go's max and min for all
// operands but keep the same rule, so both architectures take the same
// paths.
func simdClampBounds(lo, hi float32) bool {
	return !math.IsNaN(float64(lo)) && !math.IsNaN(float64(hi)) && !(lo == 0 && math.Signbit(float64(lo))) && hi != 0
}
