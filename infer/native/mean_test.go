package native

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

func axesTensor(axes ...int32) *Tensor {
	t := &Tensor{Type: tfl.Int32, Shape: []int{len(axes)}, Const: true, Data: alignedBytes(4 * len(axes))}
	copy(t.Int32s(), axes)
	return t
}

// naiveMean averages in over the reduced dimensions for output element o.
func naiveMean(shape []int, reduced []bool, get func(i int) float64) []float64 {
	var outShape []int
	for d, n := range shape {
		if !reduced[d] {
			outShape = append(outShape, n)
		}
	}
	sums := make([]float64, tfl.NumElements(outShape))
	counts := make([]int, len(sums))
	idx := make([]int, len(shape))
	for i := range tfl.NumElements(shape) {
		rem := i
		for d := len(shape) - 1; d >= 0; d-- {
			idx[d] = rem % shape[d]
			rem /= shape[d]
		}
		o := 0
		for d, n := range shape {
			if !reduced[d] {
				o = o*n + idx[d]
			}
		}
		sums[o] += get(i)
		counts[o]++
	}
	for o := range sums {
		sums[o] /= float64(counts[o])
	}
	return sums
}

func TestMeanShapes(t *testing.T) {
	for _, tc := range []struct {
		in   []int
		axes []int32
		keep bool
		want []int
	}{
		{[]int{2, 7, 7, 8}, []int32{1, 2}, true, []int{2, 1, 1, 8}},
		{[]int{2, 7, 7, 8}, []int32{-3, -2}, false, []int{2, 8}},
		{[]int{2, 3, 4}, []int32{0, 2, 0}, false, []int{3}},
		{[]int{2, 3}, []int32{0, 1}, false, []int{}},
		{[]int{5}, []int32{0}, true, []int{1}},
	} {
		in := floatTensor(tc.in, nil, false)
		out := emptyOut(tfl.Float32, 0, 0)
		if err := runKernel(t, newMean, tfl.OpMean, &tfl.ReducerOptions{KeepDims: tc.keep}, 1, []*Tensor{in, axesTensor(tc.axes...)}, out); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(out.Shape, tc.want) {
			t.Errorf("%v axes %v keep %v: shape %v, want %v", tc.in, tc.axes, tc.keep, out.Shape, tc.want)
		}
	}
}

func TestMeanProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	cases := []struct {
		shape []int
		axes  []int32
		keep  bool
	}{
		{[]int{1, 7, 7, 16}, []int32{1, 2}, true},  // the fixed-point HW path
		{[]int{3, 5, 4, 9}, []int32{2, 1}, true},   // HW path, batch 3
		{[]int{2, 5, 4, 9}, []int32{1, 2}, false},  // same axes without keep_dims: reference path
		{[]int{2, 5, 4, 9}, []int32{-3, -2}, true}, // negative axes: reference path
		{[]int{2, 3, 4, 5, 6}, []int32{0, 3}, false},
		{[]int{4, 6}, []int32{1}, false},
		{[]int{4, 6}, []int32{0}, true},
	}
	for _, tc := range cases {
		r4 := len(tc.shape)
		reduced := make([]bool, r4)
		for _, a := range tc.axes {
			reduced[(int(a)+r4)%r4] = true
		}
		for _, typ := range []tfl.TensorType{tfl.Float32, tfl.Uint8, tfl.Int8} {
			for _, same := range []bool{true, false} {
				var in, out *Tensor
				if typ == tfl.Float32 {
					if !same {
						continue
					}
					in = floatTensor(tc.shape, randF32s(r, tfl.NumElements(tc.shape), -5, 5), false)
					out = emptyOut(typ, 0, 0)
				} else {
					qi := randQuant(r, typ, -4, 6)
					in = qi.tensor(r, tc.shape, false)
					qo := qi
					if !same {
						qo = randQuant(r, typ, -3, 5)
					}
					out = emptyOut(typ, qo.scale, qo.zp)
				}
				if err := runKernel(t, newMean, tfl.OpMean, &tfl.ReducerOptions{KeepDims: tc.keep}, 1, []*Tensor{in, axesTensor(tc.axes...)}, out); err != nil {
					t.Fatalf("%v: %v", tc.shape, err)
				}
				if typ == tfl.Float32 {
					want := naiveMean(tc.shape, reduced, func(i int) float64 { return float64(in.Float32s()[i]) })
					for o, w := range want {
						if got := float64(out.Float32s()[o]); math.Abs(got-w) > 1e-5 {
							t.Fatalf("float %v: out[%d] = %g, want %g", tc.shape, o, got, w)
						}
					}
					continue
				}
				want := naiveMean(tc.shape, reduced, func(i int) float64 { return deq(in, i) })
				qmin, qmax := quant.TypeRange(typ == tfl.Int8)
				for o, w := range want {
					got, q := qget(out, o), quantRef(out, w, qmin, qmax)
					// The reference path with equal parameters truncates the
					// raw mean toward zero: up to one step from rounding.
					if d := got - q; d < -1 || d > 1 {
						t.Fatalf("%s %v axes %v keep %v same %v: out[%d] = %d, float reference %d", typ, tc.shape, tc.axes, tc.keep, same, o, got, q)
					}
				}
			}
		}
	}
}

