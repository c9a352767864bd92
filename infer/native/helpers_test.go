package native

import (
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// Test helpers shared by the kernel tests: build tensors by hand and run
// one kernel's prepare and eval without a model file.

// floatTensor makes a float32 tensor holding vals (constant when c).
func floatTensor(shape []int, vals []float32, c bool) *Tensor {
	t := &Tensor{Type: tfl.Float32, Shape: shape, Const: c}
	t.Data = alignedBytes(tfl.NumElements(shape) * 4)
	copy(t.Float32s(), vals)
	return t
}

// quantTensor makes an int8/uint8/int32 tensor with per-tensor or
// per-channel (len(scales) > 1, along dim) parameters.
func quantTensor(typ tfl.TensorType, shape []int, scales []float32, zps []int64, dim int, c bool) *Tensor {
	t := &Tensor{Type: typ, Shape: shape, Const: c,
		Quant: &tfl.Quantization{Scale: scales, ZeroPoint: zps, Dim: dim}}
	for _, z := range zps {
		t.ZeroPoint32 = append(t.ZeroPoint32, int32(z))
	}
	t.Data = alignedBytes(tfl.NumElements(shape) * typ.Size())
	return t
}

// emptyLike makes an output tensor of the given type and quantisation;
// prepare sets its shape and runKernel allocates its data.
func emptyOut(typ tfl.TensorType, scale float32, zp int64) *Tensor {
	t := &Tensor{Type: typ}
	if scale != 0 {
		t.Quant = &tfl.Quantization{Scale: []float32{scale}, ZeroPoint: []int64{zp}}
		t.ZeroPoint32 = []int32{int32(zp)}
	}
	return t
}

// runKernel builds, prepares and evaluates one operator.
func runKernel(tb testing.TB, nk newKernel, code tfl.BuiltinOp, opts any, threads int, in []*Tensor, out ...*Tensor) error {
	tb.Helper()
	n := &node{code: tfl.OperatorCode{Builtin: code}, opts: opts, in: in, out: out, threads: max(threads, 1)}
	k, err := nk(n)
	if err != nil {
		return err
	}
	if err := k.prepare(); err != nil {
		return err
	}
	for _, o := range out {
		if len(o.Data) != o.ByteSize() {
			o.Data = alignedBytes(o.ByteSize())
		}
	}
	n.scratch = alignedBytes(n.scratchSize)
	k.eval()
	return nil
}
