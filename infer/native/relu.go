package native

import (
	"math"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// relu implements RELU, RELU6 and RELU_N1_TO_1: clamp(x, lo, hi) with
// (lo, hi) = (0, +inf), (0, 6) and (-1, 1).
//
// Quantised tensors may have different input and output parameters, so as
// in TFLite (activations.cc ReluPrepare and QuantizedReluX) the input is
// rescaled by inScale/outScale (a float32 ratio turned into a fixed-point
// multiplier) and clamped to the codes of lo and hi, each computed as
// outZP + roundf(bound/outScale) within the type's range.
type relu struct {
	n      *node
	lo, hi float32
	float  bool
	table  [256]uint8
}

func newRelu(n *node) (kernel, error) {
	return &relu{n: n, lo: 0, hi: float32(math.Inf(1))}, nil
}

func newRelu6(n *node) (kernel, error) { return &relu{n: n, lo: 0, hi: 6}, nil }

func newReluN1To1(n *node) (kernel, error) { return &relu{n: n, lo: -1, hi: 1}, nil }

func (k *relu) prepare() error {
	u, err := prepareUnary8(k.n)
	if err != nil {
		return err
	}
	k.float = u.float
	if k.float {
		return nil
	}
	in, inS, inZ, outS, outZ := u.in, u.inS, u.inZ, u.outS, u.outZ
	signed := in.Type == tfl.Int8
	qmin, qmax := quant.TypeRange(signed)
	lo := max(qmin, boundCode(k.lo, outS, outZ))
	hi := qmax
	if !math.IsInf(float64(k.hi), 1) {
		hi = min(qmax, boundCode(k.hi, outS, outZ))
	}
	mult, shift := quant.QuantizeMultiplier(float64(inS / outS))
	fillTable8(&k.table, signed, func(q int32) int32 {
		v := outZ + quant.MultiplyByQuantizedMultiplier(q-inZ, mult, shift)
		return min(max(v, lo), hi)
	})
	return nil
}

// boundCode is outZP + roundf(v/scale), saturated to the int32 range so
// that extreme scales cannot overflow.
func boundCode(v, scale float32, zp int32) int32 {
	r := math.Round(float64(v/scale)) + float64(zp)
	return int32(min(max(r, math.MinInt32), math.MaxInt32))
}

func (k *relu) eval() {
	in, out := k.n.in[0], k.n.out[0]
	if !k.float {
		lookup8(&k.table, out.Data, in.Data)
		return
	}
	dst := out.Float32s()
	for i, x := range in.Float32s() {
		dst[i] = min(max(x, k.lo), k.hi)
	}
}
