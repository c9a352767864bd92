package native

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// softmaxRef is the float64 softmax of one row.
func softmaxRef(row []float64, beta float64) []float64 {
	mx := math.Inf(-1)
	for _, v := range row {
		mx = max(mx, v)
	}
	out := make([]float64, len(row))
	sum := 0.0
	for i, v := range row {
		out[i] = math.Exp((v - mx) * beta)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

func TestSoftmaxFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 50 {
		rows, depth := 1+rng.IntN(4), 1+rng.IntN(30)
		beta := []float32{1, 0.5, 2, 0}[i%4]
		vals := make([]float32, rows*depth)
		for j := range vals {
			vals[j] = (rng.Float32()*2 - 1) * 20
		}
		in := floatTensor([]int{rows, depth}, vals, false)
		out := emptyOut(tfl.Float32, 0, 0)
		if err := runKernel(t, newSoftmax, tfl.OpSoftmax, &tfl.SoftmaxOptions{Beta: beta}, 1, []*Tensor{in}, out); err != nil {
			t.Fatal(err)
		}
		got := out.Float32s()
		for r := range rows {
			row := make([]float64, depth)
			for j := range row {
				row[j] = float64(vals[r*depth+j])
			}
			for j, want := range softmaxRef(row, float64(beta)) {
				if g := float64(got[r*depth+j]); math.Abs(g-want) > 1e-6*max(want, 1e-3) {
					t.Fatalf("case %d row %d: p[%d] = %g, want %g", i, r, j, g, want)
				}
			}
		}
	}
}

// TestSoftmaxQuantizedRandom compares with the float softmax of the
// dequantised input, rounded to the output grid: within one step.
func TestSoftmaxQuantizedRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, typ := range []tfl.TensorType{tfl.Uint8, tfl.Int8} {
		outZ := int32(0)
		if typ == tfl.Int8 {
			outZ = -128
		}
		for i := range 300 {
			rows, depth := 1+rng.IntN(4), 1+rng.IntN(40)
			inS, inZ := actRandParams(rng, typ, 0.5)
			beta := []float32{1, 0.7, 2}[i%3]
			in := quantTensor(typ, []int{rows, depth}, []float32{inS}, []int64{int64(inZ)}, 0, false)
			for j := range in.Data {
				in.Data[j] = byte(rng.IntN(256))
			}
			out := emptyOut(typ, 1.0/256, int64(outZ))
			name := fmt.Sprintf("%s #%d [%d %d] in(%g,%d) beta %g", typ, i, rows, depth, inS, inZ, beta)
			if err := runKernel(t, newSoftmax, tfl.OpSoftmax, &tfl.SoftmaxOptions{Beta: beta}, 1, []*Tensor{in}, out); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for r := range rows {
				row := make([]float64, depth)
				for j := range row {
					row[j] = float64(inS) * float64(actCode(in, r*depth+j)-inZ)
				}
				for j, p := range softmaxRef(row, float64(beta)) {
					got, want := actCode(out, r*depth+j), actIdeal(p, typ, 1.0/256, outZ)
					if d := got - want; d > 1 || d < -1 {
						t.Fatalf("%s: row %d p[%d]: got %d, want %d", name, r, j, got, want)
					}
				}
			}
		}
	}
}

