package quant

import (
	"errors"
	"math"
	"testing"
)

// The int16 helpers must agree with the 32-bit gemmlowp functions wherever
// both apply.
func TestHardSwishInt16Helpers(t *testing.T) {
	vals := []int16{math.MinInt16, -32767, -20000, -129, -128, -3, -2, -1, 0, 1, 2, 3, 127, 128, 20000, math.MaxInt16}
	for _, a := range vals {
		for e := 0; e < 15; e++ {
			if got, want := int32(rdbpot16(a, e)), RoundingDivideByPOT(int32(a), e); got != want {
				t.Errorf("rdbpot16(%d, %d) = %d, want %d", a, e, got, want)
			}
		}
		for _, b := range vals {
			// srdhm16 is the 32-bit one with a moved up 16 bits.
			want16 := min(SaturatingRoundingDoublingHighMul(int32(a)<<16, int32(b)), math.MaxInt16)
			if got := int32(srdhm16(a, b)); got != want16 {
				t.Errorf("srdhm16(%d, %d) = %d, want %d", a, b, got, want16)
			}
			p := int32(a) * int32(b) * 2
			want := int32(float64(p) / 65536) // truncation toward zero
			if a == math.MinInt16 && b == math.MinInt16 {
				want = math.MaxInt16
			}
			if got := int32(sdhm16(a, b)); got != want {
				t.Errorf("sdhm16(%d, %d) = %d, want %d", a, b, got, want)
			}
		}
	}
	if got := satLeftShift16(20000, 1); got != math.MaxInt16 {
		t.Errorf("satLeftShift16(20000, 1) = %d", got)
	}
	if got := satLeftShift16(-20000, 3); got != math.MinInt16 {
		t.Errorf("satLeftShift16(-20000, 3) = %d", got)
	}
	if got := q31ToQ15(math.MaxInt32); got != math.MaxInt16 {
		t.Errorf("q31ToQ15(max) = %d", got)
	}
	if got := q31ToQ15(1 << 30); got != 1<<14 {
		t.Errorf("q31ToQ15(2^30) = %d", got)
	}
	// Exponents of 16 and more: the mask wraps as in C.
	if got := rdbpot16(-1, 16); got != -1 {
		t.Errorf("rdbpot16(-1, 16) = %d, want -1", got)
	}
}

func TestHardSwishParams(t *testing.T) {
	if _, err := NewHardSwishParams(1, 0, 1.0/256, 0); !errors.Is(err, ErrHardSwishScale) {
		t.Errorf("output scale inScale/256: got %v, want ErrHardSwishScale", err)
	}
	p, err := NewHardSwishParams(0.05, 0, 0.05, 0)
	if err != nil {
		t.Fatal(err)
	}
	// hard_swish(x) for x = q*0.05 against the exact value, within a step.
	for q := int32(-128); q <= 127; q++ {
		x := 0.05 * float64(q)
		want := math.Round(x * min(max(x+3, 0), 6) / 6 / 0.05)
		if got := p.HardSwish(q, -128, 127); math.Abs(float64(got)-want) > 1 {
			t.Errorf("code %d: got %d, want %g", q, got, want)
		}
	}
}
