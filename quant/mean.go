package quant

import "math"

// TFLite has three quantised MEAN paths (kernels/reduce.cc EvalMean), and
// which one runs decides the rounding, so the native kernel picks the same:
//
//   - MeanHW: keep_dims, rank 4, axes exactly {1, 2}: the optimised
//     kernels (optimized_ops::Mean, optimized_integer_ops::Mean) scale the
//     raw sum by one fixed-point multiplier s_in/(n·s_out) and add a bias.
//   - MeanSame: any other axes with identical input and output
//     parameters: the raw sum divided by n with C's truncating division
//     (reference_ops::Mean).
//   - MeanRescale: any other axes with different parameters: float
//     arithmetic (reference_ops::QuantizedMeanOrSum).

// MeanHW is the fixed-point form of the 4-D height-and-width mean.
type MeanHW struct {
	Mult     int32
	Shift    int
	Bias     int32
	Min, Max int32
}

// NewMeanHW sets up the mean of count values quantised with (inScale,
// inZero) into (outScale, outZero), clamped to [qmin, qmax].
func NewMeanHW(inScale float32, inZero int32, outScale float32, outZero int32, count int, qmin, qmax int32) MeanHW {
	n := float32(count)
	// The bias is computed in float and rounded half away from zero by
	// hand before truncation, as TFLite does.
	t := float32(inZero) * inScale
	t /= outScale
	if t > 0 {
		t += 0.5
	} else {
		t -= 0.5
	}
	m := MeanHW{Bias: outZero - int32(t), Min: qmin, Max: qmax}
	d := n * outScale
	real := inScale / d
	m.Mult, m.Shift = QuantizeMultiplier(float64(real))
	return m
}

// Mean returns the quantised mean of values whose raw (not offset) sum is sum.
func (m *MeanHW) Mean(sum int32) int32 {
	return Clamp(MultiplyByQuantizedMultiplier(sum, m.Mult, m.Shift)+m.Bias, m.Min, m.Max)
}

// MeanSame returns the mean of count values with raw sum sum when input and
// output share scale and zero point: C's truncating integer division.
func MeanSame(sum int32, count int32) int32 { return sum / count }

// MeanRescale is the float form of QuantizedMeanOrSum's mean.
type MeanRescale struct {
	scale, bias, n, zero float32
	min, max             float32
}

// NewMeanRescale sets up the mean of count values quantised with (inScale,
// inZero) into (outScale, outZero), clamped to [qmin, qmax].
func NewMeanRescale(inScale float32, inZero int32, outScale float32, outZero int32, count int, qmin, qmax int32) MeanRescale {
	s := inScale / outScale
	return MeanRescale{scale: s, bias: float32(-inZero) * s, n: float32(count), zero: float32(outZero),
		min: float32(qmin), max: float32(qmax)}
}

// Mean returns the quantised mean of values whose raw sum is sum.
func (m *MeanRescale) Mean(sum int32) int32 {
	mean := float32(sum) / m.n
	// Explicit conversions keep each product rounded to float32 (no fused
	// multiply-add), as the C++ float expression is.
	v := float32(mean*m.scale) + m.bias
	r := float32(math.Round(float64(v))) + m.zero
	r = min(r, m.max)
	r = max(r, m.min)
	return int32(r)
}
