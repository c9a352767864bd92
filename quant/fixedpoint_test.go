package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSaturatingRoundingDoublingHighMul(t *testing.T) {
	tests := []struct{ a, b, want int32 }{
		{math.MinInt32, math.MinInt32, math.MaxInt32}, // the one overflow case saturates
		{1 << 30, 1 << 30, 1 << 29},
		{math.MaxInt32, math.MaxInt32, math.MaxInt32 - 1},
		{3, 1 << 30, 2},   // 1.5 rounds away from zero
		{-3, 1 << 30, -1}, // -1.5: ties round up for negatives too
		{1, 1 << 30, 1},   // 0.5 rounds up
		{-1, 1 << 30, 0},  // -0.5: gemmlowp's nudge makes this 0
		{1000, -1<<31 + 1, -1000},
	}
	for _, tc := range tests {
		if got := SaturatingRoundingDoublingHighMul(tc.a, tc.b); got != tc.want {
			t.Errorf("SaturatingRoundingDoublingHighMul(%d, %d) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestRoundingDivideByPOT(t *testing.T) {
	tests := []struct {
		x    int32
		e    int
		want int32
	}{
		{5, 1, 3}, {-5, 1, -3}, {4, 1, 2}, {-4, 1, -2}, {3, 1, 2}, {-3, 1, -2},
		{7, 2, 2}, {-7, 2, -2}, {6, 2, 2}, {-6, 2, -2}, {5, 2, 1}, {-5, 2, -1},
		{math.MaxInt32, 31, 1}, {math.MinInt32, 31, -1}, {12345, 0, 12345},
	}
	for _, tc := range tests {
		if got := RoundingDivideByPOT(tc.x, tc.e); got != tc.want {
			t.Errorf("RoundingDivideByPOT(%d, %d) = %d, want %d", tc.x, tc.e, got, tc.want)
		}
	}
}

func TestQuantizeMultiplier(t *testing.T) {
	tests := []struct {
		m     float64
		mult  int32
		shift int
	}{
		{0, 0, 0},
		{0.5, 1 << 30, 0},
		{1, 1 << 30, 1},
		{0.25, 1 << 30, -1},
		{0.75, 3 << 29, 0},
		{1e-12, 0, 0}, // below 2^-31: flushed to zero like TFLite
		{math.Nextafter(1, 0), 1 << 30, 1},
	}
	for _, tc := range tests {
		mult, shift := QuantizeMultiplier(tc.m)
		if mult != tc.mult || shift != tc.shift {
			t.Errorf("QuantizeMultiplier(%g) = (%d, %d), want (%d, %d)", tc.m, mult, shift, tc.mult, tc.shift)
		}
	}
}

// MultiplyByQuantizedMultiplier must agree with exact real arithmetic to
// within one unit (it rounds twice).
func TestMultiplyByQuantizedMultiplierMatchesReal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		m := math.Exp(r.Float64()*12 - 10) // 4.5e-5 .. 7.4
		x := int32(r.IntN(1<<20) - 1<<19)
		mult, shift := QuantizeMultiplier(m)
		got := MultiplyByQuantizedMultiplier(x, mult, shift)
		want := math.Round(float64(x) * m)
		if math.Abs(float64(got)-want) > 1 {
			t.Fatalf("MultiplyByQuantizedMultiplier(%d, %g) = %d, want %v±1", x, m, got, want)
		}
	}
}

func TestActivationRange(t *testing.T) {
	tests := []struct {
		act            int
		scale          float32
		zp, qmin, qmax int32
		wantLo, wantHi int32
	}{
		{ActNone, 0.1, 3, -128, 127, -128, 127},
		{ActRelu, 0.1, 3, -128, 127, 3, 127},
		{ActRelu6, 0.1, -128, -128, 127, -128, -68},
		{ActRelu6, 0.01, 0, 0, 255, 0, 255},
		{ActReluN1To1, 0.5, 10, 0, 255, 8, 12},
	}
	for _, tc := range tests {
		lo, hi := ActivationRange(tc.act, tc.scale, tc.zp, tc.qmin, tc.qmax)
		if lo != tc.wantLo || hi != tc.wantHi {
			t.Errorf("ActivationRange(%d, %g, %d) = [%d, %d], want [%d, %d]", tc.act, tc.scale, tc.zp, lo, hi, tc.wantLo, tc.wantHi)
		}
	}
}

func TestMultiplyByQuantizedMultiplierHalfUp(t *testing.T) {
	// -604 × 0.002481 ≈ -1.4985 in a MobileNet v2 projection conv: the
	// value that showed the C library rounds the final shift half up.
	tests := []struct {
		x, mult int32
		shift   int
		want    int32
	}{
		// mult 1<<30 halves exactly for even x, so only the final
		// shift rounds.
		{6, 1 << 30, -2, 1},   // 0.75 → 1
		{-6, 1 << 30, -2, -1}, // -0.75 → -1
		{2, 1 << 30, -1, 1},   // 0.5 → 1 (half up)
		{-2, 1 << 30, -1, 0},  // -0.5 → 0 (half up; the reference gives -1)
		{-6, 1 << 30, -1, -1}, // -1.5 → -1 (the reference gives -2)
		{100, 1 << 30, 0, 50},
		{100, 1 << 30, 2, 200},
	}
	for _, tc := range tests {
		if got := MultiplyByQuantizedMultiplierHalfUp(tc.x, tc.mult, tc.shift); got != tc.want {
			t.Errorf("MultiplyByQuantizedMultiplierHalfUp(%d, %d, %d) = %d, want %d", tc.x, tc.mult, tc.shift, got, tc.want)
		}
	}
	if got := MultiplyByQuantizedMultiplier(-2, 1<<30, -1); got != -1 {
		t.Errorf("reference rounding of -0.5 = %d, want -1", got)
	}
}
