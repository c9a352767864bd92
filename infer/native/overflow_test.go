package native

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/testdata"
	"github.com/fruitcam/fruitcam/internal/tfliteref"
)

// Tests of the float clamp every operator with a fused activation applies:
// TFLite's CalculateActivationRange gives float's lowest() and max() when
// there is no activation (and max() above RELU), so a result that
// overflows, or an infinite input carried through, comes out as
// ±math.MaxFloat32, never ±Inf. Each case is one operator on values that
// overflow float32; want is TFLite's arithmetic written out (float32
// operations in the reference kernels' order, then the clamp), and the
// data keeps the order of a sum and the fusion of a multiply-add from
// mattering (products are exact or overflow, sums have one sign).

// floatOpIn is one input of a one-operator float model.
type floatOpIn struct {
	shape []int
	data  []float32
	cnst  bool // stored in the model rather than fed
}

type overflowCase struct {
	name string
	op   tfl.BuiltinOp
	opts any
	in   []floatOpIn
	out  []int
	want []float32
}

const maxF = math.MaxFloat32

var (
	inf32 = float32(math.Inf(1))
	nan32 = float32(math.NaN())
)

// satF is the fused clamp without an activation: min(max(v, lowest), max).
func satF(v float32) float32 { return min(max(v, -maxF), maxF) }

// huge cycles through values that overflow when doubled or multiplied,
// infinities, and a few exact small values.
var hugeVals = []float32{3e38, -3e38, 2e38, inf32, -2.5e38, -inf32, 1.5, -2.25, 1e38, 0.5}

func hugeSeq(n, shift int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = hugeVals[(i+shift)%len(hugeVals)]
	}
	return v
}

// positive returns n large positive values (and +Inf), for sums that must
// overflow the same way in any order.
func positive(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = []float32{3e38, 2e38, 1e38, inf32, 1.5}[i%5]
	}
	return v
}

func binaryOverflowCase(name string, op tfl.BuiltinOp, act tfl.Activation, xs, ys []int, f func(a, b float32) float32, nan bool) overflowCase {
	x := hugeSeq(tfl.NumElements(xs), 0)
	y := hugeSeq(tfl.NumElements(ys), 3)
	if nan {
		x[len(x)/2] = nan32
	}
	out, err := broadcastShape(xs, ys)
	if err != nil {
		panic(err)
	}
	want := make([]float32, tfl.NumElements(out))
	lo, hi := float32(-maxF), float32(maxF)
	if act == tfl.ActRelu {
		lo = 0
	}
	for o := range want {
		want[o] = min(max(f(x[naiveIndex(out, xs, o)], y[naiveIndex(out, ys, o)]), lo), hi)
	}
	return overflowCase{name: name, op: op, opts: &tfl.ActivationOptions{Activation: act},
		in: []floatOpIn{{xs, x, false}, {ys, y, false}}, out: out, want: want}
}

// conv1x1Case is a 1×1 CONV_2D (or FULLY_CONNECTED, fc) of pixels×k
// inputs and n output channels.
func conv1x1Case(name string, fc bool, pixels, k, n int, x []float32) overflowCase {
	w := make([]float32, n*k)
	for i := range w {
		w[i] = []float32{2, 1, 0.5, 1.5}[i%4]
		if (i/k)%2 == 1 && k == 1 {
			w[i] = -w[i]
		}
	}
	bias := make([]float32, n)
	for i := range bias {
		bias[i] = float32(i%3) * 0.25
	}
	want := make([]float32, pixels*n)
	for p := range pixels {
		for c := range n {
			acc := bias[c]
			for j := range k {
				acc += float32(x[p*k+j] * w[c*k+j])
			}
			want[p*n+c] = satF(acc)
		}
	}
	cs := floatOpIn{[]int{n, 1, 1, k}, w, true}
	c := overflowCase{name: name, op: tfl.OpConv2D,
		opts: &tfl.Conv2DOptions{Padding: tfl.PaddingValid, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1},
		in:   []floatOpIn{{[]int{1, 1, pixels, k}, x, false}, cs, {[]int{n}, bias, true}}, out: []int{1, 1, pixels, n}, want: want}
	if fc {
		c.op, c.opts = tfl.OpFullyConnected, &tfl.FullyConnectedOptions{}
		c.in[0].shape, c.in[1].shape, c.out = []int{pixels, k}, []int{n, k}, []int{pixels, n}
	}
	return c
}

