package native

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// Tests of QUANTIZE and DEQUANTIZE.

func TestQuantizeFromFloatKnownValues(t *testing.T) {
	vals := []float32{0, 0.25, -0.25, 0.75, 1, -1, 12.7, 13, -12.8, -13, 1e30, float32(math.Inf(-1))}
	tests := []struct {
		typ   tfl.TensorType
		scale float32
		zp    int64
		want  []int32
	}{
		// x / 0.5 rounds half away from zero: 0.25 -> 1, -0.25 -> -1.
		{tfl.Int8, 0.5, 0, []int32{0, 1, -1, 2, 2, -2, 25, 26, -26, -26, 127, -128}},
		// float32(0.1) is a little above 0.1, so 0.25/scale is just
		// below 2.5 in float64 and rounds to 2 (130), not 3.
		{tfl.Uint8, 0.1, 128, []int32{128, 130, 126, 135, 138, 118, 255, 255, 0, 0, 255, 0}},
		{tfl.Int16, 0.001, 0, []int32{0, 250, -250, 750, 1000, -1000, 12700, 13000, -12800, -13000, 32767, -32768}},
	}
	for _, tc := range tests {
		in := floatTensor([]int{2, 6}, vals, false)
		out := emptyOut(tc.typ, tc.scale, tc.zp)
		if err := runKernel(t, newQuantize, tfl.OpQuantize, nil, 1, []*Tensor{in}, out); err != nil {
			t.Fatalf("%s: %v", tc.typ, err)
		}
		for i, v := range vals {
			var got int32
			if tc.typ == tfl.Int16 {
				got = int32(int16s(out)[i])
			} else {
				got = actCode(out, i)
			}
			if got != tc.want[i] {
				t.Errorf("%s scale %g zp %d: quantize(%g) = %d, want %d", tc.typ, tc.scale, tc.zp, v, got, tc.want[i])
			}
		}
	}
}

// TestQuantizeRequantizeRandom checks 8-bit to 8-bit requantisation on
// every code against exact rounding (within one step: the fixed-point
// multiplier rounds twice).
func TestQuantizeRequantizeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	types := []tfl.TensorType{tfl.Int8, tfl.Uint8}
	for i := range 200 {
		it, ot := types[i%2], types[(i/2)%2]
		inS, inZ := actRandParams(rng, it, 0.1)
		outS, outZ := actRandParams(rng, ot, 0.1)
		in := actCodes(it, inS, inZ)
		out := emptyOut(ot, outS, int64(outZ))
		name := fmt.Sprintf("%s(%g,%d) -> %s(%g,%d)", it, inS, inZ, ot, outS, outZ)
		if err := runKernel(t, newQuantize, tfl.OpQuantize, nil, 1, []*Tensor{in}, out); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for j := range 256 {
			q := actCode(in, j)
			got, want := actCode(out, j), actIdeal(float64(inS)*float64(q-inZ), ot, outS, outZ)
			if d := got - want; d > 1 || d < -1 {
				t.Fatalf("%s: code %d: got %d, want %d", name, q, got, want)
			}
		}
	}
}

// TestQuantizeSignFlip: int8 -> uint8 with the same scale and zero points
// 128 apart is TFLite's XOR 0x80 fast path; the multiplier path must agree.
func TestQuantizeSignFlip(t *testing.T) {
	in := actCodes(tfl.Int8, 0.02, -3)
	out := emptyOut(tfl.Uint8, 0.02, 125)
	if err := runKernel(t, newQuantize, tfl.OpQuantize, nil, 1, []*Tensor{in}, out); err != nil {
		t.Fatal(err)
	}
	for j := range 256 {
		if got, want := out.Data[j], in.Data[j]^0x80; got != want {
			t.Fatalf("code %d: got %d, want %d", int8(in.Data[j]), got, want)
		}
	}
}

func TestQuantizeInt16(t *testing.T) {
	in := quantTensor(tfl.Int16, []int{4}, []float32{0.001}, []int64{0}, 0, false)
	copy(int16s(in), []int16{-32768, -1000, 1001, 32767})
	out := emptyOut(tfl.Int8, 0.1, 0)
	if err := runKernel(t, newQuantize, tfl.OpQuantize, nil, 1, []*Tensor{in}, out); err != nil {
		t.Fatal(err)
	}
	// -32.768/0.1 clamps; -1.0 -> -10; 1.001 -> 10; 32.767 clamps.
	want := []int32{-128, -10, 10, 127}
	for i := range want {
		if got := actCode(out, i); got != want[i] {
			t.Errorf("int16 -> int8 element %d: got %d, want %d", i, got, want[i])
		}
	}
}

