package native

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

func TestConcatenationFloat(t *testing.T) {
	a := floatTensor([]int{2, 2, 1}, []float32{1, 2, 3, 4}, false)
	b := floatTensor([]int{2, 2, 2}, []float32{5, 6, 7, 8, 9, 10, 11, 12}, true)
	for _, axis := range []int{2, -1} {
		out := emptyOut(tfl.Float32, 0, 0)
		if err := runKernel(t, newConcatenation, tfl.OpConcatenation, &tfl.ConcatenationOptions{Axis: axis}, 1, []*Tensor{a, b}, out); err != nil {
			t.Fatal(err)
		}
		want := []float32{1, 5, 6, 2, 7, 8, 3, 9, 10, 4, 11, 12}
		if !slices.Equal(out.Shape, []int{2, 2, 3}) || !slices.Equal(out.Float32s(), want) {
			t.Errorf("axis %d: got %v %v, want [2 2 3] %v", axis, out.Shape, out.Float32s(), want)
		}
	}
}

// TestConcatenationRequantise checks 8-bit inputs with their own scales
// against TFLite's float formula and against a float reference.
func TestConcatenationRequantise(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, typ := range []tfl.TensorType{tfl.Uint8, tfl.Int8} {
		qa, qb, qo := randQuant(r, typ, -2, 2), randQuant(r, typ, -6, 3), randQuant(r, typ, -5, 5)
		a := qa.tensor(r, []int{3, 4, 2}, false)
		b := qb.tensor(r, []int{3, 1, 2}, false)
		c := qo.tensor(r, []int{3, 2, 2}, false) // output's parameters: copied
		out := emptyOut(typ, qo.scale, qo.zp)
		if err := runKernel(t, newConcatenation, tfl.OpConcatenation, &tfl.ConcatenationOptions{Axis: 1}, 1, []*Tensor{a, b, c}, out); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(out.Shape, []int{3, 7, 2}) {
			t.Fatalf("shape %v", out.Shape)
		}
		qmin, qmax := int32(0), int32(255)
		if typ == tfl.Int8 {
			qmin, qmax = -128, 127
		}
		o := 0
		for k := range 3 {
			for _, p := range []struct {
				t *Tensor
				n int
			}{{a, 8}, {b, 2}, {c, 4}} {
				for j := range p.n {
					i := k*p.n + j
					var want int32
					if p.t == c {
						want = qget(c, i)
					} else {
						// ConcatenationWithScaling, in float32.
						inv := 1 / out.Scale()
						s := p.t.Scale() * inv
						bias := float32(-p.t.ZeroPoint()) * s
						v := float32(float32(qget(p.t, i))*s) + bias
						want = max(min(int32(math.Round(float64(v)))+out.ZeroPoint(), qmax), qmin)
						if f := quantRef(out, deq(p.t, i), qmin, qmax); want-f > 1 || f-want > 1 {
							t.Fatalf("float reference %d vs %d", f, want)
						}
					}
					if got := qget(out, o); got != want {
						t.Fatalf("%s: out[%d] = %d, want %d", typ, o, got, want)
					}
					o++
				}
			}
		}
	}
}

func TestConcatenationInt32Batch(t *testing.T) {
	mk := func(shape []int, v ...int32) *Tensor {
		x := &Tensor{Type: tfl.Int32, Shape: shape, Data: alignedBytes(4 * len(v))}
		copy(x.Int32s(), v)
		return x
	}
	out := emptyOut(tfl.Int32, 0, 0)
	err := runKernel(t, newConcatenation, tfl.OpConcatenation, &tfl.ConcatenationOptions{Axis: 0}, 1,
		[]*Tensor{mk([]int{1, 2}, 1, 2), mk([]int{2, 2}, 3, 4, 5, 6)}, out)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.Shape, []int{3, 2}) || !slices.Equal(out.Int32s(), []int32{1, 2, 3, 4, 5, 6}) {
		t.Errorf("got %v %v", out.Shape, out.Int32s())
	}
}

func TestConcatenationErrors(t *testing.T) {
	f := func(shape ...int) *Tensor { return floatTensor(shape, nil, false) }
	for _, tc := range []struct {
		name string
		in   []*Tensor
		axis int
	}{
		{"axis out of range", []*Tensor{f(2, 2), f(2, 2)}, 2},
		{"rank mismatch", []*Tensor{f(2, 2), f(2)}, 0},
		{"other dim mismatch", []*Tensor{f(2, 2), f(3, 3)}, 0},
		{"type mismatch", []*Tensor{f(2), quantTensor(tfl.Int8, []int{2}, []float32{1}, []int64{0}, 0, false)}, 0},
	} {
		if err := runKernel(t, newConcatenation, tfl.OpConcatenation, &tfl.ConcatenationOptions{Axis: tc.axis}, 1, tc.in, emptyOut(tfl.Float32, 0, 0)); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if _, err := newConcatenation(&node{opts: &tfl.ConcatenationOptions{Activation: tfl.ActRelu}}); err == nil {
		t.Error("fused RELU: no error")
	}
}
