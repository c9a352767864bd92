package native

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// naivePool computes one pooled value by the definition: the window
// clipped to the input, padding cells not counted.
func naivePool(get func(b, y, x, c int) float64, g poolGeom, b, oy, ox, c int, avg bool) (float64, int) {
	sum, best, n := 0.0, math.Inf(-1), 0
	for fy := range g.fh {
		for fx := range g.fw {
			y, x := oy*g.sh-g.padT+fy, ox*g.sw-g.padL+fx
			if y < 0 || y >= g.inH || x < 0 || x >= g.inW {
				continue
			}
			v := get(b, y, x, c)
			sum += v
			best = max(best, v)
			n++
		}
	}
	if avg {
		return sum, n
	}
	return best, n
}

func TestPoolTable(t *testing.T) {
	// 1x3x3x1 input 1..9, 2x2 window, stride 2, SAME: windows clip at the
	// bottom/right edge.
	in := floatTensor([]int{1, 3, 3, 1}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}, false)
	opts := &tfl.Pool2DOptions{Padding: tfl.PaddingSame, StrideW: 2, StrideH: 2, FilterWidth: 2, FilterHeight: 2}
	for _, tc := range []struct {
		name string
		nk   newKernel
		code tfl.BuiltinOp
		want []float32
	}{
		{"avg", newAveragePool2D, tfl.OpAveragePool2D, []float32{3, 4.5, 7.5, 9}},
		{"max", newMaxPool2D, tfl.OpMaxPool2D, []float32{5, 6, 8, 9}},
	} {
		out := emptyOut(tfl.Float32, 0, 0)
		if err := runKernel(t, tc.nk, tc.code, opts, 1, []*Tensor{in}, out); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(out.Shape, []int{1, 2, 2, 1}) || !slices.Equal(out.Float32s(), tc.want) {
			t.Errorf("%s: got %v %v, want [1 2 2 1] %v", tc.name, out.Shape, out.Float32s(), tc.want)
		}
	}
}

// TestAveragePoolQuantisedRounding pins the rounding of negative int8
// averages: (sum − count/2)/count truncated, i.e. ties away from zero.
func TestAveragePoolQuantisedRounding(t *testing.T) {
	for _, tc := range []struct {
		vals []int8
		want int8
	}{
		{[]int8{-1, -2, 0, 0}, -1}, // −3/4 = −0.75 → −1
		{[]int8{-1, -1, 0, 0}, -1}, // −0.5 → −1 (away from zero)
		{[]int8{1, 1, 0, 0}, 1},    // 0.5 → 1
		{[]int8{-1, 0, 0, 0}, 0},   // −0.25 → 0
		{[]int8{-128, -128, -128, -127}, -128},
	} {
		in := quantTensor(tfl.Int8, []int{1, 2, 2, 1}, []float32{0.5}, []int64{-3}, 0, false)
		copy(in.Int8s(), tc.vals)
		out := emptyOut(tfl.Int8, 0.5, -3)
		opts := &tfl.Pool2DOptions{Padding: tfl.PaddingValid, StrideW: 1, StrideH: 1, FilterWidth: 2, FilterHeight: 2}
		if err := runKernel(t, newAveragePool2D, tfl.OpAveragePool2D, opts, 1, []*Tensor{in}, out); err != nil {
			t.Fatal(err)
		}
		if got := out.Int8s()[0]; got != tc.want {
			t.Errorf("%v: got %d, want %d", tc.vals, got, tc.want)
		}
	}
}

func TestPoolProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for trial := range 120 {
		avg := trial%2 == 0
		typ := []tfl.TensorType{tfl.Float32, tfl.Uint8, tfl.Int8}[trial%3]
		act := []tfl.Activation{tfl.ActNone, tfl.ActRelu, tfl.ActRelu6}[trial/2%3]
		pad := []tfl.Padding{tfl.PaddingSame, tfl.PaddingValid}[trial/6%2]
		shape := []int{1 + r.IntN(3), 3 + r.IntN(8), 3 + r.IntN(8), 1 + r.IntN(5)}
		opts := &tfl.Pool2DOptions{Padding: pad, StrideW: 1 + r.IntN(3), StrideH: 1 + r.IntN(3),
			FilterWidth: 1 + r.IntN(3), FilterHeight: 1 + r.IntN(3), Activation: act}
		var in, out *Tensor
		if typ == tfl.Float32 {
			in = floatTensor(shape, randF32s(r, tfl.NumElements(shape), -8, 8), false)
			out = emptyOut(typ, 0, 0)
		} else {
			q := randQuant(r, typ, -4, 8)
			in = q.tensor(r, shape, false)
			out = emptyOut(typ, q.scale, q.zp)
		}
		nk, code := newMaxPool2D, tfl.OpMaxPool2D
		if avg {
			nk, code = newAveragePool2D, tfl.OpAveragePool2D
		}
		if err := runKernel(t, nk, code, opts, 1, []*Tensor{in}, out); err != nil {
			t.Fatalf("%v %+v: %v", shape, opts, err)
		}
		win, _ := computeWindow(pad, shape[1], shape[2], opts.FilterHeight, opts.FilterWidth, opts.StrideH, opts.StrideW, 1, 1)
		g := poolGeom{batch: shape[0], inH: shape[1], inW: shape[2], ch: shape[3], fh: opts.FilterHeight, fw: opts.FilterWidth,
			sh: opts.StrideH, sw: opts.StrideW, padT: win.padT, padL: win.padL, outH: win.outH, outW: win.outW}
		if !slices.Equal(out.Shape, []int{g.batch, g.outH, g.outW, g.ch}) {
			t.Fatalf("shape %v, want %v", out.Shape, []int{g.batch, g.outH, g.outW, g.ch})
		}
		at := func(b, y, x, c int) int { return ((b*g.inH+y)*g.inW+x)*g.ch + c }
		o := 0
		for b := range g.batch {
			for oy := range g.outH {
				for ox := range g.outW {
					for c := range g.ch {
						if typ == tfl.Float32 {
							v, n := naivePool(func(b, y, x, c int) float64 { return float64(in.Float32s()[at(b, y, x, c)]) }, g, b, oy, ox, c, avg)
							if avg {
								v /= float64(n)
							}
							lo, hi := quant.ActivationRangeFloat(int(act))
							want := min(max(v, float64(lo)), float64(hi))
							if got := float64(out.Float32s()[o]); math.Abs(got-want) > 1e-5*max(1, math.Abs(want)) {
								t.Fatalf("float avg=%v: out[%d] = %g, want %g", avg, o, got, want)
							}
						} else {
							v, n := naivePool(func(b, y, x, c int) float64 { return float64(qget(in, at(b, y, x, c))) }, g, b, oy, ox, c, avg)
							if avg {
								// Exact: integer division rounded half away from zero.
								v = math.Round(v / float64(n))
							}
							lo, hi := outputActivationRange(int(act), out)
							want := int32(min(max(v, float64(lo)), float64(hi)))
							if got := qget(out, o); got != want {
								t.Fatalf("%s avg=%v: out[%d] = %d, want %d", typ, avg, o, got, want)
							}
						}
						o++
					}
				}
			}
		}
	}
}