// TestSoftmaxKnownValues: equal inputs give exactly 1/n, in every row of
// a batch, and a dominant input takes everything.
func TestSoftmaxKnownValues(t *testing.T) {
	tests := []struct {
		typ  tfl.TensorType
		outZ int32
		in   []int32 // two rows of 4
		want []int32
	}{
		{tfl.Uint8, 0, []int32{7, 7, 7, 7, 200, 200, 200, 200}, []int32{64, 64, 64, 64, 64, 64, 64, 64}},
		{tfl.Int8, -128, []int32{-5, -5, -5, -5, 100, 100, 100, 100}, []int32{-64, -64, -64, -64, -64, -64, -64, -64}},
		// Differences of 255 codes at scale 1: e^-255 is nothing.
		{tfl.Uint8, 0, []int32{255, 0, 0, 0, 0, 0, 0, 255}, []int32{255, 0, 0, 0, 0, 0, 0, 255}},
		{tfl.Int8, -128, []int32{127, -128, -128, -128, -128, -128, -128, 127}, []int32{127, -128, -128, -128, -128, -128, -128, 127}},
	}
	for _, tc := range tests {
		in := quantTensor(tc.typ, []int{2, 4}, []float32{1}, []int64{0}, 0, false)
		for i, v := range tc.in {
			in.Data[i] = byte(v)
		}
		out := emptyOut(tc.typ, 1.0/256, int64(tc.outZ))
		if err := runKernel(t, newSoftmax, tfl.OpSoftmax, &tfl.SoftmaxOptions{Beta: 1}, 1, []*Tensor{in}, out); err != nil {
			t.Fatal(err)
		}
		for i := range tc.in {
			if got := actCode(out, i); got != tc.want[i] {
				t.Errorf("%s %v: output %d = %d, want %d", tc.typ, tc.in, i, got, tc.want[i])
			}
		}
	}
	// Float: equal inputs, three rows.
	in := floatTensor([]int{3, 5}, []float32{1, 1, 1, 1, 1, -2, -2, -2, -2, -2, 9, 9, 9, 9, 9}, false)
	out := emptyOut(tfl.Float32, 0, 0)
	if err := runKernel(t, newSoftmax, tfl.OpSoftmax, &tfl.SoftmaxOptions{Beta: 1}, 1, []*Tensor{in}, out); err != nil {
		t.Fatal(err)
	}
	for i, p := range out.Float32s() {
		if p != 0.2 {
			t.Errorf("float equal inputs: p[%d] = %g, want 0.2", i, p)
		}
	}
}

func TestSoftmaxRejects(t *testing.T) {
	q := func(typ tfl.TensorType) *Tensor {
		return quantTensor(typ, []int{1, 4}, []float32{0.1}, []int64{0}, 0, false)
	}
	tests := []struct {
		name string
		in   *Tensor
		out  *Tensor
		want string
	}{
		{"int8 zp", q(tfl.Int8), emptyOut(tfl.Int8, 1.0/256, 0), "zero point -128"},
		{"int8 scale", q(tfl.Int8), emptyOut(tfl.Int8, 1.0/255, -128), "scale 1/256"},
		{"uint8 zp", q(tfl.Uint8), emptyOut(tfl.Uint8, 1.0/256, -128), "outside"},
		{"uint8 zp 128", q(tfl.Uint8), emptyOut(tfl.Uint8, 1.0/256, 128), "zero point 0"},
		{"scalar", &Tensor{Type: tfl.Float32, Data: alignedBytes(4)}, emptyOut(tfl.Float32, 0, 0), "scalar"},
		{"types", q(tfl.Int8), emptyOut(tfl.Float32, 0, 0), "input is int8 but output is float32"},
	}
	for _, tc := range tests {
		err := runKernel(t, newSoftmax, tfl.OpSoftmax, &tfl.SoftmaxOptions{Beta: 1}, 1, []*Tensor{tc.in}, tc.out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestSoftmaxResizeAndNoAlloc(t *testing.T) {
	for _, typ := range []tfl.TensorType{tfl.Float32, tfl.Int8, tfl.Uint8} {
		var in, out *Tensor
		if typ == tfl.Float32 {
			in, out = floatTensor([]int{1, 10}, nil, false), emptyOut(typ, 0, 0)
		} else {
			z := int64(0)
			if typ == tfl.Int8 {
				z = -128
			}
			in, out = quantTensor(typ, []int{1, 10}, []float32{0.1}, []int64{0}, 0, false), emptyOut(typ, 1.0/256, z)
		}
		n := &node{code: tfl.OperatorCode{Builtin: tfl.OpSoftmax}, opts: &tfl.SoftmaxOptions{Beta: 1}, in: []*Tensor{in}, out: []*Tensor{out}, threads: 1}
		k, err := newSoftmax(n)
		if err != nil {
			t.Fatal(err)
		}
		in.Shape = []int{5, 10}
		in.Data = alignedBytes(in.ByteSize())
		if err := k.prepare(); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(out.Shape) != "[5 10]" {
			t.Fatalf("%s: output shape %v, want [5 10]", typ, out.Shape)
		}
		out.Data = alignedBytes(out.ByteSize())
		if a := testing.AllocsPerRun(10, k.eval); a != 0 {
			t.Errorf("%s: eval allocates %v times", typ, a)
		}
	}
}
