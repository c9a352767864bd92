package native

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// Tests of the element-wise activations (LOGISTIC, TANH, RELU, RELU6,
// RELU_N1_TO_1, LEAKY_RELU, HARD_SWISH). Quantised kernels are checked on
// every input code at once (a [2, 128] tensor, so batch > 1 too) against
// the real function rounded to the output grid: TFLite's arithmetic may
// differ from exact rounding by one step, never more.

// actCodes returns every code of an 8-bit type, in a [2, 128] tensor.
func actCodes(typ tfl.TensorType, scale float32, zp int32) *Tensor {
	t := quantTensor(typ, []int{2, 128}, []float32{scale}, []int64{int64(zp)}, 0, false)
	for i := range 256 {
		if typ == tfl.Int8 {
			t.Data[i] = byte(int8(i - 128))
		} else {
			t.Data[i] = byte(i)
		}
	}
	return t
}

// actCode reads element i of an 8-bit tensor as an integer.
func actCode(t *Tensor, i int) int32 {
	if t.Type == tfl.Int8 {
		return int32(int8(t.Data[i]))
	}
	return int32(t.Data[i])
}

// actIdeal is the exactly rounded quantisation of real value v.
func actIdeal(v float64, typ tfl.TensorType, scale float32, zp int32) int32 {
	lo, hi := typeLimits(typ)
	q := math.Round(v/float64(scale)) + float64(zp)
	return int32(min(max(q, float64(lo)), float64(hi)))
}

// actRandParams picks a random scale and zero point for typ.
func actRandParams(rng *rand.Rand, typ tfl.TensorType, maxScale float64) (float32, int32) {
	scale := float32(maxScale * math.Pow(10, -2*rng.Float64()))
	zp := rng.Int32N(256)
	if typ == tfl.Int8 {
		zp -= 128
	}
	return scale, zp
}

type actOp struct {
	name string
	code tfl.BuiltinOp
	nk   newKernel
	opts any
	f    func(float64) float64
	// outParams fixes the output parameters the op needs, or returns ok
	// false to let the test pick them at random.
	outParams func(typ tfl.TensorType) (scale float32, zp int32, ok bool)
	tol       int32
}

func actOps() []actOp {
	sigmoidOut := func(typ tfl.TensorType) (float32, int32, bool) {
		if typ == tfl.Int8 {
			return 1.0 / 256, -128, true
		}
		return 1.0 / 256, 0, true
	}
	tanhOut := func(typ tfl.TensorType) (float32, int32, bool) {
		if typ == tfl.Int8 {
			return 1.0 / 128, 0, true
		}
		return 1.0 / 128, 128, true
	}
	free := func(tfl.TensorType) (float32, int32, bool) { return 0, 0, false }
	return []actOp{
		{"logistic", tfl.OpLogistic, newLogistic, nil, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, sigmoidOut, 1},
		{"tanh", tfl.OpTanh, newTanh, nil, math.Tanh, tanhOut, 1},
		{"relu", tfl.OpRelu, newRelu, nil, func(x float64) float64 { return max(x, 0) }, free, 1},
		{"relu6", tfl.OpRelu6, newRelu6, nil, func(x float64) float64 { return min(max(x, 0), 6) }, free, 1},
		{"relu_n1_to_1", tfl.OpReluN1To1, newReluN1To1, nil, func(x float64) float64 { return min(max(x, -1), 1) }, free, 1},
		{"leaky_relu 0.2", tfl.OpLeakyRelu, newLeakyRelu, &tfl.LeakyReluOptions{Alpha: 0.2},
			func(x float64) float64 { return map[bool]float64{true: x, false: x * float64(float32(0.2))}[x > 0] }, free, 1},
		{"leaky_relu 1.5", tfl.OpLeakyRelu, newLeakyRelu, &tfl.LeakyReluOptions{Alpha: 1.5},
			func(x float64) float64 { return map[bool]float64{true: x, false: x * 1.5}[x > 0] }, free, 1},
		{"hard_swish", tfl.OpHardSwish, newHardSwish, nil, func(x float64) float64 { return x * min(max(x+3, 0), 6) / 6 }, free, 1},
	}
}

func TestActivationsFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vals := []float32{-100, -8, -3, -1, -0.5, 0, 0.25, 1, 2.5, 3, 6, 7, 100}
	for range 40 {
		vals = append(vals, (rng.Float32()*2-1)*10)
	}
	for _, op := range actOps() {
		in := floatTensor([]int{1, len(vals)}, vals, false)
		out := emptyOut(tfl.Float32, 0, 0)
		if err := runKernel(t, op.nk, op.code, op.opts, 1, []*Tensor{in}, out); err != nil {
			t.Fatalf("%s: %v", op.name, err)
		}
		for i, x := range vals {
			got, want := float64(out.Float32s()[i]), op.f(float64(x))
			if math.Abs(got-want) > 1e-6*max(1, math.Abs(want)) {
				t.Errorf("%s(%g) = %g, want %g", op.name, x, got, want)
			}
		}
	}
}

func TestActivationsQuantizedRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, op := range actOps() {
		for _, typ := range []tfl.TensorType{tfl.Uint8, tfl.Int8} {
			for i := range 60 {
				inS, inZ := actRandParams(rng, typ, 0.1)
				outS, outZ, fixed := op.outParams(typ)
				if !fixed {
					outS, outZ = actRandParams(rng, typ, 0.1)
					if op.code == tfl.OpHardSwish {
						// TFLite needs outScale >= inScale/128.
						outS = max(outS, inS/100)
					}
				}
				in := actCodes(typ, inS, inZ)
				out := emptyOut(typ, outS, int64(outZ))
				name := fmt.Sprintf("%s %s #%d in(%g,%d) out(%g,%d)", op.name, typ, i, inS, inZ, outS, outZ)
				if err := runKernel(t, op.nk, op.code, op.opts, 1, []*Tensor{in}, out); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if fmt.Sprint(out.Shape) != "[2 128]" {
					t.Fatalf("%s: output shape %v, want [2 128]", name, out.Shape)
				}
				for j := range 256 {
					q := actCode(in, j)
					real := float64(inS) * float64(q-inZ)
					got, want := actCode(out, j), actIdeal(op.f(real), typ, outS, outZ)
					if d := got - want; d > op.tol || d < -op.tol {
						t.Fatalf("%s: code %d (%g): got %d, want %d", name, q, real, got, want)
					}
				}
			}
		}
	}
}

// TestActivationsKnownValues pins exact codes.
func TestActivationsKnownValues(t *testing.T) {
	tests := []struct {
		name     string
		op       tfl.BuiltinOp
		nk       newKernel
		opts     any
		typ      tfl.TensorType
		inS      float32
		inZ      int32
		outS     float32
		outZ     int32
		in, want []int32
	}{
		// logistic(0) = 0.5 = 128/256.
		{"logistic int8", tfl.OpLogistic, newLogistic, nil, tfl.Int8, 0.1, 3, 1.0 / 256, -128, []int32{3, -128, 127}, []int32{0, -128, 127}},
		{"logistic uint8", tfl.OpLogistic, newLogistic, nil, tfl.Uint8, 0.1, 128, 1.0 / 256, 0, []int32{128, 0, 255}, []int32{128, 0, 255}},
		// tanh(0) = 0; tanh(±12.8) saturates.
		{"tanh int8", tfl.OpTanh, newTanh, nil, tfl.Int8, 0.1, 0, 1.0 / 128, 0, []int32{0, -128, 127}, []int32{0, -128, 127}},
		{"tanh uint8", tfl.OpTanh, newTanh, nil, tfl.Uint8, 0.1, 128, 1.0 / 128, 128, []int32{128, 0, 255}, []int32{128, 0, 255}},
		// Same parameters: RELU is a clamp at the zero point.
		{"relu int8", tfl.OpRelu, newRelu, nil, tfl.Int8, 0.5, -10, 0.5, -10, []int32{-128, -11, -10, -9, 127}, []int32{-10, -10, -10, -9, 127}},
		// RELU6 at scale 0.5, zp 0: 6 is code 12.
		{"relu6 uint8", tfl.OpRelu6, newRelu6, nil, tfl.Uint8, 0.5, 0, 0.5, 0, []int32{0, 5, 12, 13, 255}, []int32{0, 5, 12, 12, 12}},
		{"relu_n1_to_1 int8", tfl.OpReluN1To1, newReluN1To1, nil, tfl.Int8, 0.25, 0, 0.25, 0, []int32{-128, -5, -4, 3, 4, 5}, []int32{-4, -4, -4, 3, 4, 4}},
		// Rescale by 2 on the way: (q - 0) * 0.5 / 0.25.
		{"relu rescale", tfl.OpRelu, newRelu, nil, tfl.Int8, 0.5, 0, 0.25, 0, []int32{-3, 0, 3, 63, 64}, []int32{0, 0, 6, 126, 127}},
		// -1.5 becomes -1: gemmlowp's rounding high multiply rounds
		// negative ties toward zero.
		{"leaky_relu int8", tfl.OpLeakyRelu, newLeakyRelu, &tfl.LeakyReluOptions{Alpha: 0.5}, tfl.Int8, 1, 0, 1, 0, []int32{-128, -3, -2, 0, 5}, []int32{-64, -1, -1, 0, 5}},
		// hard_swish(0) = 0, hard_swish(-3) = 0, hard_swish(3) = 3.
		{"hard_swish int8", tfl.OpHardSwish, newHardSwish, nil, tfl.Int8, 0.125, 0, 0.125, 0, []int32{0, -24, 24, -128}, []int32{0, 0, 24, 0}},
	}
	for _, tc := range tests {
		in := quantTensor(tc.typ, []int{len(tc.in)}, []float32{tc.inS}, []int64{int64(tc.inZ)}, 0, false)
		for i, v := range tc.in {
			in.Data[i] = byte(v)
		}
		out := emptyOut(tc.typ, tc.outS, int64(tc.outZ))
		if err := runKernel(t, tc.nk, tc.op, tc.opts, 1, []*Tensor{in}, out); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for i := range tc.in {
			if got := actCode(out, i); got != tc.want[i] {
				t.Errorf("%s: input %d: got %d, want %d", tc.name, tc.in[i], got, tc.want[i])
			}
		}
	}
}

