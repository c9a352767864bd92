package native

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestClampRowMatchesGo runs clampRow, with and without the SIMD kernel,
// on values around the bounds, signed zeros, infinities, NaNs and
// subnormals, against Go's min(max(v, lo), hi), bit for bit (any NaN
// matches any NaN), for the bounds of every fused activation and a few
// others, at lengths that leave tails.
func TestClampRowMatchesGo(t *testing.T) {
	defer func() { clampKernelSIMD = true }()
	rng := rand.New(rand.NewPCG(31, 32))
	inf := float32(math.Inf(1))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), -float32(math.NaN()), inf, -inf,
		1, -1, 6, 6.0000005, 5.9999995, 1e-45, -1e-45, 1e-39, -1e-39, 0.5, -0.5, 7, -7}
	bounds := [][2]float32{{0, inf}, {0, 6}, {-1, 1}, {-inf, 6}, {-2.5, -1}, {1, 2}}
	for _, b := range bounds {
		for _, n := range []int{0, 1, 7, 8, 9, 31, 64, 100} {
			src := make([]float32, n)
			for i := range src {
				if rng.IntN(2) == 0 {
					src[i] = special[rng.IntN(len(special))]
				} else {
					src[i] = rng.Float32()*20 - 10
				}
			}
			for _, simd := range []bool{false, true} {
				clampKernelSIMD = simd
				got := append([]float32(nil), src...)
				clampRow(got, b[0], b[1])
				for i, v := range src {
					want := min(max(v, b[0]), b[1])
					g := got[i]
					if math.IsNaN(float64(want)) && math.IsNaN(float64(g)) {
						continue
					}
					if math.Float32bits(g) != math.Float32bits(want) {
						t.Fatalf("bounds %v n %d simd %v: clamp(%v) = %v (%#x), Go gives %v (%#x)", b, n, simd, v, g, math.Float32bits(g), want, math.Float32bits(want))
					}
				}
			}
		}
	}
}
