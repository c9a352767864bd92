package quant

import "math"

// Quantised SOFTMAX as TensorFlow Lite 2.9's default kernel computes it.
//
// The reference kernel (reference/softmax.h) works in gemmlowp fixed point,
// but the kernel the C library registers by default is the optimized one
// (optimized_ops.h Softmax with PopulateSoftmaxLookupTable): a float32 table
// of exp(-inScale*beta*d) for every distance d = max - q in [0, 255], float32
// sums and a float32 rescale. It is well defined and cheaper, and matching it
// is what keeps our probabilities equal to TFLite's, so that is what we
// implement. (Builds of TFLite for arm64 with TFLITE_SOFTMAX_USE_UINT16_LUT
// use yet another table; the x86-64 and default builds use this one.)

// SoftmaxTable holds expf(-inScale*beta*d) at index 255-d.
type SoftmaxTable [256]float32

// NewSoftmaxTable builds the table for an input scale and beta.
func NewSoftmaxTable(inScale, beta float32) *SoftmaxTable {
	t := new(SoftmaxTable)
	s := -inScale * beta
	for d := 0; d <= 255; d++ {
		t[255-d] = Expf(s * float32(d))
	}
	return t
}

// SoftmaxRowInt8 writes the softmax of one row of int8 codes to dst, as int8
// codes of scale outScale and zero point outZP: p = e(q) / (sum e * outScale),
// rounded half away from zero (roundf), plus outZP, clamped. e(q) is
// t[255 - max + q], which stays in [0, 255] because q <= max.
func (t *SoftmaxTable) SoftmaxRowInt8(dst, src []int8, outScale float32, outZP int32) {
	mx := int32(-128)
	for _, v := range src {
		mx = max(mx, int32(v))
	}
	base := 255 - mx
	var sum float32
	for _, v := range src {
		sum += t[base+int32(v)]
	}
	inv := 1 / (sum * outScale)
	for i, v := range src {
		p := float32(t[base+int32(v)] * inv)
		q := int32(math.Round(float64(p))) + outZP
		dst[i] = int8(Clamp(q, -128, 127))
	}
}

// SoftmaxRowUint8 is SoftmaxRowInt8 for uint8 codes. The C library on x86-64
// quantises uint8 probabilities as trunc(p + 0.5) and ignores the zero point
// (QuantizeSoftmaxOutput<uint8_t>); p is never negative, and TFLite's
// quantisation spec fixes the uint8 output zero point at 0, so this is the
// same as rounding except where float32 p + 0.5 itself rounds up.
func (t *SoftmaxTable) SoftmaxRowUint8(dst, src []uint8, outScale float32) {
	mx := int32(0)
	for _, v := range src {
		mx = max(mx, int32(v))
	}
	base := 255 - mx
	var sum float32
	for _, v := range src {
		sum += t[base+int32(v)]
	}
	inv := 1 / (sum * outScale)
	for i, v := range src {
		// The conversion forces float32 rounding of the product, so the
		// compiler cannot fuse it with the addition (Go spec, arithmetic).
		p := float32(t[base+int32(v)] * inv)
		q := int32(p + 0.5)
		dst[i] = uint8(Clamp(q, 0, 255))
	}
}
