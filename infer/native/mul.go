package native

import (
	"fmt"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// MUL: out = act(x · y) with broadcasting, for float32, int32, uint8 and
// int8. The 8-bit forms scale the product of the offset inputs by
// s_x·s_y/s_out in fixed point (quant.MulParams), as TFLite's MulElementwise.

func newMul(n *node) (kernel, error) { return newBinary(n, setupMul) }

func setupMul(k *binaryKernel) error {
	x, y, out := k.n.in[0], k.n.in[1], k.n.out[0]
	switch out.Type {
	case tfl.Float32:
		lo, hi := quant.ActivationRangeFloat(k.act)
		k.setFloat(fMul, lo, hi)
	case tfl.Int32:
		lo, hi := activationRangeInt32(k.act)
		k.row = binaryRow(k, (*Tensor).Int32s, func(d, a, b []int32, sa, sb int) { mulRow(d, a, b, sa, sb, lo, hi) })
	case tfl.Uint8, tfl.Int8:
		lo, hi := outputActivationRange(k.act, out)
		p, err := quant.NewMulParams(x.Scale(), x.ZeroPoint(), y.Scale(), y.ZeroPoint(), out.Scale(), out.ZeroPoint(), lo, hi)
		if err != nil {
			return err
		}
		k.f8 = p.Mul
		if out.Type == tfl.Uint8 {
			k.row = binaryRow(k, (*Tensor).Uint8s, func(d, a, b []uint8, sa, sb int) { mulRowQ(&p, d, a, b, sa, sb) })
		} else {
			k.row = binaryRow(k, (*Tensor).Int8s, func(d, a, b []int8, sa, sb int) { mulRowQ(&p, d, a, b, sa, sb) })
		}
	default:
		return fmt.Errorf("type %s is not supported (float32, int32, uint8, int8)", out.Type)
	}
	return nil
}

func mulRow[T float32 | int32](d, x, y []T, sx, sy int, lo, hi T) {
	i, j := 0, 0
	for o := range d {
		d[o] = min(max(x[i]*y[j], lo), hi)
		i += sx
		j += sy
	}
}

func mulRowQ[T int8 | uint8](p *quant.MulParams, d, x, y []T, sx, sy int) {
	i, j := 0, 0
	for o := range d {
		d[o] = T(p.Mul(int32(x[i]), int32(y[j])))
		i += sx
		j += sy
	}
}
