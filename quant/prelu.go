package quant

import "fmt"

// PreluParams are the fixed-point parameters of a quantised PRELU
// (TFLite kernels/activations.cc PreluPrepare; reference_ops::Prelu and
// BroadcastPrelu4DSlow in kernels/internal/reference/prelu.h). With
// x = q_in − zp_in and a = q_alpha − zp_alpha, the output code is
//
//	x >= 0: zp_out + MultiplyByQuantizedMultiplier(x,   M1)   M1 = s_in / s_out
//	x <  0: zp_out + MultiplyByQuantizedMultiplier(x·a, M2)   M2 = s_in·s_alpha / s_out
//
// clamped to the type's range. Two multipliers rather than one because
// the identity branch must not pick up alpha's scale: PRELU, unlike MUL,
// leaves non-negative inputs alone.
type PreluParams struct {
	InOffset, AlphaOffset, OutOffset int32 // −zp_in, −zp_alpha, +zp_out
	IdentityMult                     int32
	IdentityShift                    int
	AlphaMult                        int32
	AlphaShift                       int
	Min, Max                         int32
}

// NewPreluParams computes PreluParams for an input (scale si, zero point
// zi), alpha (sa, za) and output (so, zo) of an 8-bit type whose codes
// span [qmin, qmax].
func NewPreluParams(si float32, zi int32, sa float32, za int32, so float32, zo int32, qmin, qmax int32) (PreluParams, error) {
	p := PreluParams{InOffset: -zi, AlphaOffset: -za, OutOffset: zo, Min: qmin, Max: qmax}
	if !(si > 0) || !(sa > 0) || !(so > 0) {
		return p, fmt.Errorf("quant: prelu: scales %g (input), %g (alpha), %g (output) must be positive", si, sa, so)
	}
	// PreluPrepare computes both ratios in float (the scales are floats)
	// and only then widens to double; the float rounding is part of the
	// multiplier TFLite gets, so it is kept here.
	identity := si / so
	alpha := float32(si*sa) / so
	p.IdentityMult, p.IdentityShift = QuantizeMultiplier(float64(identity))
	p.AlphaMult, p.AlphaShift = QuantizeMultiplier(float64(alpha))
	return p, nil
}

// Prelu returns the output code for input code q and alpha code a.
func (p *PreluParams) Prelu(q, a int32) int32 {
	x := q + p.InOffset
	var r int32
	if x >= 0 {
		r = MultiplyByQuantizedMultiplier(x, p.IdentityMult, p.IdentityShift)
	} else {
		r = MultiplyByQuantizedMultiplier(x*(a+p.AlphaOffset), p.AlphaMult, p.AlphaShift)
	}
	return Clamp(r+p.OutOffset, p.Min, p.Max)
}