func TestActivationsRejects(t *testing.T) {
	q := func(typ tfl.TensorType, s float32, z int32) *Tensor {
		return quantTensor(typ, []int{4}, []float32{s}, []int64{int64(z)}, 0, false)
	}
	tests := []struct {
		name string
		nk   newKernel
		opts any
		in   *Tensor
		out  *Tensor
		want string
	}{
		{"type mismatch", newRelu, nil, q(tfl.Int8, 1, 0), emptyOut(tfl.Uint8, 1, 0), "input is int8 but output is uint8"},
		{"int32", newTanh, nil, quantTensor(tfl.Int32, []int{4}, []float32{1}, []int64{0}, 0, false), emptyOut(tfl.Int32, 1, 0), "not supported"},
		{"no quant", newLogistic, nil, q(tfl.Int8, 1, 0), emptyOut(tfl.Int8, 0, 0), "no quantisation parameters"},
		{"logistic scale", newLogistic, nil, q(tfl.Int8, 1, 0), emptyOut(tfl.Int8, 1.0/128, -128), "scale 1/256"},
		{"logistic zp", newLogistic, nil, q(tfl.Uint8, 1, 0), emptyOut(tfl.Uint8, 1.0/256, 128), "zero point 0"},
		{"bad zp", newRelu, nil, q(tfl.Uint8, 1, 300), emptyOut(tfl.Uint8, 1, 0), "outside"},
		{"bad scale", newRelu6, nil, q(tfl.Int8, -1, 0), emptyOut(tfl.Int8, 1, 0), "invalid scale"},
		{"hard swish scale", newHardSwish, nil, q(tfl.Int8, 1, 0), emptyOut(tfl.Int8, 1.0/1024, 0), "too small"},
		{"leaky no options", newLeakyRelu, nil, q(tfl.Int8, 1, 0), emptyOut(tfl.Int8, 1, 0), "LeakyReluOptions"},
	}
	for _, tc := range tests {
		err := runKernel(t, tc.nk, 0, tc.opts, 1, []*Tensor{tc.in}, tc.out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// TestActivationsResizeAndNoAlloc: prepare follows a resized input, and
// eval allocates nothing.
func TestActivationsResizeAndNoAlloc(t *testing.T) {
	for _, op := range actOps() {
		for _, typ := range []tfl.TensorType{tfl.Float32, tfl.Int8, tfl.Uint8} {
			var in, out *Tensor
			if typ == tfl.Float32 {
				in, out = floatTensor([]int{1, 8}, nil, false), emptyOut(typ, 0, 0)
			} else {
				s, z, ok := op.outParams(typ)
				if !ok {
					s, z = 0.05, 0
				}
				in, out = actCodes(typ, 0.05, 0), emptyOut(typ, s, int64(z))
				in.Shape = []int{1, 8}
			}
			n := &node{code: tfl.OperatorCode{Builtin: op.code}, opts: op.opts, in: []*Tensor{in}, out: []*Tensor{out}, threads: 1}
			k, err := op.nk(n)
			if err != nil {
				t.Fatal(err)
			}
			if err := k.prepare(); err != nil {
				t.Fatalf("%s %s: %v", op.name, typ, err)
			}
			in.Shape = []int{4, 8}
			in.Data = alignedBytes(in.ByteSize())
			if err := k.prepare(); err != nil {
				t.Fatalf("%s %s resized: %v", op.name, typ, err)
			}
			if fmt.Sprint(out.Shape) != "[4 8]" {
				t.Fatalf("%s %s: output shape %v after resize, want [4 8]", op.name, typ, out.Shape)
			}
			out.Data = alignedBytes(out.ByteSize())
			if a := testing.AllocsPerRun(10, k.eval); a != 0 {
				t.Errorf("%s %s: eval allocates %v times", op.name, typ, a)
			}
		}
	}
}
