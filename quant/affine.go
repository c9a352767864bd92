package quant

import "math"

// AffineQuantize quantises a real value as TFLite's QUANTIZE does from
// float (reference_ops::AffineQuantize; the default optimized kernel is the
// same on x86-64): round(v / scale) with the division in float64 and
// rounding half away from zero, plus zeroPoint, clamped to [qmin, qmax].
// NaN maps to qmin, as the x86-64 conversion in the C library makes it;
// values beyond the int32 range saturate.
func AffineQuantize(v float32, scale float64, zeroPoint, qmin, qmax int32) int32 {
	r := math.Round(float64(v) / scale)
	switch {
	case r != r:
		return qmin
	case r >= float64(qmax-zeroPoint):
		return qmax
	case r <= float64(qmin-zeroPoint):
		return qmin
	}
	return int32(r) + zeroPoint
}

// Dequantize returns scale * (q - zeroPoint) as TFLite's DEQUANTIZE does: the
// product is formed in float64 and rounded once to float32.
func Dequantize(q, zeroPoint int32, scale float64) float32 {
	return float32(scale * float64(q-zeroPoint))
}

// FixedRescale moves integer codes from one scale and zero point to another
// with a fixed-point multiplier, as TFLite's QUANTIZE does between quantised
// types (reference_ops::Requantize):
//
//	out = clamp(MultiplyByQuantizedMultiplier(q - inZP, M) + outZP)
//
// with M = inScale/outScale computed in float64.
type FixedRescale struct {
	Mult        int32
	Shift       int
	InZP, OutZP int32
	QMin, QMax  int32
}

// NewFixedRescale sets up the rescale from (inScale, inZP) to (outScale,
// outZP), clamped to [qmin, qmax].
func NewFixedRescale(inScale float32, inZP int32, outScale float32, outZP int32, qmin, qmax int32) FixedRescale {
	m, s := QuantizeMultiplier(float64(inScale) / float64(outScale))
	return FixedRescale{Mult: m, Shift: s, InZP: inZP, OutZP: outZP, QMin: qmin, QMax: qmax}
}

// Apply rescales one code.
func (r *FixedRescale) Apply(q int32) int32 {
	return Clamp(MultiplyByQuantizedMultiplier(q-r.InZP, r.Mult, r.Shift)+r.OutZP, r.QMin, r.QMax)
}

// Float16ToFloat32 converts an IEEE 754 binary16 value (as stored in
// float16 tensors) to float32 exactly.
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // infinity or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
	case frac == 0: // signed zero
		return math.Float32frombits(sign)
	}
	// Subnormal half: frac * 2^-24, exact in float32.
	v := float32(frac) * (1.0 / (1 << 24))
	if sign != 0 {
		v = -v
	}
	return v
}
