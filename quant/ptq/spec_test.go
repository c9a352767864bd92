package ptq

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/tfliteref"
)

// tfliteRun runs model on a batch of n inputs in the real runtime.
func tfliteRun(crun string, model, batch []byte, n int) ([][]byte, error) {
	return tfliteref.RunCLI(context.Background(), crun, model, [][]byte{batch}, n)
}

// wantVersions are the operator versions TensorFlow's converter writes for
// int8 operators (tools/versioning/op_version.cc), for the cases the
// tests build; the twins test checks the common ones against real files.
var wantVersions = map[tfl.BuiltinOp][]int32{
	tfl.OpConv2D: {3}, tfl.OpDepthwiseConv: {3}, tfl.OpFullyConnected: {4, 6},
	tfl.OpAdd: {2}, tfl.OpSub: {2}, tfl.OpMul: {2, 3}, tfl.OpMean: {2},
	tfl.OpMaxPool2D: {2}, tfl.OpAveragePool2D: {2}, tfl.OpConcatenation: {2},
	tfl.OpSoftmax: {2}, tfl.OpLogistic: {2}, tfl.OpTanh: {2},
	tfl.OpRelu: {2}, tfl.OpRelu6: {2}, tfl.OpReluN1To1: {1}, tfl.OpLeakyRelu: {1}, tfl.OpHardSwish: {1},
	tfl.OpPad: {2}, tfl.OpTranspose: {2}, tfl.OpReshape: {1}, tfl.OpSqueeze: {1}, tfl.OpQuantize: {1},
}

// checkSpec checks a quantised model against the TFLite quantisation
// specification, independently of how the quantiser reached it.
func checkSpec(t *testing.T, m *tfl.Model) {
	t.Helper()
	sg := &m.Subgraphs[0]
	ts := sg.Tensors
	isConst := func(i int) bool { return len(m.Buffer(ts[i].Buffer)) > 0 }
	perTensor := func(i int) (float32, int64) {
		q := ts[i].Quant
		if q == nil || len(q.Scale) != 1 || len(q.ZeroPoint) != 1 || q.Scale[0] <= 0 {
			t.Fatalf("tensor %q: quantisation %+v, want one positive scale", ts[i].Name, q)
		}
		return q.Scale[0], q.ZeroPoint[0]
	}
	same := func(op int, a, b int) {
		sa, za := perTensor(a)
		sb, zb := perTensor(b)
		if sa != sb || za != zb {
			t.Errorf("operator %d: %q (%g, %d) and %q (%g, %d) must share parameters", op, ts[a].Name, sa, za, ts[b].Name, sb, zb)
		}
	}
	fixed := func(op, ti int, s float32, z int64) {
		gs, gz := perTensor(ti)
		if gs != s || gz != z {
			t.Errorf("operator %d: output (%g, %d), want (%g, %d)", op, gs, gz, s, z)
		}
	}
	for _, c := range m.OperatorCodes {
		if !contains(wantVersions[c.Builtin], c.Version) {
			t.Errorf("%s has version %d, want one of %v", c.Name(), c.Version, wantVersions[c.Builtin])
		}
	}
	for i := range ts {
		if ts[i].ShapeSignature != nil {
			t.Errorf("tensor %q has a shape signature %v: the int8 model must have static shapes", ts[i].Name, ts[i].ShapeSignature)
		}
		if !isConst(i) && ts[i].Type != tfl.Int8 && ts[i].Type != tfl.Uint8 {
			t.Errorf("activation %q is %s", ts[i].Name, ts[i].Type)
		}
	}
	for k, op := range sg.Operators {
		code := m.OperatorCodes[op.OpcodeIndex].Builtin
		in, out := op.Inputs[0], op.Outputs[0]
		switch code {
		case tfl.OpConv2D, tfl.OpDepthwiseConv, tfl.OpFullyConnected:
			axis := map[tfl.BuiltinOp]int{tfl.OpConv2D: 0, tfl.OpDepthwiseConv: 3, tfl.OpFullyConnected: -1}[code]
			w := ts[op.Inputs[1]]
			q := w.Quant
			n := 1
			if axis >= 0 {
				n = w.Shape[axis]
				if q.Dim != axis {
					t.Errorf("operator %d: weights quantised along %d, want %d", k, q.Dim, axis)
				}
			}
			if w.Type != tfl.Int8 || len(q.Scale) != n {
				t.Fatalf("operator %d: weights %s with %d scales, want int8 with %d", k, w.Type, len(q.Scale), n)
			}
			for _, z := range q.ZeroPoint {
				if z != 0 {
					t.Errorf("operator %d: weight zero point %d, want 0", k, z)
				}
			}
			for _, b := range m.Buffer(w.Buffer) {
				if int8(b) == -128 {
					t.Errorf("operator %d: weight code -128 outside [-127, 127]", k)
					break
				}
			}
			sIn, _ := perTensor(in)
			if len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
				b := ts[op.Inputs[2]]
				if b.Type != tfl.Int32 || len(b.Quant.Scale) != n {
					t.Fatalf("operator %d: bias %s with %d scales", k, b.Type, len(b.Quant.Scale))
				}
				for c, s := range b.Quant.Scale {
					if want := sIn * q.Scale[c]; s != want || b.Quant.ZeroPoint[c] != 0 {
						t.Errorf("operator %d: bias scale %g zero point %d, want %g and 0", k, s, b.Quant.ZeroPoint[c], want)
					}
				}
			}
		case tfl.OpMaxPool2D, tfl.OpAveragePool2D, tfl.OpReshape, tfl.OpSqueeze, tfl.OpPad, tfl.OpTranspose:
			same(k, in, out)
		case tfl.OpConcatenation:
			for _, x := range op.Inputs {
				same(k, x, out)
			}
		case tfl.OpSoftmax, tfl.OpLogistic:
			fixed(k, out, 1.0/256, -128)
		case tfl.OpTanh:
			fixed(k, out, 1.0/128, 0)
		}
	}
	// Every value of an int32 bias fits: no saturation at ±(2³¹ − 1).
	for i := range ts {
		if ts[i].Type == tfl.Int32 && ts[i].Quant != nil && isConst(i) {
			b := m.Buffer(ts[i].Buffer)
			for k := 0; k+4 <= len(b); k += 4 {
				if v := int32(binary.LittleEndian.Uint32(b[k:])); v == 1<<31-1 || v == -(1<<31-1) {
					t.Errorf("bias %q saturates", ts[i].Name)
				}
			}
		}
	}
}

func contains(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
