package native

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/testdata"
	"github.com/fruitcam/fruitcam/internal/tfliteref"
)

// Tests of PRELU. The float kernel is checked exactly against a loop that
// broadcasts by explicit indices; the 8-bit kernels within one step of the
// exactly rounded real result, and bit for bit against the real
// TensorFlow Lite 2.9 runtime on one-operator models.

// preluShapes are input and alpha shapes TFLite broadcasts: Keras PReLU's
// per-channel [1, 1, C] (shared_axes [1, 2]), one alpha for everything,
// alpha over rows, over a middle axis, over everything, and a dense layer's
// [units].
var preluShapes = []struct{ x, alpha []int }{
	{[]int{2, 3, 4, 5}, []int{1, 1, 5}},
	{[]int{2, 3, 4, 5}, []int{1, 1, 1}},
	{[]int{2, 3, 4, 5}, []int{1}},
	{[]int{2, 3, 4, 5}, []int{5}},
	{[]int{2, 3, 4, 5}, []int{3, 1, 5}},
	{[]int{2, 3, 4, 5}, []int{1, 3, 1, 1}},
	{[]int{2, 3, 4, 5}, []int{2, 3, 4, 5}},
	{[]int{2, 7}, []int{7}},
	{[]int{1, 2, 3, 2, 4}, []int{1, 2, 3, 2, 4}}, // rank 5 without broadcasting
}

// broadcastIndex is the element of a tensor of shape s that output index
// out (of the output shape o, s broadcast to o) reads.
func broadcastIndex(o, s []int, out int) int {
	idx, stride := 0, 1
	for d := len(o) - 1; d >= 0; d-- {
		c := out % o[d]
		out /= o[d]
		k := d - (len(o) - len(s))
		if k < 0 {
			continue
		}
		if s[k] != 1 {
			idx += c * stride
		}
		stride *= s[k]
	}
	return idx
}

// preluRef is PRELU in float64 on real values.
func preluRef(x, a float64) float64 {
	if x >= 0 {
		return x
	}
	return x * a
}

func TestPreluFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, s := range preluShapes {
		name := fmt.Sprintf("%v by %v", s.x, s.alpha)
		xs := preluFloats(rng, tfl.NumElements(s.x), -4, 4)
		xs[0], xs[1] = 0, float32(math.Copysign(0, -1))
		as := preluFloats(rng, tfl.NumElements(s.alpha), -1, 2)
		x := floatTensor(s.x, xs, false)
		alpha := floatTensor(s.alpha, as, true)
		out := emptyOut(tfl.Float32, 0, 0)
		if err := runKernel(t, newPrelu, tfl.OpPrelu, nil, 1, []*Tensor{x, alpha}, out); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(out.Shape, s.x) {
			t.Fatalf("%s: output shape %v, want %v", name, out.Shape, s.x)
		}
		for i, v := range xs {
			a := as[broadcastIndex(s.x, s.alpha, i)]
			want := v
			if !(v >= 0) {
				want = v * a
			}
			if got := out.Float32s()[i]; math.Float32bits(got) != math.Float32bits(want) {
				t.Fatalf("%s: element %d: prelu(%g, %g) = %g, want %g", name, i, v, a, got, want)
			}
		}
	}
}

func TestPreluQuantized(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, typ := range []tfl.TensorType{tfl.Int8, tfl.Uint8} {
		for _, s := range preluShapes {
			for trial := range 8 {
				c := randomPreluCase(rng, typ, s.x, s.alpha)
				name := fmt.Sprintf("%s %v by %v #%d", typ, s.x, s.alpha, trial)
				out := emptyOut(typ, c.outS, int64(c.outZ))
				if err := runKernel(t, newPrelu, tfl.OpPrelu, nil, 1, []*Tensor{c.x, c.alpha}, out); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				for i := range tfl.NumElements(s.x) {
					q, a := actCode(c.x, i), actCode(c.alpha, broadcastIndex(s.x, s.alpha, i))
					real := preluRef(float64(c.inS)*float64(q-c.inZ), float64(c.aS)*float64(a-c.aZ))
					got, want := actCode(out, i), actIdeal(real, typ, c.outS, c.outZ)
					if d := got - want; d > 1 || d < -1 {
						t.Fatalf("%s: element %d: codes (%d, %d) -> %d, want %d (real %g)", name, i, q, a, got, want, real)
					}
				}
			}
		}
	}
}

// TestPreluTableMatchesArithmetic runs every quantised case with alpha
// constant (lookup tables) and computed at run time (per-element
// arithmetic) and wants the same bytes.
func TestPreluTableMatchesArithmetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, typ := range []tfl.TensorType{tfl.Int8, tfl.Uint8} {
		for _, s := range preluShapes {
			for trial := range 4 {
				c := randomPreluCase(rng, typ, s.x, s.alpha)
				var outs [2][]byte
				for k, constant := range []bool{true, false} {
					c.alpha.Const = constant
					out := emptyOut(typ, c.outS, int64(c.outZ))
					if err := runKernel(t, newPrelu, tfl.OpPrelu, nil, 1, []*Tensor{c.x, c.alpha}, out); err != nil {
						t.Fatal(err)
					}
					outs[k] = out.Data
				}
				if !bytes.Equal(outs[0], outs[1]) {
					t.Fatalf("%s %v by %v #%d: table %v, arithmetic %v", typ, s.x, s.alpha, trial, head(outs[0]), head(outs[1]))
				}
			}
		}
	}
}

