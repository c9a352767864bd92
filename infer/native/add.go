package native

import (
	"fmt"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// ADD: out = act(x + y) with broadcasting, for float32, int32, uint8 and
// int8. The 8-bit forms use TFLite's left-shift-20 scheme (quant.AddParams),
// so inputs and output may all have different scales and zero points;
// addSub8 computes them.

func newAdd(n *node) (kernel, error) { return newBinary(n, setupAdd) }

func setupAdd(k *binaryKernel) error {
	x, y, out := k.n.in[0], k.n.in[1], k.n.out[0]
	switch out.Type {
	case tfl.Float32:
		lo, hi := quant.ActivationRangeFloat(k.act)
		k.setFloat(fAdd, lo, hi)
	case tfl.Int32:
		lo, hi := activationRangeInt32(k.act)
		k.row = binaryRow(k, (*Tensor).Int32s, func(d, a, b []int32, sa, sb int) { addRow(d, a, b, sa, sb, lo, hi) })
	case tfl.Uint8, tfl.Int8:
		lo, hi := outputActivationRange(k.act, out)
		p, err := quant.NewAddParams(x.Scale(), x.ZeroPoint(), y.Scale(), y.ZeroPoint(), out.Scale(), out.ZeroPoint(), lo, hi)
		if err != nil {
			return err
		}
		k.f8 = p.Add
		q := newAddSub8(p, out.Type == tfl.Int8, false)
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

// addRow computes d[o] = clamp(x[o·sx] + y[o·sy], lo, hi). Rows of two
// full operands (residual connections) take a loop the compiler can free
// of bounds checks.
func addRow[T float32 | int32](d, x, y []T, sx, sy int, lo, hi T) {
	if sx == 1 && sy == 1 {
		x, y = x[:len(d)], y[:len(d)]
		for o := range d {
			d[o] = min(max(x[o]+y[o], lo), hi)
		}
		return
	}
	i, j := 0, 0
	for o := range d {
		d[o] = min(max(x[i]+y[j], lo), hi)
		i += sx
		j += sy
	}
}
