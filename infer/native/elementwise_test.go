package native

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// floatSpecials are values where SIMD and scalar float code could part:
// signed zeros, infinities, NaNs, subnormals, values that overflow or
// underflow when combined.
var floatSpecials = []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
	float32(math.NaN()), -float32(math.NaN()), 1e-45, -1e-45, 1e-39, 3e38, -3e38, 1, -1, 0.5}

func randSpecials(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		if rng.IntN(3) == 0 {
			v[i] = floatSpecials[rng.IntN(len(floatSpecials))]
		} else {
			v[i] = rng.Float32()*8 - 4
		}
	}
	return v
}

// sameFloats compares bits, any NaN matching any NaN.
func sameFloats(t *testing.T, label string, got, want []float32) {
	t.Helper()
	for i := range want {
		g, w := got[i], want[i]
		if math.IsNaN(float64(g)) && math.IsNaN(float64(w)) {
			continue
		}
		if math.Float32bits(g) != math.Float32bits(w) {
			t.Fatalf("%s: [%d] = %v (%#x), want %v (%#x)", label, i, g, math.Float32bits(g), w, math.Float32bits(w))
		}
	}
}

// TestFloatBinarySIMDMatchesGo runs float ADD, SUB and MUL (same shapes and
// a per-channel vector, the SIMD cases, with every fused activation: the
// clamp is fused into the SIMD kernels, and without an activation it is
// ±MaxFloat32, which the specials' infinities and overflows meet) with and
// without the SIMD kernels on the same special values.
func TestFloatBinarySIMDMatchesGo(t *testing.T) {
	defer func() { floatKernelSIMD, clampKernelSIMD = true, true }()
	rng := rand.New(rand.NewPCG(41, 42))
	for _, op := range binaryOps {
		// Rows of 8k values (every SIMD kernel), of 4k+4 values (NEON,
		// not AVX2), and single rows with tails of 1 to 3 values.
		for _, sh := range [][2][]int{{{3, 5, 16}, {3, 5, 16}}, {{2, 7, 24}, {24}}, {{4, 8}, {8}}, {{9, 12}, {12}}, {{40}, {40}},
			{{3, 4}, {4}}, {{2, 3, 20}, {20}}, {{21}, {21}}, {{1, 6}, {1, 6}}, {{2, 3}, {2, 3}}, {{3}, {3}}} {
			for _, act := range []tfl.Activation{tfl.ActNone, tfl.ActRelu, tfl.ActRelu6, tfl.ActReluN1To1} {
				a := floatTensor(sh[0], randSpecials(rng, tfl.NumElements(sh[0])), false)
				b := floatTensor(sh[1], randSpecials(rng, tfl.NumElements(sh[1])), false)
				var outs [2][]float32
				for i, simd := range []bool{false, true} {
					floatKernelSIMD, clampKernelSIMD = simd, simd
					out := emptyOut(tfl.Float32, 0, 0)
					if err := runKernel(t, op.nk, op.code, &tfl.ActivationOptions{Activation: act}, 1, []*Tensor{a, b}, out); err != nil {
						t.Fatal(err)
					}
					outs[i] = out.Float32s()
				}
				sameFloats(t, op.name+" "+act.String(), outs[1], outs[0])
			}
		}
	}
}

// TestLeakyReluSIMDMatchesGo compares the float LEAKY_RELU kernel with the
// Go loop on special values, for lengths that leave tails.
func TestLeakyReluSIMDMatchesGo(t *testing.T) {
	defer func() { floatKernelSIMD = true }()
	rng := rand.New(rand.NewPCG(43, 44))
	for _, n := range []int{1, 4, 8, 13, 20, 64, 101} {
		for _, alpha := range []float32{0.5, 0.01, -2, 0} {
			in := floatTensor([]int{n}, randSpecials(rng, n), false)
			var outs [2][]float32
			for i, simd := range []bool{false, true} {
				floatKernelSIMD = simd
				out := emptyOut(tfl.Float32, 0, 0)
				if err := runKernel(t, newLeakyRelu, tfl.OpLeakyRelu, &tfl.LeakyReluOptions{Alpha: alpha}, 1, []*Tensor{in}, out); err != nil {
					t.Fatal(err)
				}
				outs[i] = out.Float32s()
			}
			sameFloats(t, "LEAKY_RELU", outs[1], outs[0])
		}
	}
}

// TestFloatKernelsTakeSIMD checks that the SIMD kernels the tests above
// compare are the ones that run on amd64 with AVX2 and on every arm64
// (NEON): a kernel that quietly declined would leave them comparing the
// Go loops with themselves.
func TestFloatKernelsTakeSIMD(t *testing.T) {
	step := floatSIMDWidth()
	if step == 0 {
		if runtime.GOARCH == "arm64" {
			t.Fatal("no NEON float kernels on arm64")
		}
		t.Skipf("no SIMD float kernels on %s", runtime.GOARCH)
	}
	floatKernelSIMD, clampKernelSIMD = true, true
	d, x, y := make([]float32, 3*step), make([]float32, 3*step), make([]float32, step)
	if !vecRowsSIMD(fAdd, d, x, y, -math.MaxFloat32, math.MaxFloat32) {
		t.Errorf("vecRowsSIMD declined rows of %d values", step)
	}
	if n := leakySIMD(d, x, 0.1); n != len(d) {
		t.Errorf("leakySIMD did %d of %d values", n, len(d))
	}
	if n := clampSIMD(d, 0, 6); n != len(d) {
		t.Errorf("clampSIMD did %d of %d values", n, len(d))
	}
}