// preluCase is a quantised PRELU's input and alpha with random codes and
// parameters, and random output parameters.
type preluCase struct {
	x, alpha        *Tensor
	inS, aS, outS   float32
	inZ, aZ, outZ   int32
	inCodes, aCodes []byte
}

func randomPreluCase(rng *rand.Rand, typ tfl.TensorType, xShape, aShape []int) preluCase {
	var c preluCase
	c.inS, c.inZ = actRandParams(rng, typ, 0.1)
	c.aS, c.aZ = actRandParams(rng, typ, 0.02)
	c.outS, c.outZ = actRandParams(rng, typ, 0.1)
	c.x = quantTensor(typ, xShape, []float32{c.inS}, []int64{int64(c.inZ)}, 0, false)
	c.alpha = quantTensor(typ, aShape, []float32{c.aS}, []int64{int64(c.aZ)}, 0, true)
	for _, t := range []*Tensor{c.x, c.alpha} {
		for i := range t.Data {
			t.Data[i] = byte(rng.IntN(256))
		}
	}
	c.inCodes, c.aCodes = bytes.Clone(c.x.Data), bytes.Clone(c.alpha.Data)
	return c
}

func preluFloats(rng *rand.Rand, n int, lo, hi float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = lo + (hi-lo)*rng.Float32()
	}
	return v
}