// TestMeanHWExact pins the fixed-point path to a transliteration of
// TFLite's optimised 4-D mean: the raw sum times s_in/(n·s_out) in fixed
// point plus a float-rounded bias.
func TestMeanHWExact(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, typ := range []tfl.TensorType{tfl.Uint8, tfl.Int8} {
		for range 20 {
			shape := []int{2, 7, 7, 5}
			qi, qo := randQuant(r, typ, -4, 6), randQuant(r, typ, -3, 5)
			in := qi.tensor(r, shape, false)
			out := emptyOut(typ, qo.scale, qo.zp)
			if err := runKernel(t, newMean, tfl.OpMean, &tfl.ReducerOptions{KeepDims: true}, 1, []*Tensor{in, axesTensor(1, 2)}, out); err != nil {
				t.Fatal(err)
			}
			n := float32(49)
			tmp := float32(in.ZeroPoint()) * in.Scale() / out.Scale()
			if tmp > 0 {
				tmp += 0.5
			} else {
				tmp -= 0.5
			}
			bias := out.ZeroPoint() - int32(tmp)
			m, e := refQuantizeMultiplier(float64(in.Scale() / (n * out.Scale())))
			qmin, qmax := quant.TypeRange(typ == tfl.Int8)
			for b := range 2 {
				for c := range 5 {
					var sum int32
					for p := range 49 {
						sum += qget(in, (b*49+p)*5+c)
					}
					var v int32
					if e > 0 {
						v = refSRDHM(sum<<e, m)
					} else {
						v = refRDBPOT(refSRDHM(sum, m), -e)
					}
					want := max(min(v+bias, qmax), qmin)
					if got := qget(out, b*5+c); got != want {
						t.Fatalf("%s: out[%d,%d] = %d, want %d", typ, b, c, got, want)
					}
				}
			}
		}
	}
}

func TestMeanErrors(t *testing.T) {
	in := floatTensor([]int{2, 3}, nil, false)
	nonConst := axesTensor(0)
	nonConst.Const = false
	for _, tc := range []struct {
		name string
		axes *Tensor
	}{
		{"axis out of range", axesTensor(2)},
		{"negative axis out of range", axesTensor(-3)},
		{"non-constant axes", nonConst},
		{"int64 axes", &Tensor{Type: tfl.Int64, Shape: []int{1}, Const: true, Data: alignedBytes(8)}},
	} {
		if err := runKernel(t, newMean, tfl.OpMean, &tfl.ReducerOptions{}, 1, []*Tensor{in, tc.axes}, emptyOut(tfl.Float32, 0, 0)); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
