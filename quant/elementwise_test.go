package quant

import (
	"math"
	"testing"
)

func TestAveragePoolDivide(t *testing.T) {
	for _, tc := range []struct{ sum, count, want int32 }{
		{10, 4, 3}, {9, 4, 2}, {6, 4, 2}, {-6, 4, -2}, {-5, 4, -1}, {-10, 4, -3}, {0, 9, 0}, {-1, 9, 0}, {127 * 49, 49, 127},
	} {
		if got := AveragePoolDivide(tc.sum, tc.count); got != tc.want {
			t.Errorf("AveragePoolDivide(%d, %d) = %d, want %d", tc.sum, tc.count, got, tc.want)
		}
	}
}

func TestNewAddParams(t *testing.T) {
	p, err := NewAddParams(0.5, 3, 0.25, -2, 0.5, 1, -128, 127)
	if err != nil {
		t.Fatal(err)
	}
	// s1 is the larger scale: m1 = 0.5 exactly (2^30, shift 0), m2 = 0.25.
	if p.In1Mult != 1<<30 || p.In1Shift != 0 || p.In2Mult != 1<<30 || p.In2Shift != -1 {
		t.Errorf("input multipliers %d<<%d, %d<<%d", p.In1Mult, p.In1Shift, p.In2Mult, p.In2Shift)
	}
	// (10−3)·0.5 + (6+2)·0.25 = 5.5 → 11 steps of 0.5, +1.
	if got := p.Add(10, 6); got != 12 {
		t.Errorf("Add = %d, want 12", got)
	}
	if got := p.Sub(10, 6); got != 4 { // 3.5−2 = 1.5 → 3, +1
		t.Errorf("Sub = %d, want 4", got)
	}
	if _, err := NewAddParams(1, 0, 1, 0, 1e-7, 0, -128, 127); err == nil {
		t.Error("tiny output scale: no error")
	}
	if _, err := NewAddParams(0, 0, 1, 0, 1, 0, -128, 127); err == nil {
		t.Error("zero scale: no error")
	}
}

func TestNewMulParams(t *testing.T) {
	p, err := NewMulParams(0.5, 0, 0.5, 0, 0.125, 0, -128, 127)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Mul(3, -5); got != -30 { // 1.5·−2.5 = −3.75 / 0.125
		t.Errorf("Mul = %d, want -30", got)
	}
	if got := p.Mul(100, 100); got != 127 {
		t.Errorf("Mul saturates to %d, want 127", got)
	}
}

func TestRequantizer(t *testing.T) {
	r := NewRequantizer(0.5, 10, 0.25, -3, -128, 127)
	for q := int32(-128); q <= 127; q++ {
		want := math.Round(float64(q-10)*2) - 3
		want = max(min(want, 127), -128)
		if got := r.Requantize(q); got != int32(want) {
			t.Fatalf("Requantize(%d) = %d, want %g", q, got, want)
		}
	}
}

func TestMeanRescale(t *testing.T) {
	m := NewMeanRescale(0.5, 2, 0.25, 1, 4, 0, 255)
	// Raw sum 18 of 4 values: mean 4.5 → real (4.5−2)·0.5 = 1.25 → 5 steps + 1.
	if got := m.Mean(18); got != 6 {
		t.Errorf("Mean(18) = %d, want 6", got)
	}
	if got := MeanSame(-7, 2); got != -3 {
		t.Errorf("MeanSame(-7, 2) = %d, want -3 (truncation)", got)
	}
}
