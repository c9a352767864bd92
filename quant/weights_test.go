package quant

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSymmetricScales(t *testing.T) {
	// Conv weights [out=3, kh=1, kw=2, in=2]; channel 1 is all zero.
	conv := []float32{
		0.5, -1.27, 0.1, 0,
		0, 0, 0, 0,
		2.54, 0, -0.3, 1,
	}
	// Depthwise weights [1, kh=2, kw=1, out=2]: channel c is every 2nd value.
	dw := []float32{0.254, -6.35, -0.127, 1}
	tests := []struct {
		name  string
		w     []float32
		shape []int
		axis  int
		want  []float32
	}{
		{"conv per channel, zero channel takes the largest", conv, []int{3, 1, 2, 2}, 0,
			[]float32{1.27 / 127, 2.54 / 127, 2.54 / 127}},
		{"depthwise along axis 3", dw, []int{1, 2, 1, 2}, 3, []float32{0.254 / 127, 6.35 / 127}},
		{"per tensor", conv, []int{3, 4}, -1, []float32{2.54 / 127}},
		{"all zero", make([]float32, 6), []int{2, 3}, 0, []float32{1.0 / 127, 1.0 / 127}},
		{"all zero per tensor", make([]float32, 6), []int{2, 3}, -1, []float32{1.0 / 127}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SymmetricScales(tc.w, tc.shape, tc.axis)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("SymmetricScales = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestQuantizeSymmetric(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	shape := []int{4, 3, 3, 5}
	w := make([]float32, 4*3*3*5)
	for i := range w {
		w[i] = float32(r.NormFloat64()) * float32(1+i%4) // channels differ in size
	}
	for _, axis := range []int{-1, 0, 3} {
		scales, err := SymmetricScales(w, shape, axis)
		if err != nil {
			t.Fatal(err)
		}
		q := make([]int8, len(w))
		if err := QuantizeSymmetric(q, w, shape, axis, scales); err != nil {
			t.Fatal(err)
		}
		outer, n, inner, _ := splitAxis(len(w), shape, axis)
		hitMax := make([]bool, n)
		for o := range outer {
			for c := range n {
				for i := range inner {
					j := (o*n+c)*inner + i
					if q[j] < WeightQMin {
						t.Fatalf("axis %d: code %d below -127", axis, q[j])
					}
					back := float32(q[j]) * scales[c]
					if d := math.Abs(float64(back - w[j])); d > 0.5*float64(scales[c])*(1+1e-6) {
						t.Fatalf("axis %d: w[%d] = %g comes back as %g (scale %g)", axis, j, w[j], back, scales[c])
					}
					if q[j] == WeightQMax || q[j] == WeightQMin {
						hitMax[c] = true
					}
				}
			}
		}
		for c, hit := range hitMax {
			if !hit {
				t.Errorf("axis %d: channel %d never uses ±127: the scale wastes range", axis, c)
			}
		}
	}
}

func TestWeightErrors(t *testing.T) {
	if _, err := SymmetricScales([]float32{1, float32(math.NaN())}, []int{2}, 0); err == nil {
		t.Error("NaN weight accepted")
	}
	if _, err := SymmetricScales([]float32{1, 2, 3}, []int{2, 2}, 0); err == nil {
		t.Error("3 values for shape [2 2] accepted")
	}
	if _, err := SymmetricScales([]float32{1, 2}, []int{2}, 1); err == nil {
		t.Error("axis 1 of a rank-1 tensor accepted")
	}
	q := make([]int8, 2)
	if err := QuantizeSymmetric(q, []float32{1, 2}, []int{2}, 0, []float32{1, 0}); err == nil {
		t.Error("zero scale accepted")
	}
	if err := QuantizeSymmetric(q, []float32{1, 2}, []int{2}, 0, []float32{1}); err == nil {
		t.Error("one scale for two channels accepted")
	}
}

func TestQuantizeBias(t *testing.T) {
	dst := make([]int32, 4)
	bias := []float32{0.5, -0.25, 1e6, 0.015}
	scales, sat, err := QuantizeBias(dst, bias, 0.5, []float32{0.5, 0.5, 1e-6, 0.01})
	if err != nil {
		t.Fatal(err)
	}
	// 0.5/0.25 = 2; −0.25/0.25 = −1; 1e6/5e−7 = 2e12 saturates; 0.015/0.005 = 3.
	want := []int32{2, -1, math.MaxInt32, 3}
	if !slices.Equal(dst, want) || sat != 1 {
		t.Errorf("QuantizeBias = %v (%d saturated), want %v (1 saturated)", dst, sat, want)
	}
	if wantS := []float32{0.25, 0.25, 5e-7, 0.005}; !slices.Equal(scales, wantS) {
		t.Errorf("bias scales %v, want %v", scales, wantS)
	}

	// Negative saturation, per-tensor scale, and rounding half away from zero.
	_, sat, err = QuantizeBias(dst[:3], []float32{-1e9, 1.5, -2.5}, 1, []float32{1e-3})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{-math.MaxInt32, 1500, -2500}; !slices.Equal(dst[:3], want) || sat != 1 {
		t.Errorf("per-tensor QuantizeBias = %v (%d saturated), want %v (1)", dst[:3], sat, want)
	}
	_, _, err = QuantizeBias(dst[:1], []float32{0.25}, 1, []float32{2})
	if err != nil || dst[0] != 0 {
		t.Errorf("0.25/2 rounds to %d (%v), want 0", dst[0], err)
	}
	if _, _, err := QuantizeBias(dst[:1], []float32{1}, 1e-30, []float32{1e-30}); err == nil {
		t.Error("a bias scale that underflows to 0 was accepted")
	}
	if _, _, err := QuantizeBias(dst[:1], []float32{float32(math.Inf(1))}, 1, []float32{1}); err == nil {
		t.Error("infinite bias accepted")
	}
}

// TestFitBiasScales: a huge bias beside tiny weights would saturate int32;
// after FitBiasScales it fits in half the int32 range, and channels that
// already fit keep their scale.
func TestFitBiasScales(t *testing.T) {
	const inScale = 1e-3
	scales := []float32{1e-4, 2e-3}
	bias := []float32{5e3, 0.5} // 5e3 / 1e-7 = 5e10: far beyond int32
	changed, err := FitBiasScales(scales, bias, inScale)
	if err != nil || !changed {
		t.Fatalf("FitBiasScales: changed %v, err %v; want a change", changed, err)
	}
	if scales[1] != 2e-3 {
		t.Errorf("channel 1 (fits) changed scale to %g", scales[1])
	}
	dst := make([]int32, 2)
	if _, sat, err := QuantizeBias(dst, bias, inScale, scales); err != nil || sat != 0 {
		t.Fatalf("after fitting: %d saturated, err %v", sat, err)
	}
	if q := float64(dst[0]); math.Abs(q-0.5*BiasQMax) > 1e-3*BiasQMax {
		t.Errorf("fitted bias code %v, want about half of int32 (%v)", q, 0.5*BiasQMax)
	}

	// Per-tensor: the largest |bias| decides.
	one := []float32{1e-4}
	if changed, err := FitBiasScales(one, []float32{1, -5e3}, inScale); err != nil || !changed {
		t.Fatalf("per-tensor FitBiasScales: changed %v, err %v", changed, err)
	}
	if _, sat, _ := QuantizeBias(dst, []float32{1, -5e3}, inScale, one); sat != 0 {
		t.Errorf("per-tensor after fitting: %d saturated", sat)
	}
	if changed, _ := FitBiasScales([]float32{1}, []float32{1}, 1); changed {
		t.Error("a small bias changed the scale")
	}
	if _, err := FitBiasScales([]float32{1, 1}, []float32{1}, 1); err == nil {
		t.Error("2 scales for 1 bias accepted")
	}
}
