package native

import (
	"fmt"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// quantize implements QUANTIZE as TFLite's kernels/quantize.cc does:
//
//   - float32 to int8, uint8 or int16: round(x / scale) + zero point,
//     clamped (quant.AffineQuantize);
//   - int8 or uint8 to int8 or uint8, and int16 to int8 or int16:
//     requantisation with the fixed-point multiplier inScale/outScale
//     (quant.FixedRescale). Between 8-bit types this covers TFLite's
//     "flip the sign bit" fast path, which gives the same codes.
//
// The output must be per-tensor quantised; int16 tensors must have zero
// point 0, as TFLite requires.
type quantize struct {
	n        *node
	mode     int
	scale    float64
	zp       int32
	min, max int32
	rescale  quant.FixedRescale
	table    [256]uint8
}

const (
	quantizeFromFloat = iota
	quantizeTable8    // 8-bit to 8-bit through a table
	quantizeFrom16    // int16 to int8 or int16
)

func newQuantize(n *node) (kernel, error) { return &quantize{n: n}, nil }

func typeLimits(t tfl.TensorType) (lo, hi int32) {
	switch t {
	case tfl.Int8:
		return -128, 127
	case tfl.Uint8:
		return 0, 255
	}
	return -32768, 32767
}

func (k *quantize) prepare() error {
	in, out, err := unaryShape(k.n)
	if err != nil {
		return err
	}
	outS, outZ, err := perTensorQuant(out, "output")
	if err != nil {
		return err
	}
	if out.Type == tfl.Int16 && outZ != 0 {
		return fmt.Errorf("int16 output %q must have zero point 0, has %d", out.Name, outZ)
	}
	k.min, k.max = typeLimits(out.Type)
	switch {
	case in.Type == tfl.Float32 && (out.Type == tfl.Int8 || out.Type == tfl.Uint8 || out.Type == tfl.Int16):
		k.mode, k.scale, k.zp = quantizeFromFloat, float64(outS), outZ
		return nil
	case (in.Type == tfl.Int8 || in.Type == tfl.Uint8) && (out.Type == tfl.Int8 || out.Type == tfl.Uint8):
		k.mode = quantizeTable8
	case in.Type == tfl.Int16 && (out.Type == tfl.Int8 || out.Type == tfl.Int16):
		k.mode = quantizeFrom16
	default:
		return fmt.Errorf("cannot quantize %s to %s", in.Type, out.Type)
	}
	inS, inZ, err := perTensorQuant(in, "input")
	if err != nil {
		return err
	}
	if in.Type == tfl.Int16 && inZ != 0 {
		return fmt.Errorf("int16 input %q must have zero point 0, has %d", in.Name, inZ)
	}
	k.rescale = quant.NewFixedRescale(inS, inZ, outS, outZ, k.min, k.max)
	if k.mode == quantizeTable8 {
		fillTable8(&k.table, in.Type == tfl.Int8, k.rescale.Apply)
	}
	return nil
}

func (k *quantize) eval() {
	in, out := k.n.in[0], k.n.out[0]
	switch k.mode {
	case quantizeTable8:
		lookup8(&k.table, out.Data, in.Data)
	case quantizeFrom16:
		src := int16s(in)
		if out.Type == tfl.Int8 {
			dst := out.Int8s()
			for i, q := range src {
				dst[i] = int8(k.rescale.Apply(int32(q)))
			}
			return
		}
		dst := int16s(out)
		for i, q := range src {
			dst[i] = int16(k.rescale.Apply(int32(q)))
		}
	case quantizeFromFloat:
		src := in.Float32s()
		switch out.Type {
		case tfl.Int8:
			dst := out.Int8s()
			for i, v := range src {
				dst[i] = int8(quant.AffineQuantize(v, k.scale, k.zp, k.min, k.max))
			}
		case tfl.Uint8:
			dst := out.Uint8s()
			for i, v := range src {
				dst[i] = uint8(quant.AffineQuantize(v, k.scale, k.zp, k.min, k.max))
			}
		default:
			dst := int16s(out)
			for i, v := range src {
				dst[i] = int16(quant.AffineQuantize(v, k.scale, k.zp, k.min, k.max))
			}
		}
	}
}