func TestPoolErrors(t *testing.T) {
	opts := &tfl.Pool2DOptions{Padding: tfl.PaddingValid, StrideW: 1, StrideH: 1, FilterWidth: 2, FilterHeight: 2}
	q := quantTensor(tfl.Int8, []int{1, 2, 2, 1}, []float32{0.5}, []int64{0}, 0, false)
	for _, tc := range []struct {
		name string
		in   *Tensor
		out  *Tensor
		opts *tfl.Pool2DOptions
	}{
		{"rank 3", floatTensor([]int{2, 2, 1}, nil, false), emptyOut(tfl.Float32, 0, 0), opts},
		{"requantising", q, emptyOut(tfl.Int8, 0.25, 0), opts},
		{"window too large", floatTensor([]int{1, 1, 1, 1}, nil, false), emptyOut(tfl.Float32, 0, 0), opts},
		{"zero stride", floatTensor([]int{1, 2, 2, 1}, nil, false), emptyOut(tfl.Float32, 0, 0), &tfl.Pool2DOptions{FilterWidth: 1, FilterHeight: 1}},
		{"int32", &Tensor{Type: tfl.Int32, Shape: []int{1, 2, 2, 1}}, emptyOut(tfl.Int32, 0, 0), opts},
	} {
		if err := runKernel(t, newMaxPool2D, tfl.OpMaxPool2D, tc.opts, 1, []*Tensor{tc.in}, tc.out); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// TestMaxPool2x2MatchesGeneral runs maxPool2x2 and the general loop on the
// same data, bit for bit: floats with NaN, infinities and signed zeros
// (the reference keeps the first of equal values and skips NaN), both
// 8-bit types, with and without a clamp, and shapes where the fast path
// does not apply (odd sizes, SAME padding).
func TestMaxPool2x2MatchesGeneral(t *testing.T) {
	defer func() { poolFast = true }()
	r := rand.New(rand.NewPCG(21, 22))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), -math.MaxFloat32, 1, -1}
	for _, shape := range [][]int{{1, 20, 20, 16}, {2, 20, 20, 16}, {2, 6, 8, 3}, {1, 5, 7, 4}} {
		for _, pad := range []tfl.Padding{tfl.PaddingValid, tfl.PaddingSame} {
			for _, act := range []tfl.Activation{tfl.ActNone, tfl.ActRelu, tfl.ActRelu6} {
				for _, typ := range []tfl.TensorType{tfl.Float32, tfl.Uint8, tfl.Int8} {
					var in *Tensor
					if typ == tfl.Float32 {
						in = floatTensor(shape, nil, false)
						for i := range in.Float32s() {
							if r.IntN(3) != 0 {
								in.Float32s()[i] = special[r.IntN(len(special))]
							} else {
								in.Float32s()[i] = r.Float32()*4 - 2
							}
						}
					} else {
						in = quantTensor(typ, shape, []float32{0.05}, []int64{3}, 0, false)
						for i := range in.Data {
							in.Data[i] = byte(r.IntN(256))
						}
					}
					opts := &tfl.Pool2DOptions{Padding: pad, StrideH: 2, StrideW: 2, FilterHeight: 2, FilterWidth: 2, Activation: act}
					var got [2][]byte
					for i, fast := range []bool{false, true} {
						poolFast = fast
						out := emptyOut(typ, in.Scale(), int64(in.ZeroPoint()))
						if err := runKernel(t, newMaxPool2D, tfl.OpMaxPool2D, opts, 1, []*Tensor{in}, out); err != nil {
							t.Fatal(err)
						}
						got[i] = out.Data
					}
					if !bytes.Equal(got[0], got[1]) {
						t.Errorf("%v %v %v %v: maxPool2x2 differs from the general loop", shape, pad, act, typ)
					}
				}
			}
		}
	}
}
