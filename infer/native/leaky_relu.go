package native

import (
	"fmt"
	"math"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// leakyRelu implements LEAKY_RELU: x for x > 0, alpha*x otherwise.
//
// Quantised, it follows TFLite's reference QuantizeLeakyRelu (which the
// default kernel calls): codes at or above the input zero point are
// rescaled by inScale/outScale, those below by inScale*alpha/outScale, each
// a fixed-point multiplier derived from a float32 ratio as LeakyReluPrepare
// computes it.
type leakyRelu struct {
	n     *node
	alpha float32
	float bool
	table [256]uint8
}

func newLeakyRelu(n *node) (kernel, error) {
	o, ok := n.opts.(*tfl.LeakyReluOptions)
	if !ok || o == nil {
		return nil, fmt.Errorf("missing LeakyReluOptions")
	}
	if math.IsNaN(float64(o.Alpha)) || math.IsInf(float64(o.Alpha), 0) {
		return nil, fmt.Errorf("invalid alpha %g", o.Alpha)
	}
	return &leakyRelu{n: n, alpha: o.Alpha}, nil
}

func (k *leakyRelu) prepare() error {
	u, err := prepareUnary8(k.n)
	if err != nil {
		return err
	}
	k.float = u.float
	if k.float {
		return nil
	}
	in, inS, inZ, outS, outZ := u.in, u.inS, u.inZ, u.outS, u.outZ
	// float32 products and quotients, as in TFLite, then widened.
	alphaM, alphaS := quant.QuantizeMultiplier(float64(inS * k.alpha / outS))
	idM, idS := quant.QuantizeMultiplier(float64(inS / outS))
	signed := in.Type == tfl.Int8
	qmin, qmax := quant.TypeRange(signed)
	fillTable8(&k.table, signed, func(q int32) int32 {
		x := q - inZ
		if x >= 0 {
			return quant.Clamp(outZ+quant.MultiplyByQuantizedMultiplier(x, idM, idS), qmin, qmax)
		}
		return quant.Clamp(outZ+quant.MultiplyByQuantizedMultiplier(x, alphaM, alphaS), qmin, qmax)
	})
	return nil
}

func (k *leakyRelu) eval() {
	in, out := k.n.in[0], k.n.out[0]
	if !k.float {
		lookup8(&k.table, out.Data, in.Data)
		return
	}
	dst, src := out.Float32s(), in.Float32s()
	done := leakySIMD(dst, src, k.alpha)
	dst, src = dst[done:], src[done:]
	for i, x := range src {
		if x > 0 {
			dst[i] = x
		} else {
			dst[i] = x * k.alpha
		}
	}
}