func TestQuantizeRejects(t *testing.T) {
	f := floatTensor([]int{4}, nil, false)
	q8 := quantTensor(tfl.Int8, []int{4}, []float32{0.1}, []int64{0}, 0, false)
	tests := []struct {
		name string
		nk   newKernel
		in   *Tensor
		out  *Tensor
		want string
	}{
		{"float out", newQuantize, f, emptyOut(tfl.Float32, 0, 0), "no quantisation parameters"},
		{"float to int32", newQuantize, f, emptyOut(tfl.Int32, 1, 0), "cannot quantize float32 to int32"},
		{"int16 zp", newQuantize, f, emptyOut(tfl.Int16, 1, 3), "zero point 0"},
		{"int8 to int16", newQuantize, q8, emptyOut(tfl.Int16, 1, 0), "cannot quantize int8 to int16"},
		{"input no quant", newQuantize, &Tensor{Type: tfl.Int8, Shape: []int{4}, Data: alignedBytes(4)}, emptyOut(tfl.Uint8, 1, 0), "no quantisation parameters"},
		{"dequantize to int8", newDequantize, q8, emptyOut(tfl.Int8, 1, 0), "produces float32"},
		{"dequantize float", newDequantize, f, emptyOut(tfl.Float32, 0, 0), "cannot dequantize float32"},
		{"dequantize channels", newDequantize, quantTensor(tfl.Int8, []int{2, 3}, []float32{1, 2}, []int64{0, 0}, 1, false), emptyOut(tfl.Float32, 0, 0), "2 scales"},
	}
	for _, tc := range tests {
		err := runKernel(t, tc.nk, 0, nil, 1, []*Tensor{tc.in}, tc.out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestDequantize(t *testing.T) {
	// Per-tensor 8-bit: every code.
	for _, typ := range []tfl.TensorType{tfl.Int8, tfl.Uint8} {
		in := actCodes(typ, 0.037, 5)
		out := emptyOut(tfl.Float32, 0, 0)
		if err := runKernel(t, newDequantize, tfl.OpDequantize, nil, 1, []*Tensor{in}, out); err != nil {
			t.Fatal(err)
		}
		for j := range 256 {
			q := actCode(in, j)
			if got, want := out.Float32s()[j], float32(float64(float32(0.037))*float64(q-5)); got != want {
				t.Fatalf("%s code %d: got %g, want %g", typ, q, got, want)
			}
		}
	}
	// int16.
	in := quantTensor(tfl.Int16, []int{3}, []float32{0.5}, []int64{0}, 0, false)
	copy(int16s(in), []int16{-32768, 3, 32767})
	out := emptyOut(tfl.Float32, 0, 0)
	if err := runKernel(t, newDequantize, tfl.OpDequantize, nil, 1, []*Tensor{in}, out); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(out.Float32s()); got != "[-16384 1.5 16383.5]" {
		t.Errorf("int16: got %s", got)
	}
	// float16: 1, -2, 65504, smallest subnormal, +inf, -0.
	in = &Tensor{Type: tfl.Float16, Shape: []int{6}, Data: alignedBytes(12)}
	copy(uint16s(in), []uint16{0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x8000})
	out = emptyOut(tfl.Float32, 0, 0)
	if err := runKernel(t, newDequantize, tfl.OpDequantize, nil, 1, []*Tensor{in}, out); err != nil {
		t.Fatal(err)
	}
	want := []float32{1, -2, 65504, float32(math.Ldexp(1, -24)), float32(math.Inf(1)), float32(math.Copysign(0, -1))}
	for i, w := range want {
		if g := out.Float32s()[i]; math.Float32bits(g) != math.Float32bits(w) {
			t.Errorf("float16 %#04x: got %g, want %g", uint16s(in)[i], g, w)
		}
	}
	// Per-channel int8 along dimension 1 of [2, 3, 2].
	in = quantTensor(tfl.Int8, []int{2, 3, 2}, []float32{1, 0.5, 0.25}, []int64{0, 1, -1}, 1, false)
	for i := range in.Data {
		in.Data[i] = byte(int8(i - 6))
	}
	out = emptyOut(tfl.Float32, 0, 0)
	if err := runKernel(t, newDequantize, tfl.OpDequantize, nil, 1, []*Tensor{in}, out); err != nil {
		t.Fatal(err)
	}
	scales, zps := []float64{1, 0.5, 0.25}, []float64{0, 1, -1}
	for i, g := range out.Float32s() {
		c := (i / 2) % 3
		if w := float32(scales[c] * (float64(i-6) - zps[c])); g != w {
			t.Errorf("per-channel element %d: got %g, want %g", i, g, w)
		}
	}
}

func TestQuantizeNoAlloc(t *testing.T) {
	cases := []struct {
		nk      newKernel
		in, out *Tensor
	}{
		{newQuantize, floatTensor([]int{3, 7}, nil, false), emptyOut(tfl.Int8, 0.1, 3)},
		{newQuantize, actCodes(tfl.Int8, 0.1, 0), emptyOut(tfl.Uint8, 0.2, 128)},
		{newDequantize, actCodes(tfl.Uint8, 0.1, 0), emptyOut(tfl.Float32, 0, 0)},
		{newDequantize, quantTensor(tfl.Int8, []int{2, 3}, []float32{1, 2, 3}, []int64{0, 0, 0}, 1, false), emptyOut(tfl.Float32, 0, 0)},
	}
	for i, c := range cases {
		n := &node{in: []*Tensor{c.in}, out: []*Tensor{c.out}, threads: 1}
		k, _ := c.nk(n)
		if err := k.prepare(); err != nil {
			t.Fatal(err)
		}
		c.out.Data = alignedBytes(c.out.ByteSize())
		if a := testing.AllocsPerRun(10, k.eval); a != 0 {
			t.Errorf("case %d: eval allocates %v times", i, a)
		}
	}
}