func TestPreluRefusals(t *testing.T) {
	f := func(shape ...int) *Tensor { return floatTensor(shape, nil, false) }
	q := func(typ tfl.TensorType, shape ...int) *Tensor {
		return quantTensor(typ, shape, []float32{0.1}, []int64{0}, 0, false)
	}
	noQuant := &Tensor{Type: tfl.Int8, Shape: []int{4}, Data: make([]byte, 4)}
	tests := []struct {
		name   string
		in     []*Tensor
		outTyp tfl.TensorType
		want   string
	}{
		{"one input", []*Tensor{f(2, 4)}, tfl.Float32, "needs 2 inputs"},
		{"alpha type", []*Tensor{f(2, 4), q(tfl.Int8, 4)}, tfl.Float32, "must have one type"},
		{"int32", []*Tensor{{Type: tfl.Int32, Shape: []int{4}, Data: make([]byte, 16)}, {Type: tfl.Int32, Shape: []int{4}, Data: make([]byte, 16)}}, tfl.Int32, "not supported"},
		{"incompatible alpha", []*Tensor{f(2, 4), f(3)}, tfl.Float32, "cannot be broadcast"},
		{"alpha widens the input", []*Tensor{f(1, 4), f(3, 1)}, tfl.Float32, "may only repeat"},
		{"alpha of higher rank", []*Tensor{f(4), f(1, 4)}, tfl.Float32, "may only repeat"},
		{"rank 5 broadcast", []*Tensor{f(1, 2, 2, 2, 3), f(3)}, tfl.Float32, "up to rank 4"},
		{"alpha without parameters", []*Tensor{q(tfl.Int8, 4), noQuant}, tfl.Int8, "no quantisation parameters"},
	}
	for _, tc := range tests {
		out := emptyOut(tc.outTyp, 0, 0)
		if tc.outTyp == tfl.Int8 {
			out = emptyOut(tc.outTyp, 0.1, 0)
		}
		err := runKernel(t, newPrelu, tfl.OpPrelu, nil, 1, tc.in, out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// TestPreluEvalAllocates nothing: eval runs per frame.
func TestPreluEvalAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, tc := range []struct {
		typ      tfl.TensorType
		constant bool
	}{{tfl.Float32, true}, {tfl.Int8, true}, {tfl.Int8, false}} {
		typ := tc.typ
		var x, alpha, out *Tensor
		if typ == tfl.Float32 {
			x = floatTensor([]int{1, 4, 4, 8}, preluFloats(rng, 128, -1, 1), false)
			alpha = floatTensor([]int{1, 1, 8}, preluFloats(rng, 8, 0, 1), true)
			out = emptyOut(typ, 0, 0)
		} else {
			c := randomPreluCase(rng, typ, []int{1, 4, 4, 8}, []int{1, 1, 8})
			x, alpha, out = c.x, c.alpha, emptyOut(typ, c.outS, int64(c.outZ))
			alpha.Const = tc.constant
		}
		n := &node{code: tfl.OperatorCode{Builtin: tfl.OpPrelu}, in: []*Tensor{x, alpha}, out: []*Tensor{out}, threads: 1}
		k, _ := newPrelu(n)
		if err := k.prepare(); err != nil {
			t.Fatal(err)
		}
		out.Data = alignedBytes(out.ByteSize())
		if a := testing.AllocsPerRun(20, k.eval); a != 0 {
			t.Errorf("%s (constant alpha %v): eval allocates %.0f times", typ, tc.constant, a)
		}
	}
}

// preluModel is a one-operator PRELU model: input x, alpha a constant
// (or, with alphaInput, a second model input), version 1, the only
// version TensorFlow Lite 2.9 registers (register.cc; op_version.cc gives
// PRELU no other).
func preluModel(typ tfl.TensorType, xShape, aShape []int, alphaData []byte, xq, aq, oq *tfl.Quantization, alphaInput bool) *tfl.Model {
	m := &tfl.Model{Version: 3, Buffers: [][]byte{nil},
		OperatorCodes: []tfl.OperatorCode{{Builtin: tfl.OpPrelu, Version: 1}}}
	alphaBuf := 0
	if !alphaInput {
		m.Buffers = append(m.Buffers, alphaData)
		alphaBuf = 1
	}
	sg := tfl.Subgraph{Name: "main",
		Tensors: []tfl.Tensor{
			{Name: "x", Type: typ, Shape: xShape, Quant: xq},
			{Name: "alpha", Type: typ, Shape: aShape, Quant: aq, Buffer: alphaBuf},
			{Name: "y", Type: typ, Shape: xShape, Quant: oq},
		},
		Inputs:    []int{0},
		Outputs:   []int{2},
		Operators: []tfl.Operator{{OpcodeIndex: 0, Inputs: []int{0, 1}, Outputs: []int{2}}},
	}
	if alphaInput {
		sg.Inputs = []int{0, 1}
	}
	m.Subgraphs = []tfl.Subgraph{sg}
	return m
}

func perTensorQ(s float32, z int32) *tfl.Quantization {
	return &tfl.Quantization{Scale: []float32{s}, ZeroPoint: []int64{int64(z)}}
}

// TestPreluMatchesTFLite runs one-operator PRELU models in the real
// TensorFlow Lite runtime and in the native engine (after tfl.Write and
// tfl.Parse) and wants the same bytes: float32 products are exact IEEE
// operations, and the 8-bit kernels follow TFLite's integer arithmetic.
func TestPreluMatchesTFLite(t *testing.T) {
	crun, err := tfliteref.CRunPath()
	if err != nil {
		testdata.Missing(t, err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	trials := 3
	if testing.Short() {
		trials = 1
	}
	checked := 0
	for _, typ := range []tfl.TensorType{tfl.Float32, tfl.Int8, tfl.Uint8} {
		for si, s := range preluShapes {
			for trial := range trials {
				alphaInput := si%3 == 0 && trial == 0
				name := fmt.Sprintf("%s %v by %v #%d (alpha input %v)", typ, s.x, s.alpha, trial, alphaInput)
				var m *tfl.Model
				var xData, aData []byte
				if typ == tfl.Float32 {
					xs := preluFloats(rng, tfl.NumElements(s.x), -4, 4)
					as := preluFloats(rng, tfl.NumElements(s.alpha), -1, 2)
					xData, aData = tfliteref.Float32Bytes(xs), tfliteref.Float32Bytes(as)
					m = preluModel(typ, s.x, s.alpha, aData, nil, nil, nil, alphaInput)
				} else {
					c := randomPreluCase(rng, typ, s.x, s.alpha)
					xData, aData = c.inCodes, c.aCodes
					m = preluModel(typ, s.x, s.alpha, aData, perTensorQ(c.inS, c.inZ), perTensorQ(c.aS, c.aZ), perTensorQ(c.outS, c.outZ), alphaInput)
				}
				data, err := tfl.Write(m)
				if err != nil {
					t.Fatalf("%s: write: %v", name, err)
				}
				inputs := [][]byte{xData}
				if alphaInput {
					inputs = append(inputs, aData)
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				ref, err := tfliteref.RunCLI(ctx, crun, data, inputs, 0)
				cancel()
				if err != nil {
					t.Fatalf("%s: TensorFlow Lite: %v", name, err)
				}
				got := runNativeBytes(t, data, inputs)
				if len(ref) != 1 || !bytes.Equal(got, ref[0]) {
					t.Fatalf("%s: native and TensorFlow Lite differ:\n native %v\n tflite %v", name, head(got), head(ref[0]))
				}
				checked++
			}
		}
	}
	t.Logf("%d PRELU models bit-identical in the native engine and TensorFlow Lite 2.9", checked)
}

// runNativeBytes parses model bytes, fills every input with raw bytes,
// invokes the native engine once and returns output 0's bytes.
func runNativeBytes(t *testing.T, data []byte, inputs [][]byte) []byte {
	t.Helper()
	m, err := tfl.Parse(data)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	it, err := New(m, Options{})
	if err != nil {
		t.Fatalf("native engine refuses the model: %v", err)
	}
	for i, in := range it.Inputs() {
		if len(in.Data) != len(inputs[i]) {
			t.Fatalf("input %d holds %d bytes, got %d", i, len(in.Data), len(inputs[i]))
		}
		copy(in.Data, inputs[i])
	}
	if err := it.Invoke(); err != nil {
		t.Fatalf("invoke: %v", err)
	}
	return bytes.Clone(it.Outputs()[0].Data)
}

func head(b []byte) []byte { return b[:min(len(b), 24)] }
