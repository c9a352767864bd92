package quant

import (
	"fmt"
	"math"
)

// Symmetric int8 weights, as the TFLite quantisation specification
// requires for the weights of CONV_2D, DEPTHWISE_CONV_2D and
// FULLY_CONNECTED: zero point 0 and codes in [−127, 127]. The "narrow
// range" drops −128 so that the range is symmetric (−w is always
// representable) and so that kernels never meet the −128 × −128 product,
// which some int8 dot-product instructions cannot hold.
const (
	WeightQMin = -127
	WeightQMax = 127
)

// BiasQMax bounds int32 biases: TensorFlow's quantiser clamps them to
// ±(2³¹ − 1), leaving −2³¹ unused as it does for weights.
const BiasQMax = math.MaxInt32

// SymmetricScales returns the symmetric weight scales of w, whose
// dimensions are shape: one scale max|w|/127 per slice along axis
// (per-channel quantisation: axis 0 for CONV_2D's [out, kh, kw, in], 3 for
// DEPTHWISE_CONV_2D's [1, kh, kw, out]), or a single scale for the whole
// tensor when axis is negative (per-tensor, as TensorFlow 2 does for
// FULLY_CONNECTED by default).
//
// A slice that is all zero (a pruned or dead filter) gets the largest
// scale of the other slices, or 1/127 when the whole tensor is zero. Any
// scale represents its zeros exactly; TensorFlow writes 0 there, which
// makes the channel's bias scale 0 too and silently drops its bias, and
// gives kernels a zero multiplier.
func SymmetricScales(w []float32, shape []int, axis int) ([]float32, error) {
	outer, n, inner, err := splitAxis(len(w), shape, axis)
	if err != nil {
		return nil, err
	}
	maxAbs := make([]float32, n)
	for o := range outer {
		for c := range n {
			row := w[(o*n+c)*inner : (o*n+c+1)*inner]
			m := maxAbs[c]
			for _, v := range row {
				a := float32(math.Abs(float64(v)))
				if !(a <= math.MaxFloat32) { // NaN or ±Inf
					return nil, fmt.Errorf("quant: weight %g is not finite", v)
				}
				m = max(m, a)
			}
			maxAbs[c] = m
		}
	}
	scales := make([]float32, n)
	var largest float32
	for c, m := range maxAbs {
		scales[c] = m / WeightQMax
		largest = max(largest, scales[c])
	}
	if largest == 0 {
		largest = 1.0 / WeightQMax
	}
	for c := range scales {
		if scales[c] == 0 {
			scales[c] = largest
		}
	}
	return scales, nil
}

// QuantizeSymmetric writes round(w / scale) (half away from zero), clamped
// to [−127, 127], into dst; scales are per slice along axis as returned
// by SymmetricScales (one scale when axis is negative). Values beyond the
// range only occur when a scale was widened (FitBiasScales) or given by
// the caller; they saturate.
func QuantizeSymmetric(dst []int8, w []float32, shape []int, axis int, scales []float32) error {
	outer, n, inner, err := splitAxis(len(w), shape, axis)
	if err != nil {
		return err
	}
	if len(dst) != len(w) {
		return fmt.Errorf("quant: %d weights into %d codes", len(w), len(dst))
	}
	if len(scales) != n {
		return fmt.Errorf("quant: %d scales for %d channels", len(scales), n)
	}
	for c, s := range scales {
		if !(s > 0) || !finite32(s) {
			return fmt.Errorf("quant: scale %g of channel %d is not a positive number", s, c)
		}
	}
	for o := range outer {
		for c := range n {
			s := float64(scales[c])
			base := (o*n + c) * inner
			for i, v := range w[base : base+inner] {
				q := math.Round(float64(v) / s)
				dst[base+i] = int8(max(WeightQMin, min(WeightQMax, q)))
			}
		}
	}
	return nil
}

