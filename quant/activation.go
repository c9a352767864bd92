package quant

import "math"

// Fused activation functions, numbered as in the TFLite schema.
const (
	ActNone      = 0
	ActRelu      = 1
	ActReluN1To1 = 2
	ActRelu6     = 3
)

// ActivationRange returns the clamp bounds of a fused activation for a
// quantised output with the given scale and zero point, within the type's
// [qmin, qmax] (TFLite's CalculateActivationRangeQuantized).
func ActivationRange(act int, scale float32, zeroPoint, qmin, qmax int32) (lo, hi int32) {
	q := func(f float32) int32 { return zeroPoint + int32(math.Round(float64(f/scale))) }
	lo, hi = qmin, qmax
	switch act {
	case ActRelu:
		lo = max(qmin, q(0))
	case ActRelu6:
		lo, hi = max(qmin, q(0)), min(qmax, q(6))
	case ActReluN1To1:
		lo, hi = max(qmin, q(-1)), min(qmax, q(1))
	}
	return lo, hi
}

// ActivationRangeFloat returns the clamp bounds of a fused activation for a
// float output (TFLite's CalculateActivationRange). Without an upper or
// lower bound it is ±math.MaxFloat32 (float's lowest() and max()), not
// ±Inf: TFLite's kernels clamp to it, so a result that overflows, or an
// infinite input passed through, comes out as ±MaxFloat32.
func ActivationRangeFloat(act int) (lo, hi float32) {
	switch act {
	case ActRelu:
		return 0, math.MaxFloat32
	case ActRelu6:
		return 0, 6
	case ActReluN1To1:
		return -1, 1
	}
	return -math.MaxFloat32, math.MaxFloat32
}

// TypeRange is the range of an 8-bit type: int8 when signed, else uint8.
func TypeRange(signed bool) (qmin, qmax int32) {
	if signed {
		return -128, 127
	}
	return 0, 255
}
