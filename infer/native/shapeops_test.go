package native

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// Tests of PAD, PADV2, TRANSPOSE and SQUEEZE against naive index
// arithmetic.

func int32Const(shape []int, v ...int32) *Tensor {
	t := &Tensor{Type: tfl.Int32, Shape: shape, Const: true, Data: alignedBytes(4 * len(v))}
	copy(t.Int32s(), v)
	return t
}

func unravel(shape []int, i int) []int {
	idx := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		idx[d] = i % shape[d]
		i /= shape[d]
	}
	return idx
}

func ravel(shape, idx []int) int {
	o := 0
	for d, n := range shape {
		o = o*n + idx[d]
	}
	return o
}

func TestPadProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for trial := range 60 {
		rank := 1 + r.IntN(maxRank)
		shape := make([]int, rank)
		pads := make([]int32, 2*rank)
		for d := range rank {
			shape[d] = 1 + r.IntN(3)
			if r.IntN(2) == 0 {
				pads[2*d], pads[2*d+1] = int32(r.IntN(3)), int32(r.IntN(3))
			}
		}
		typ := []tfl.TensorType{tfl.Float32, tfl.Uint8, tfl.Int8, tfl.Int32}[trial%4]
		var in, out *Tensor
		switch typ {
		case tfl.Uint8, tfl.Int8:
			q := randQuant(r, typ, -3, 3)
			in = q.tensor(r, shape, false)
			out = emptyOut(typ, q.scale, q.zp)
		default:
			in = &Tensor{Type: typ, Shape: shape, Data: alignedBytes(4 * tfl.NumElements(shape))}
			for i := range in.Data {
				in.Data[i] = byte(r.IntN(256))
			}
			out = emptyOut(typ, 0, 0)
		}
		if err := runKernel(t, newPad, tfl.OpPad, nil, 1, []*Tensor{in, int32Const([]int{rank, 2}, pads...)}, out); err != nil {
			t.Fatalf("%v pads %v: %v", shape, pads, err)
		}
		es := typ.Size()
		var fill []byte
		if typ == tfl.Uint8 || typ == tfl.Int8 {
			fill = []byte{byte(out.ZeroPoint())}
		} else {
			fill = make([]byte, es)
		}
		for o := range out.NumElements() {
			idx := unravel(out.Shape, o)
			inside := true
			for d := range rank {
				idx[d] -= int(pads[2*d])
				inside = inside && idx[d] >= 0 && idx[d] < shape[d]
			}
			want := fill
			if inside {
				i := ravel(shape, idx)
				want = in.Data[i*es : (i+1)*es]
			}
			if got := out.Data[o*es : (o+1)*es]; !slices.Equal(got, want) {
				t.Fatalf("%s %v pads %v: out[%d] = %v, want %v", typ, shape, pads, o, got, want)
			}
		}
	}
}