func overflowCases() []overflowCase {
	add := func(a, b float32) float32 { return a + b }
	sub := func(a, b float32) float32 { return a - b }
	mul := func(a, b float32) float32 { return a * b }
	cs := []overflowCase{
		binaryOverflowCase("ADD same shapes", tfl.OpAdd, tfl.ActNone, []int{40}, []int{40}, add, true),
		binaryOverflowCase("ADD same shapes, odd length", tfl.OpAdd, tfl.ActNone, []int{3, 7}, []int{3, 7}, add, false),
		binaryOverflowCase("ADD RELU", tfl.OpAdd, tfl.ActRelu, []int{2, 4, 8}, []int{2, 4, 8}, add, false),
		binaryOverflowCase("ADD rank-3 broadcast", tfl.OpAdd, tfl.ActNone, []int{2, 3, 4}, []int{2, 1, 4}, add, false),
		binaryOverflowCase("SUB per-channel vector", tfl.OpSub, tfl.ActNone, []int{3, 5, 16}, []int{16}, sub, true),
		binaryOverflowCase("SUB scalar", tfl.OpSub, tfl.ActNone, []int{1}, []int{21}, sub, false),
		binaryOverflowCase("MUL same shapes", tfl.OpMul, tfl.ActNone, []int{4, 12}, []int{4, 12}, mul, true),
		binaryOverflowCase("MUL scalar", tfl.OpMul, tfl.ActNone, []int{37}, []int{1}, mul, false),
		conv1x1Case("CONV_2D products", false, 10, 1, 32, hugeSeq(10, 1)),
		conv1x1Case("CONV_2D sums", false, 6, 3, 16, positive(18)),
		conv1x1Case("FULLY_CONNECTED products", true, 7, 1, 8, hugeSeq(7, 2)),
		conv1x1Case("FULLY_CONNECTED sums", true, 3, 4, 16, positive(12)),
	}

	// DEPTHWISE_CONV_2D 1×1, 16 channels: one product per output.
	x, w := hugeSeq(4*16, 5), make([]float32, 16)
	bias := make([]float32, 16)
	for i := range w {
		w[i] = []float32{2, -2, 1.5, -0.5}[i%4]
		bias[i] = float32(i%2) * 0.5
	}
	want := make([]float32, len(x))
	for i, v := range x {
		want[i] = satF(float32(v*w[i%16]) + bias[i%16])
	}
	cs = append(cs, overflowCase{name: "DEPTHWISE_CONV_2D", op: tfl.OpDepthwiseConv,
		opts: &tfl.DepthwiseConv2DOptions{Padding: tfl.PaddingValid, StrideW: 1, StrideH: 1, DepthMultiplier: 1, DilationW: 1, DilationH: 1},
		in:   []floatOpIn{{[]int{1, 2, 2, 16}, x, false}, {[]int{1, 1, 1, 16}, w, true}, {[]int{16}, bias, true}},
		out:  []int{1, 2, 2, 16}, want: want})

	// Pools over 1×2 windows at stride 2 on 4 channels: the maximum of an
	// infinity, and the average of a sum that overflows.
	px := hugeSeq(8*4, 0)
	pool := func(name string, op tfl.BuiltinOp, f func(a, b float32) float32) overflowCase {
		want := make([]float32, 4*4)
		for o := range 4 {
			for c := range 4 {
				want[o*4+c] = satF(f(px[(2*o)*4+c], px[(2*o+1)*4+c]))
			}
		}
		return overflowCase{name: name, op: op,
			opts: &tfl.Pool2DOptions{Padding: tfl.PaddingValid, StrideW: 2, StrideH: 1, FilterWidth: 2, FilterHeight: 1},
			in:   []floatOpIn{{[]int{1, 1, 8, 4}, px, false}}, out: []int{1, 1, 4, 4}, want: want}
	}
	cs = append(cs,
		pool("MAX_POOL_2D", tfl.OpMaxPool2D, func(a, b float32) float32 { return max(a, b) }),
		pool("AVERAGE_POOL_2D", tfl.OpAveragePool2D, func(a, b float32) float32 { return (a + b) / 2 }))
	return cs
}

