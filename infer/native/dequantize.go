package native

import (
	"fmt"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// dequantize implements DEQUANTIZE to float32 as TFLite's dequantize.h
// does: scale * (q - zero point) for int8, uint8 and int16 (per-tensor, or
// per-channel along the quantised dimension for int8 and uint8, as TFLite's
// PerChannelDequantize), and an exact conversion for float16.
type dequantize struct {
	n *node
	// 8-bit per-tensor: one float per code, indexed by the raw byte.
	table *[256]float32
	// int16 per-tensor.
	scale float64
	zp    int32
	// per-channel: outer × channels × inner elements.
	scales              []float64
	zps                 []int32
	outer, chans, inner int
}

func newDequantize(n *node) (kernel, error) { return &dequantize{n: n}, nil }

func (k *dequantize) prepare() error {
	in, out, err := unaryShape(k.n)
	if err != nil {
		return err
	}
	if out.Type != tfl.Float32 {
		return fmt.Errorf("output %q is %s; DEQUANTIZE produces float32", out.Name, out.Type)
	}
	k.table, k.scales, k.zps = nil, nil, nil
	switch in.Type {
	case tfl.Float16:
		return nil
	case tfl.Int8, tfl.Uint8, tfl.Int16:
	default:
		return fmt.Errorf("cannot dequantize %s", in.Type)
	}
	if q := in.Quant; q != nil && len(q.Scale) > 1 && in.Type != tfl.Int16 {
		return k.preparePerChannel(in)
	}
	scale, zp, err := perTensorQuant(in, "input")
	if err != nil {
		return err
	}
	k.scale, k.zp = float64(scale), zp
	if in.Type != tfl.Int16 {
		k.table = new([256]float32)
		for q := int32(-128); q <= 255; q++ {
			if (in.Type == tfl.Int8 && q > 127) || (in.Type == tfl.Uint8 && q < 0) {
				continue
			}
			k.table[uint8(q)] = quant.Dequantize(q, zp, k.scale)
		}
	}
	return nil
}

func (k *dequantize) preparePerChannel(in *Tensor) error {
	q := in.Quant
	dim := q.Dim
	if dim < 0 || dim >= len(in.Shape) {
		return fmt.Errorf("input %q: quantized dimension %d out of range for shape %v", in.Name, dim, in.Shape)
	}
	if len(q.Scale) != in.Shape[dim] || len(in.ZeroPoint32) != len(q.Scale) {
		return fmt.Errorf("input %q: %d scales and %d zero points for %d channels", in.Name, len(q.Scale), len(in.ZeroPoint32), in.Shape[dim])
	}
	k.scales = make([]float64, len(q.Scale))
	for i, s := range q.Scale {
		if !(s > 0) {
			return fmt.Errorf("input %q: invalid scale %g for channel %d", in.Name, s, i)
		}
		k.scales[i] = float64(s)
	}
	k.zps = in.ZeroPoint32
	k.outer, k.chans, k.inner = 1, in.Shape[dim], 1
	for _, d := range in.Shape[:dim] {
		k.outer *= d
	}
	for _, d := range in.Shape[dim+1:] {
		k.inner *= d
	}
	return nil
}

func (k *dequantize) eval() {
	in, out := k.n.in[0], k.n.out[0]
	dst := out.Float32s()
	switch {
	case in.Type == tfl.Float16:
		for i, h := range uint16s(in) {
			dst[i] = quant.Float16ToFloat32(h)
		}
	case k.scales != nil:
		i := 0
		for o := 0; o < k.outer; o++ {
			for c := 0; c < k.chans; c++ {
				s, z := k.scales[c], k.zps[c]
				for j := 0; j < k.inner; j++ {
					var q int32
					if in.Type == tfl.Int8 {
						q = int32(int8(in.Data[i]))
					} else {
						q = int32(in.Data[i])
					}
					dst[i] = quant.Dequantize(q, z, s)
					i++
				}
			}
		}
	case k.table != nil:
		for i, b := range in.Data[:len(dst)] {
			dst[i] = k.table[b]
		}
	default:
		for i, q := range int16s(in) {
			dst[i] = quant.Dequantize(int32(q), k.zp, k.scale)
		}
	}
}