func TestPadV2ConstantAndErrors(t *testing.T) {
	in := floatTensor([]int{2}, []float32{1, 2}, false)
	c := floatTensor([]int{}, []float32{-7}, true)
	out := emptyOut(tfl.Float32, 0, 0)
	if err := runKernel(t, newPad, tfl.OpPadV2, nil, 1, []*Tensor{in, int32Const([]int{1, 2}, 1, 2), c}, out); err != nil {
		t.Fatal(err)
	}
	if want := []float32{-7, 1, 2, -7, -7}; !slices.Equal(out.Float32s(), want) {
		t.Errorf("PADV2: got %v, want %v", out.Float32s(), want)
	}
	nonConst := int32Const([]int{1, 2}, 1, 1)
	nonConst.Const = false
	for _, tc := range []struct {
		name string
		in   []*Tensor
	}{
		{"negative padding", []*Tensor{in, int32Const([]int{1, 2}, -1, 0)}},
		{"wrong paddings shape", []*Tensor{in, int32Const([]int{2, 2}, 0, 0, 0, 0)}},
		{"non-constant paddings", []*Tensor{in, nonConst}},
		{"PAD with constant_values", []*Tensor{in, int32Const([]int{1, 2}, 1, 1), c}},
	} {
		if err := runKernel(t, newPad, tfl.OpPad, nil, 1, tc.in, emptyOut(tfl.Float32, 0, 0)); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestTransposeProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for trial := range 80 {
		rank := 1 + r.IntN(maxRank)
		shape := make([]int, rank)
		for d := range shape {
			shape[d] = 1 + r.IntN(4)
		}
		perm := r.Perm(rank)
		if trial%10 == 0 {
			perm = slices.Sorted(slices.Values(perm)) // identity: one copy
		}
		p32 := make([]int32, rank)
		for i, v := range perm {
			p32[i] = int32(v)
		}
		typ := []tfl.TensorType{tfl.Float32, tfl.Int8, tfl.Int64}[trial%3]
		in := &Tensor{Type: typ, Shape: shape, Data: alignedBytes(typ.Size() * tfl.NumElements(shape))}
		if typ == tfl.Int8 {
			in.Quant = &tfl.Quantization{Scale: []float32{0.5}, ZeroPoint: []int64{3}}
			in.ZeroPoint32 = []int32{3}
		}
		for i := range in.Data {
			in.Data[i] = byte(r.IntN(256))
		}
		out := emptyOut(typ, 0, 0)
		if typ == tfl.Int8 {
			out = emptyOut(typ, 0.5, 3)
		}
		if err := runKernel(t, newTranspose, tfl.OpTranspose, nil, 1, []*Tensor{in, int32Const([]int{rank}, p32...)}, out); err != nil {
			t.Fatalf("%v perm %v: %v", shape, perm, err)
		}
		es := typ.Size()
		for o := range out.NumElements() {
			oi := unravel(out.Shape, o)
			ii := make([]int, rank)
			for k, d := range perm {
				ii[d] = oi[k]
			}
			i := ravel(shape, ii)
			if got, want := out.Data[o*es:(o+1)*es], in.Data[i*es:(i+1)*es]; !slices.Equal(got, want) {
				t.Fatalf("%v perm %v: out[%d] = %v, want %v", shape, perm, o, got, want)
			}
		}
	}
}

func TestTransposeErrors(t *testing.T) {
	in := floatTensor([]int{2, 3}, nil, false)
	for _, perm := range [][]int32{{0, 0}, {0, 2}, {-1, 0}, {0}} {
		if err := runKernel(t, newTranspose, tfl.OpTranspose, nil, 1, []*Tensor{in, int32Const([]int{len(perm)}, perm...)}, emptyOut(tfl.Float32, 0, 0)); err == nil {
			t.Errorf("perm %v: no error", perm)
		}
	}
}

func TestSqueeze(t *testing.T) {
	for _, tc := range []struct {
		in   []int
		dims []int
		want []int
		ok   bool
	}{
		{[]int{1, 1, 1, 1001}, []int{1, 2}, []int{1, 1001}, true},
		{[]int{4, 1, 1, 1001}, []int{-3, -2}, []int{4, 1001}, true},
		{[]int{1, 3, 1}, nil, []int{3}, true},
		{[]int{2, 3, 1}, nil, []int{2, 3}, true},
		{[]int{1, 1}, nil, []int{}, true},
		{[]int{2, 3}, []int{0}, nil, false},
		{[]int{1, 3}, []int{2}, nil, false},
	} {
		n := tfl.NumElements(tc.in)
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i)
		}
		in := floatTensor(tc.in, v, false)
		out := emptyOut(tfl.Float32, 0, 0)
		err := runKernel(t, newSqueeze, tfl.OpSqueeze, &tfl.SqueezeOptions{SqueezeDims: tc.dims}, 1, []*Tensor{in}, out)
		if (err == nil) != tc.ok {
			t.Errorf("%v dims %v: error %v, want ok=%v", tc.in, tc.dims, err, tc.ok)
			continue
		}
		if tc.ok && (!slices.Equal(out.Shape, tc.want) || !slices.Equal(out.Float32s(), v)) {
			t.Errorf("%v dims %v: got %v, want %v", tc.in, tc.dims, out.Shape, tc.want)
		}
	}
}