// floatOpModel writes a one-operator float32 model; the non-constant
// inputs are the model's inputs, in order, with their bytes.
func floatOpModel(t *testing.T, op tfl.BuiltinOp, opts any, ins []floatOpIn, outShape []int) ([]byte, [][]byte) {
	t.Helper()
	m := &tfl.Model{Version: 3, Buffers: [][]byte{nil}, OperatorCodes: []tfl.OperatorCode{{Builtin: op, Version: 1}}}
	var sg tfl.Subgraph
	sg.Name = "main"
	var feeds [][]byte
	var opIn []int
	for i, in := range ins {
		tt := tfl.Tensor{Name: fmt.Sprintf("in%d", i), Type: tfl.Float32, Shape: in.shape}
		if in.cnst {
			m.Buffers = append(m.Buffers, tfliteref.Float32Bytes(in.data))
			tt.Buffer = len(m.Buffers) - 1
		} else {
			sg.Inputs = append(sg.Inputs, len(sg.Tensors))
			feeds = append(feeds, tfliteref.Float32Bytes(in.data))
		}
		opIn = append(opIn, len(sg.Tensors))
		sg.Tensors = append(sg.Tensors, tt)
	}
	sg.Outputs = []int{len(sg.Tensors)}
	sg.Tensors = append(sg.Tensors, tfl.Tensor{Name: "out", Type: tfl.Float32, Shape: outShape})
	sg.Operators = []tfl.Operator{{Inputs: opIn, Outputs: sg.Outputs, Options: opts}}
	m.Subgraphs = []tfl.Subgraph{sg}
	data, err := tfl.Write(m)
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	return data, feeds
}

// TestFloatOverflowClampsToMaxFloat runs every case in the native engine,
// with and without the SIMD kernels, and wants TFLite's results: ±MaxFloat32
// where the arithmetic overflows or an input is infinite, NaN kept.
func TestFloatOverflowClampsToMaxFloat(t *testing.T) {
	defer func() { floatKernelSIMD, clampKernelSIMD = true, true }()
	for _, c := range overflowCases() {
		data, feeds := floatOpModel(t, c.op, c.opts, c.in, c.out)
		for _, simd := range []bool{false, true} {
			floatKernelSIMD, clampKernelSIMD = simd, simd
			got := tfliteref.BytesFloat32(runNativeBytes(t, data, feeds))
			if len(got) != len(c.want) {
				t.Fatalf("%s: %d outputs, want %d", c.name, len(got), len(c.want))
			}
			for i, g := range got {
				if math.IsInf(float64(g), 0) {
					t.Fatalf("%s (SIMD %v): output %d is %v; TFLite clamps to ±MaxFloat32", c.name, simd, i, g)
				}
			}
			sameFloats(t, fmt.Sprintf("%s (SIMD %v)", c.name, simd), got, c.want)
		}
	}
}

// TestFloatOverflowMatchesTFLite runs the same one-operator models in the
// real TensorFlow Lite 2.9 library and wants the native engine's bytes.
// Only the element-wise cases hold a NaN: TFLite's optimized float
// DEPTHWISE_CONV_2D clamps with std::max(lo, std::min(hi, v)) outside its
// NEON loops, which turns NaN into the upper bound on x86 and in the NEON
// build's tails (and keeps it in the NEON loops), so no engine matches it
// on NaN everywhere; the native engine keeps NaN as the reference kernels
// do.
func TestFloatOverflowMatchesTFLite(t *testing.T) {
	crun, err := tfliteref.CRunPath()
	if err != nil {
		testdata.Missing(t, err)
	}
	for _, c := range overflowCases() {
		data, feeds := floatOpModel(t, c.op, c.opts, c.in, c.out)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		ref, err := tfliteref.RunCLI(ctx, crun, data, feeds, 0)
		cancel()
		if err != nil {
			t.Fatalf("%s: TensorFlow Lite: %v", c.name, err)
		}
		got := tfliteref.BytesFloat32(runNativeBytes(t, data, feeds))
		sameFloats(t, c.name+": native against TensorFlow Lite", got, tfliteref.BytesFloat32(ref[0]))
	}
}
