package quant

import "fmt"

// MulParams are the fixed-point parameters of a quantised MUL (TFLite
// kernels/mul.cc Prepare, reference_ops::MulElementwise): the product of
// the offset inputs is scaled by s1·s2/sOut, offset and clamped.
type MulParams struct {
	In1Offset, In2Offset, OutOffset int32 // −zp1, −zp2, +zpOut
	Mult                            int32
	Shift                           int
	Min, Max                        int32
}

// NewMulParams computes MulParams for inputs with scales s1, s2 and zero
// points z1, z2 and an output with scale so, zero point zo and activation
// clamp [lo, hi].
func NewMulParams(s1 float32, z1 int32, s2 float32, z2 int32, so float32, zo int32, lo, hi int32) (MulParams, error) {
	p := MulParams{In1Offset: -z1, In2Offset: -z2, OutOffset: zo, Min: lo, Max: hi}
	if !(s1 > 0) || !(s2 > 0) || !(so > 0) {
		return p, fmt.Errorf("quant: mul: scales %g, %g, %g must be positive", s1, s2, so)
	}
	// TFLite multiplies and divides the float scales in float precision
	// before widening to double; keeping that rounding matters for
	// bit-exactness.
	real := s1 * s2
	real /= so
	p.Mult, p.Shift = QuantizeMultiplier(float64(real))
	return p, nil
}

// Mul returns the quantised product of the quantised values a and b.
func (p *MulParams) Mul(a, b int32) int32 {
	r := MultiplyByQuantizedMultiplier((a+p.In1Offset)*(b+p.In2Offset), p.Mult, p.Shift) + p.OutOffset
	return Clamp(r, p.Min, p.Max)
}