// FitBiasScales widens weight scales whose bias would not fit: the int32
// bias of output channel c is round(b / (inScale × scale_c)), and
// TensorFlow's quantiser (AdjustWeightsForBiasScale) requires it to stay
// within half the int32 range, leaving the other half for the
// accumulated products. A channel whose |b| ≥ ½ × inScale × scale_c ×
// (2³¹ − 1) gets scale_c = 2|b| / ((2³¹ − 1) × inScale). With per-tensor
// weights (one scale) the largest |b| decides. It reports whether any
// scale changed; the weights must be quantised after this call.
//
// It only matters for layers with huge biases next to tiny weights and
// inputs; without it those biases would saturate.
func FitBiasScales(weightScales, bias []float32, inScale float32) (bool, error) {
	if len(weightScales) != 1 && len(weightScales) != len(bias) {
		return false, fmt.Errorf("quant: %d weight scales for %d biases", len(weightScales), len(bias))
	}
	if !(inScale > 0) || !finite32(inScale) {
		return false, fmt.Errorf("quant: input scale %g is not a positive number", inScale)
	}
	const half = 0.5 * BiasQMax
	changed := false
	fit := func(c int, absB float64) {
		if absB >= half*float64(inScale)*float64(weightScales[c]) {
			weightScales[c] = float32(2 * absB / (BiasQMax * float64(inScale)))
			changed = true
		}
	}
	if len(weightScales) == 1 {
		var m float64
		for _, b := range bias {
			m = max(m, math.Abs(float64(b)))
		}
		fit(0, m)
		return changed, nil
	}
	for c, b := range bias {
		fit(c, math.Abs(float64(b)))
	}
	return changed, nil
}

// QuantizeBias writes the int32 biases of a convolution or fully connected
// layer into dst: dst[c] = round(bias[c] / (inScale × weightScale_c)),
// half away from zero, saturated to ±(2³¹ − 1). The bias scale is the
// product of the input and weight scales so that the bias adds straight
// onto the int32 accumulator of input × weight products (quantisation
// specification: bias zero point 0, scale s_in × s_w). weightScales has
// one entry per channel, or a single per-tensor entry. It returns the bias
// scales (one per weight scale) and how many values saturated.
func QuantizeBias(dst []int32, bias []float32, inScale float32, weightScales []float32) (scales []float32, saturated int, err error) {
	if len(dst) != len(bias) {
		return nil, 0, fmt.Errorf("quant: %d biases into %d codes", len(bias), len(dst))
	}
	if len(weightScales) != 1 && len(weightScales) != len(bias) {
		return nil, 0, fmt.Errorf("quant: %d weight scales for %d biases", len(weightScales), len(bias))
	}
	scales = make([]float32, len(weightScales))
	for c, ws := range weightScales {
		// float32 product, as TensorFlow forms it.
		scales[c] = inScale * ws
		if !(scales[c] > 0) || !finite32(scales[c]) {
			return nil, 0, fmt.Errorf("quant: bias scale %g × %g = %g is not a positive float32", inScale, ws, scales[c])
		}
	}
	for i, b := range bias {
		if !finite32(b) {
			return nil, 0, fmt.Errorf("quant: bias %g is not finite", b)
		}
		s := scales[0]
		if len(scales) > 1 {
			s = scales[i]
		}
		q := math.Round(float64(b) / float64(s))
		if q > BiasQMax || q < -BiasQMax {
			saturated++
			q = max(-BiasQMax, min(BiasQMax, q))
		}
		dst[i] = int32(q)
	}
	return scales, saturated, nil
}

// splitAxis views a tensor of the given shape as [outer, n, inner] around
// axis; a negative axis views it as one channel.
func splitAxis(size int, shape []int, axis int) (outer, n, inner int, err error) {
	total := 1
	for _, d := range shape {
		if d < 0 {
			return 0, 0, 0, fmt.Errorf("quant: shape %v has a negative dimension", shape)
		}
		total *= d
	}
	if total != size {
		return 0, 0, 0, fmt.Errorf("quant: %d values for shape %v (%d)", size, shape, total)
	}
	if axis < 0 {
		return 1, 1, size, nil
	}
	if axis >= len(shape) {
		return 0, 0, 0, fmt.Errorf("quant: axis %d of a rank-%d tensor", axis, len(shape))
	}
	outer, inner = 1, 1
	for _, d := range shape[:axis] {
		outer *= d
	}
	for _, d := range shape[axis+1:] {
		inner *= d
	}
	return outer, shape[axis], inner, nil
}
