package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestScalerMatchesHalfUp(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	xs := []int32{0, 1, -1, 2, -2, math.MaxInt32, math.MinInt32, math.MinInt32 + 1, 1 << 30, -1 << 30}
	mults := []int32{0, 1, -1, 1 << 30, math.MaxInt32, math.MinInt32, 1518500250}
	for range 2000 {
		xs = append(xs, int32(rng.Uint32()), rng.Int32N(1<<20)-1<<19)
		mults = append(mults, int32(rng.Uint32()), 1<<30+rng.Int32N(1<<30))
	}
	for shift := -31; shift <= 30; shift++ {
		for i, m := range mults {
			s := NewScaler(m, shift)
			for _, x := range xs[i%7 : i%7+40] {
				if got, want := s.Apply(x), MultiplyByQuantizedMultiplierHalfUp(x, m, shift); got != want {
					t.Fatalf("scaler(%d, %d).Apply(%d) = %d, want %d", m, shift, x, got, want)
				}
			}
		}
		for _, x := range xs {
			for _, m := range mults[:7] {
				s := NewScaler(m, shift)
				if got, want := s.Apply(x), MultiplyByQuantizedMultiplierHalfUp(x, m, shift); got != want {
					t.Fatalf("scaler(%d, %d).Apply(%d) = %d, want %d", m, shift, x, got, want)
				}
			}
		}
	}
}
