package native

import (
	"fmt"
	"math"
	"slices"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// activationOps are the standalone activation and (de)quantisation operators.
var activationOps = map[tfl.BuiltinOp]newKernel{
	tfl.OpSoftmax:    newSoftmax,
	tfl.OpLogistic:   newLogistic,
	tfl.OpTanh:       newTanh,
	tfl.OpRelu:       newRelu,
	tfl.OpRelu6:      newRelu6,
	tfl.OpReluN1To1:  newReluN1To1,
	tfl.OpLeakyRelu:  newLeakyRelu,
	tfl.OpPrelu:      newPrelu,
	tfl.OpHardSwish:  newHardSwish,
	tfl.OpQuantize:   newQuantize,
	tfl.OpDequantize: newDequantize,
}

// unaryShape checks that n has exactly one input and one output and gives
// the output the input's shape (prepare runs again after every resize). It
// does not compare types: QUANTIZE and DEQUANTIZE change them.
func unaryShape(n *node) (in, out *Tensor, err error) {
	in = n.input(0)
	if in == nil || len(n.in) != 1 || len(n.out) != 1 {
		return nil, nil, fmt.Errorf("needs 1 input and 1 output, has %d and %d", len(n.in), len(n.out))
	}
	out = n.out[0]
	out.Shape = slices.Clone(in.Shape)
	return in, out, nil
}

// unarySameType is unaryShape for operators whose output type is the input
// type, which must be one of ok.
func unarySameType(n *node, ok ...tfl.TensorType) (in, out *Tensor, err error) {
	in, out, err = unaryShape(n)
	if err != nil {
		return nil, nil, err
	}
	if in.Type != out.Type {
		return nil, nil, fmt.Errorf("input is %s but output is %s", in.Type, out.Type)
	}
	if !slices.Contains(ok, in.Type) {
		return nil, nil, fmt.Errorf("input type %s is not supported (want one of %v)", in.Type, ok)
	}
	return in, out, nil
}

// unary8 is what a float32/uint8/int8 activation knows after its shared
// checks: the tensors and, for 8-bit types, their per-tensor parameters.
type unary8 struct {
	in, out   *Tensor
	float     bool // float32; the quantisation fields are then unset
	signed    bool // int8 rather than uint8
	inS, outS float32
	inZ, outZ int32
}

// prepareUnary8 runs the checks every same-type activation shares: one
// input, one output of the same type among float32, uint8 and int8, and
// per-tensor quantisation for the 8-bit types.
func prepareUnary8(n *node) (u unary8, err error) {
	u.in, u.out, err = unarySameType(n, tfl.Float32, tfl.Uint8, tfl.Int8)
	if err != nil {
		return u, err
	}
	u.float = u.in.Type == tfl.Float32
	if u.float {
		return u, nil
	}
	u.signed = u.in.Type == tfl.Int8
	if u.inS, u.inZ, err = perTensorQuant(u.in, "input"); err != nil {
		return u, err
	}
	u.outS, u.outZ, err = perTensorQuant(u.out, "output")
	return u, err
}

// perTensorQuant returns the scale and zero point of a per-tensor quantised
// tensor, or an error naming the tensor when the parameters are missing or
// unusable.
func perTensorQuant(t *Tensor, role string) (scale float32, zp int32, err error) {
	if t.Quant == nil || len(t.Quant.Scale) == 0 || len(t.ZeroPoint32) == 0 {
		return 0, 0, fmt.Errorf("%s %q is %s but has no quantisation parameters", role, t.Name, t.Type)
	}
	if len(t.Quant.Scale) != 1 || len(t.ZeroPoint32) != 1 {
		return 0, 0, fmt.Errorf("%s %q has %d scales; only per-tensor quantisation is supported here", role, t.Name, len(t.Quant.Scale))
	}
	scale, zp = t.Quant.Scale[0], t.ZeroPoint32[0]
	if !(scale > 0) || math.IsInf(float64(scale), 0) {
		return 0, 0, fmt.Errorf("%s %q has invalid scale %g", role, t.Name, scale)
	}
	lo, hi := int32(math.MinInt32), int32(math.MaxInt32)
	switch t.Type {
	case tfl.Int8:
		lo, hi = -128, 127
	case tfl.Uint8:
		lo, hi = 0, 255
	case tfl.Int16:
		lo, hi = -32768, 32767
	}
	if zp < lo || zp > hi {
		return 0, 0, fmt.Errorf("%s %q has zero point %d outside the %s range", role, t.Name, zp, t.Type)
	}
	return scale, zp, nil
}

// int16s views a tensor's data as int16 (the shared Tensor has no such view).
func int16s(t *Tensor) []int16 { return view[int16](t.Data) }

// uint16s views a tensor's data as raw 16-bit words (float16 tensors).
func uint16s(t *Tensor) []uint16 { return view[uint16](t.Data) }

// Every 8-bit to 8-bit unary operator here (LOGISTIC, TANH, the RELUs,
// LEAKY_RELU, HARD_SWISH, QUANTIZE between int8 and uint8) is a function of
// 256 possible input codes, so prepare evaluates the exact integer (or, for
// LOGISTIC and TANH, float) arithmetic of TFLite once per code and eval is a
// table lookup. The results are those of the per-element arithmetic by
// construction, and eval cannot fail or allocate.

// fillTable8 sets t[uint8(q)] = f(q) for every code q of the 8-bit type
// (int8 when signed, else uint8); f must return a code of the output type.
func fillTable8(t *[256]uint8, signed bool, f func(q int32) int32) {
	lo, hi := int32(0), int32(255)
	if signed {
		lo, hi = -128, 127
	}
	for q := lo; q <= hi; q++ {
		t[uint8(q)] = uint8(f(q))
	}
}

// lookup8 maps every byte of src through t into dst. The same loop serves
// int8 and uint8 tensors because tables are indexed by the raw byte.
func lookup8(t *[256]uint8, dst, src []byte) {
	dst = dst[:len(src)]
	for i, b := range src {
		dst[i] = t[b]
	}
}
