package quant

import "math"

// Requantizer maps 8-bit values from one scale and zero point onto another
// in float arithmetic, exactly as TFLite's ConcatenationWithScaling
// (reference/concatenation.h) does for inputs whose parameters differ from
// the output's:
//
//	out = clamp(round(q·(s_in/s_out) − zp_in·(s_in/s_out)) + zp_out)
//
// with s_in/s_out computed as s_in·(1/s_out) in float.
type Requantizer struct {
	scale, bias float32
	zero        int32
	min, max    int32
}

// NewRequantizer maps (inScale, inZero) onto (outScale, outZero), clamping
// to [qmin, qmax].
func NewRequantizer(inScale float32, inZero int32, outScale float32, outZero int32, qmin, qmax int32) Requantizer {
	inv := 1 / outScale
	s := inScale * inv
	return Requantizer{scale: s, bias: float32(-inZero) * s, zero: outZero, min: qmin, max: qmax}
}

// Requantize maps one value.
func (r *Requantizer) Requantize(q int32) int32 {
	v := float32(float32(q)*r.scale) + r.bias
	return Clamp(int32(math.Round(float64(v)))+r.zero, r.min, r.max)
}
