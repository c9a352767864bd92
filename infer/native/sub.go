package native

import (
	"fmt"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// SUB: out = act(x − y) with broadcasting, for float32, int32, uint8 and
// int8. The 8-bit forms use ADD's left-shift-20 scheme (quant.AddParams.Sub),
// so inputs and output may all have different scales and zero points.

func newSub(n *node) (kernel, error) { return newBinary(n, setupSub) }

func setupSub(k *binaryKernel) error {
	x, y, out := k.n.in[0], k.n.in[1], k.n.out[0]
	switch out.Type {
	case tfl.Float32:
		lo, hi := quant.ActivationRangeFloat(k.act)
		k.setFloat(fSub, lo, hi)
	case tfl.Int32:
		lo, hi := activationRangeInt32(k.act)
		k.row = binaryRow(k, (*Tensor).Int32s, func(d, a, b []int32, sa, sb int) { subRow(d, a, b, sa, sb, lo, hi) })
	case tfl.Uint8, tfl.Int8:
		lo, hi := outputActivationRange(k.act, out)
		p, err := quant.NewAddParams(x.Scale(), x.ZeroPoint(), y.Scale(), y.ZeroPoint(), out.Scale(), out.ZeroPoint(), lo, hi)
		if err != nil {
			return err
		}
		k.f8 = p.Sub
		q := newAddSub8(p, out.Type == tfl.Int8, true)
		if out.Type == tfl.Uint8 {
			k.row = binaryRow(k, (*Tensor).Uint8s, func(d, a, b []uint8, sa, sb int) { addSubRow(q, d, a, b, sa, sb) })
		} else {
			k.row = binaryRow(k, (*Tensor).Int8s, func(d, a, b []int8, sa, sb int) { addSubRow(q, d, a, b, sa, sb) })
		}
	default:
		return fmt.Errorf("type %s is not supported (float32, int32, uint8, int8)", out.Type)
	}
	return nil
}

func subRow[T float32 | int32](d, x, y []T, sx, sy int, lo, hi T) {
	i, j := 0, 0
	for o := range d {
		d[o] = min(max(x[i]-y[j], lo), hi)
		i += sx
		j += sy
	}
}
