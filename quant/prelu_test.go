package quant

import (
	"math"
	"testing"
)

// TestPreluParams checks PreluParams on every pair of int8 input and alpha
// codes against the exactly rounded real result: the two fixed-point
// multiplies may be off by one step, never more. Bit-exactness with
// TensorFlow Lite is checked by infer/native's TestPreluMatchesTFLite.
func TestPreluParams(t *testing.T) {
	for _, tc := range []struct {
		si, sa, so float32
		zi, za, zo int32
	}{
		{0.05, 0.5 / 255, 0.04, 3, -128, -20},         // LeakyReLU(0.5): alpha codes 0..255 over [0, 0.5]
		{0.1, 0.01, 0.02, -128, 0, 127},               // output scale finer than input: multipliers above 1
		{0.02, 0.03, 0.5, 10, -7, 0},                  // coarse output: most codes collapse
		{0.003, 0.004, 0.003, 0, 100, -128},           // alpha mostly negative
		{1.0 / 255, 2.0 / 255, 1.0 / 127, 0, -128, 0}, // alpha in [0, 2]
	} {
		p, err := NewPreluParams(tc.si, tc.zi, tc.sa, tc.za, tc.so, tc.zo, -128, 127)
		if err != nil {
			t.Fatal(err)
		}
		for q := int32(-128); q <= 127; q++ {
			for a := int32(-128); a <= 127; a++ {
				x := float64(tc.si) * float64(q-tc.zi)
				if x < 0 {
					x *= float64(tc.sa) * float64(a-tc.za)
				}
				want := int32(min(max(math.Round(x/float64(tc.so))+float64(tc.zo), -128), 127))
				if got := p.Prelu(q, a); got-want > 1 || want-got > 1 {
					t.Fatalf("%+v: Prelu(%d, %d) = %d, want %d±1", tc, q, a, got, want)
				}
			}
		}
	}
	if _, err := NewPreluParams(0.1, 0, 0, 0, 0.1, 0, -128, 127); err == nil {
		t.Error("zero alpha scale: no error")
	}
}
