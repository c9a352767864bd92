package quant

import (
	"fmt"
	"math"
)

// AffineParams are per-tensor affine quantisation parameters:
// real = Scale × (q − ZeroPoint).
type AffineParams struct {
	Scale     float32
	ZeroPoint int32
}

// ChooseAffine picks the scale and zero point that cover the real range
// [min, max] with the integer codes [qmin, qmax] (int8 activations:
// −128..127), the way TensorFlow's post-training quantiser does
// (tools/optimize/quantization_utils.cc, GetAsymmetricQuantizationParams),
// in float32 as it does:
//
//   - the range is first widened to contain 0, because zero padding, ReLU
//     and every "nothing here" value must be exact;
//   - scale = (max − min) / (qmax − qmin);
//   - the zero point qmin − min/scale is rounded half away from zero to an
//     integer (clamped to [qmin, qmax]). This nudges the represented range
//     by less than half a step so that real 0 is exactly the code
//     ZeroPoint, as the quantisation specification requires.
//
// TensorFlow writes a zero scale for a range that is exactly [0, 0] (a
// tensor that was always zero during calibration); kernels then divide by
// it. We instead use the scale of [0, 1] with zero point qmin: zero stays
// exact and the tensor still has some room for the values it never showed.
//
// NaN or infinite bounds, or min > max, are an error: they come from a
// broken float model or calibration set, and any scale chosen from them
// would be garbage.
func ChooseAffine(min, max float32, qmin, qmax int32) (AffineParams, error) {
	if !finite32(min) || !finite32(max) {
		return AffineParams{}, fmt.Errorf("quant: range [%g, %g] is not finite", min, max)
	}
	if min > max {
		return AffineParams{}, fmt.Errorf("quant: range [%g, %g] is empty (min > max)", min, max)
	}
	if qmin >= qmax {
		return AffineParams{}, fmt.Errorf("quant: integer range [%d, %d] is empty", qmin, qmax)
	}
	min = float32(math.Min(float64(min), 0))
	max = float32(math.Max(float64(max), 0))
	qminF, qmaxF := float32(qmin), float32(qmax)
	if min == 0 && max == 0 {
		max = 1
	}
	scale := (max - min) / (qmaxF - qminF)
	if scale == 0 || !finite32(scale) {
		// The width underflowed or overflowed float32 (|bounds| near
		// 1e-45 or 3e38): no usable quantisation exists.
		return AffineParams{}, fmt.Errorf("quant: range [%g, %g] has no representable float32 scale", min, max)
	}
	zpFromMin := qminF - min/scale
	var zp int32
	switch {
	case zpFromMin < qminF:
		zp = qmin
	case zpFromMin > qmaxF:
		zp = qmax
	default:
		zp = int32(math.Round(float64(zpFromMin)))
	}
	return AffineParams{Scale: scale, ZeroPoint: zp}, nil
}

// Range returns the real interval the codes [qmin, qmax] represent with
// these parameters: the nudged range, which contains 0 exactly.
func (p AffineParams) Range(qmin, qmax int32) (lo, hi float32) {
	return p.Scale * float32(qmin-p.ZeroPoint), p.Scale * float32(qmax-p.ZeroPoint)
}

// Quantize maps a real value to its code, as TFLite's QUANTIZE does
// (AffineQuantize: round half away from zero, then clamp).
func (p AffineParams) Quantize(v float32, qmin, qmax int32) int32 {
	return AffineQuantize(v, float64(p.Scale), p.ZeroPoint, qmin, qmax)
}

// Dequantize maps a code back to its real value.
func (p AffineParams) Dequantize(q int32) float32 {
	return Dequantize(q, p.ZeroPoint, float64(p.Scale))
}

// MinMax returns the smallest and largest finite values of v; ok is false
// when v holds no finite value. NaN and ±Inf are skipped: TensorFlow's
// calibrator skips NaN, and an infinite bound would make every scale
// infinite.
func MinMax(v []float32) (lo, hi float32, ok bool) {
	lo, hi = float32(math.Inf(1)), float32(math.Inf(-1))
	for _, x := range v {
		// The bound checks only run when a bound would move; NaN fails
		// both comparisons.
		if x < lo && x >= -math.MaxFloat32 {
			lo = x
		}
		if x > hi && x <= math.MaxFloat32 {
			hi = x
		}
	}
	if !finite32(lo) || !finite32(hi) {
		return 0, 0, false
	}
	return lo, hi, true
}

func finite32(v float32) bool {
	return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
}
