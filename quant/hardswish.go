package quant

import (
	"errors"
	"math"
)

// HardSwishParams is the precomputed state of quantised HARD_SWISH,
// x * relu6(x + 3) / 6, in TFLite's 16-bit fixed-point formulation
// (reference/hard_swish.h; the default optimized kernel is the same
// arithmetic, vectorised on ARM). The input is moved to a "hires" scale
// inScale/128; one int16 multiplier maps it to the output scale and another
// maps [-3, 3] onto the int16 range to form the relu6(x+3)/6 factor.
type HardSwishParams struct {
	InZP, OutZP     int32
	OutMultiplier   int16 // Q15
	OutExponent     int   // always <= 0
	ReluishMultiply int16 // Q15
	ReluishExponent int
}

// ErrHardSwishScale reports an output scale so much smaller than the input
// scale that TFLite's HARD_SWISH cannot represent the rescale (its Prepare
// requires the output multiplier exponent to be <= 0).
var ErrHardSwishScale = errors.New("quant: hard swish output scale is too small for the input scale (needs outScale >= inScale/128)")

// NewHardSwishParams derives the multipliers as TFLite's HardSwishPrepare
// does: float32 ratios, QuantizeMultiplier, then a rounding reduction of the
// Q31 significand to Q15.
func NewHardSwishParams(inScale float32, inZP int32, outScale float32, outZP int32) (HardSwishParams, error) {
	p := HardSwishParams{InZP: inZP, OutZP: outZP}
	hires := (1.0 / 128.0) * inScale
	const reluishScale = float32(3.0 / 32768.0)
	outM := hires / outScale
	m, e := QuantizeMultiplier(float64(outM))
	p.OutMultiplier, p.OutExponent = q31ToQ15(m), e
	if e > 0 {
		return p, ErrHardSwishScale
	}
	rm := hires / reluishScale
	m, e = QuantizeMultiplier(float64(rm))
	p.ReluishMultiply, p.ReluishExponent = q31ToQ15(m), e
	return p, nil
}

// q31ToQ15 is TFLite's DownScaleInt32ToInt16Multiplier: round to the upper
// 16 bits, saturating.
func q31ToQ15(m int32) int16 {
	const offset = 1 << 15
	if m >= math.MaxInt32-offset {
		return math.MaxInt16
	}
	return int16((m + offset) >> 16)
}

// HardSwish maps input code q to the output code, clamped to [qmin, qmax].
// All intermediate values are int16 as in TFLite, including the wrap of the
// final zero-point addition.
func (p *HardSwishParams) HardSwish(q, qmin, qmax int32) int32 {
	in := int16(q - p.InZP)
	hires := int16(int32(in) * (1 << 7))
	preshiftOut := srdhm16(hires, p.OutMultiplier)
	r := hires
	if p.ReluishExponent > 0 {
		r = satLeftShift16(r, p.ReluishExponent-1)
	}
	r = srdhm16(r, p.ReluishMultiply)
	if p.ReluishExponent > 0 {
		r = satLeftShift16(r, 1)
	}
	if p.ReluishExponent < 0 {
		r = rdbpot16(r, -p.ReluishExponent)
	}
	// From [-1, 1] to [0, 1] in Q15.
	r = int16((int32(r) + (1 << 15)) >> 1)
	pre := sdhm16(r, preshiftOut)
	out := rdbpot16(pre, -p.OutExponent)
	out = int16(int32(out) + p.OutZP)
	return Clamp(int32(out), qmin, qmax)
}

// srdhm16 is gemmlowp's int16 SaturatingRoundingDoublingHighMul.
func srdhm16(a, b int16) int16 {
	if a == b && a == math.MinInt16 {
		return math.MaxInt16
	}
	ab := int32(a) * int32(b)
	nudge := int32(1 << 14)
	if ab < 0 {
		nudge = 1 - (1 << 14)
	}
	return int16((ab + nudge) / (1 << 15))
}

// sdhm16 is TFLite's SaturatingDoublingHighMul: like srdhm16 but truncating
// toward zero (ARM SQDMULH), which cancels the bias of the rounding above.
func sdhm16(a, b int16) int16 {
	if a == b && a == math.MinInt16 {
		return math.MaxInt16
	}
	return int16(int32(a) * int32(b) / (1 << 15))
}

// satLeftShift16 multiplies by 2^amount, saturating to int16.
func satLeftShift16(v int16, amount int) int16 {
	r := int64(v) << amount
	return int16(min(max(r, math.MinInt16), math.MaxInt16))
}

// rdbpot16 is gemmlowp's RoundingDivideByPOT on int16, including its
// behaviour for exponents of 16 and more, where the mask wraps.
func rdbpot16(x int16, exponent int) int16 {
	mask := int16(int64(1)<<exponent - 1)
	remainder := x & mask
	threshold := mask >> 1
	if x < 0 {
		threshold++
	}
	r := x >> exponent
	if remainder > threshold {
		r++
	}
	return r
}
