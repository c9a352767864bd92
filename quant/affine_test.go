package quant

import (
	"math"
	"testing"
)

func TestAffineQuantize(t *testing.T) {
	tests := []struct {
		v     float32
		scale float64
		zp    int32
		want  int32
	}{
		{0.5, 1, 0, 1},   // half away from zero
		{-0.5, 1, 0, -1}, // half away from zero
		{1.49, 1, 10, 11},
		{300, 1, 0, 127},
		{-300, 1, 0, -128},
		{float32(math.Inf(1)), 1, 0, 127},
		{float32(math.Inf(-1)), 1, 0, -128},
		{float32(math.NaN()), 1, 5, -128},
		{3e38, 1e-30, 0, 127},
	}
	for _, tc := range tests {
		if got := AffineQuantize(tc.v, tc.scale, tc.zp, -128, 127); got != tc.want {
			t.Errorf("AffineQuantize(%g, %g, %d) = %d, want %d", tc.v, tc.scale, tc.zp, got, tc.want)
		}
	}
}

func TestFixedRescale(t *testing.T) {
	r := NewFixedRescale(0.5, 0, 0.5, 128, 0, 255)
	for q := int32(-128); q <= 127; q++ {
		if got := r.Apply(q); got != q+128 {
			t.Fatalf("same scale: %d -> %d, want %d", q, got, q+128)
		}
	}
	r = NewFixedRescale(1, 0, 4, 0, -128, 127)
	if got := r.Apply(6); got != 2 { // 1.5 rounds up
		t.Errorf("6/4 = %d, want 2", got)
	}
}

func TestFloat16ToFloat32(t *testing.T) {
	// Every finite half is a float32 whose conversion back (by rounding
	// the float64 value to 11 significant bits) is the same half.
	for h := 0; h < 1<<16; h++ {
		f := Float16ToFloat32(uint16(h))
		exp := (h >> 10) & 0x1f
		frac := h & 0x3ff
		var want float64
		switch {
		case exp == 0x1f && frac == 0:
			want = math.Inf(1)
		case exp == 0x1f:
			if f == f {
				t.Fatalf("%#04x: got %g, want NaN", h, f)
			}
			continue
		case exp == 0:
			want = math.Ldexp(float64(frac), -24)
		default:
			want = math.Ldexp(float64(frac|0x400), exp-25)
		}
		if h&0x8000 != 0 {
			want = -want
		}
		if float64(f) != want || math.Signbit(float64(f)) != (h&0x8000 != 0) {
			t.Fatalf("%#04x: got %g, want %g", h, f, want)
		}
	}
}
