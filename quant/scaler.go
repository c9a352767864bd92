package quant

import "math"

// Scaler is MultiplyByQuantizedMultiplierHalfUp for one multiplier and
// shift, with the shift split into its left and right parts and the final
// rounding constant precomputed at load, for GEMM epilogues that apply it
// to every output. TestScalerMatchesHalfUp checks that the two agree.
type Scaler struct {
	mult        int32
	left, right uint  // left shift before, rounding right shift after
	round       int64 // 2^(right−1), or 0 when right is 0
}

// NewScaler precomputes the Scaler of a multiplier and shift as returned
// by QuantizeMultiplier.
func NewScaler(mult int32, shift int) Scaler {
	s := Scaler{mult: mult}
	if shift > 0 {
		s.left = uint(shift)
	} else if shift < 0 {
		s.right = uint(-shift)
		s.round = 1 << (s.right - 1)
	}
	return s
}

// Apply returns MultiplyByQuantizedMultiplierHalfUp(x, mult, shift).
func (s *Scaler) Apply(x int32) int32 {
	x <<= s.left
	if x == math.MinInt32 && s.mult == math.MinInt32 {
		return int32((math.MaxInt32 + s.round) >> s.right)
	}
	// SaturatingRoundingDoublingHighMul: round half away from zero, then
	// divide by 2³¹ truncating toward zero.
	ab := int64(x) * int64(s.mult)
	nudge := int64(1 << 30)
	if ab < 0 {
		nudge = 1 - (1 << 30)
	}
	v := (ab + nudge) / (1 << 31)
	return int32((v + s.round) >> s.right)
}
