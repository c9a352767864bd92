package quant

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// oracleQuantile is the q-quantile of the sorted values with linear
// interpolation, the definition Quantile approximates.
func oracleQuantile(sorted []float32, q float64) float64 {
	r := q * float64(len(sorted)-1)
	k := int(r)
	if k >= len(sorted)-1 {
		return float64(sorted[len(sorted)-1])
	}
	f := r - float64(k)
	return float64(sorted[k]) + f*(float64(sorted[k+1])-float64(sorted[k]))
}

func TestHistogramQuantileMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	dists := map[string]func(i int) float32{
		"normal":       func(int) float32 { return float32(r.NormFloat64()) },
		"relu":         func(int) float32 { return float32(max(0, r.NormFloat64()*3)) },
		"heavy tail":   func(int) float32 { return float32(r.ExpFloat64() * r.ExpFloat64() * 10) },
		"outliers":     func(i int) float32 { return float32(r.Float64()) + float32(map[bool]float64{true: 1e4}[i%5000 == 7]) },
		"growing span": func(i int) float32 { return float32(r.NormFloat64() * float64(1+i/1000)) },
		"sparse":       func(i int) float32 { return float32(i%3) * 100 },
	}
	qs := []float64{0, 1e-4, 1e-3, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 0.9999, 1}
	for name, gen := range dists {
		t.Run(name, func(t *testing.T) {
			h, err := NewHistogram(512)
			if err != nil {
				t.Fatal(err)
			}
			var all []float32
			for chunk := range 20 {
				v := make([]float32, 1000+chunk*37)
				for i := range v {
					v[i] = gen(len(all) + i)
				}
				h.Add(v)
				all = append(all, v...)
			}
			if h.Count() != uint64(len(all)) {
				t.Fatalf("Count %d, want %d", h.Count(), len(all))
			}
			var sum uint64
			for _, c := range h.bins {
				sum += c
			}
			if sum != h.Count() {
				t.Fatalf("bins hold %d values, want %d: growth lost counts", sum, h.Count())
			}
			slices.Sort(all)
			if h.Min() != all[0] || h.Max() != all[len(all)-1] {
				t.Errorf("Min, Max = %g, %g; want %g, %g", h.Min(), h.Max(), all[0], all[len(all)-1])
			}
			for _, q := range qs {
				got, want := float64(h.Quantile(q)), oracleQuantile(all, q)
				if d := math.Abs(got - want); d > h.BinWidth()*(1+1e-9) {
					t.Errorf("Quantile(%g) = %g, sort gives %g: off by %g, more than a bin (%g)", q, got, want, d, h.BinWidth())
				}
			}
		})
	}
}

func TestHistogramConstantAndEmpty(t *testing.T) {
	h, _ := NewHistogram(64)
	if got := h.Quantile(0.5); got != 0 {
		t.Errorf("empty Quantile = %g, want 0", got)
	}
	h.Add([]float32{-2.5, -2.5, -2.5})
	h.Add([]float32{-2.5})
	for _, q := range []float64{0, 0.3, 1} {
		if got := h.Quantile(q); got != -2.5 {
			t.Errorf("constant stream: Quantile(%g) = %g, want -2.5", q, got)
		}
	}
	lo, hi, err := h.PercentileRange(99.99)
	if err != nil || lo != -2.5 || hi != -2.5 {
		t.Errorf("PercentileRange = %g, %g, %v; want -2.5, -2.5", lo, hi, err)
	}
}

func TestHistogramNonFinite(t *testing.T) {
	h, _ := NewHistogram(8)
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	h.Add([]float32{nan, inf})
	h.Add([]float32{1, nan, 2, -inf, 3})
	if h.Count() != 3 || h.NonFinite() != 4 {
		t.Errorf("Count %d, NonFinite %d; want 3, 4", h.Count(), h.NonFinite())
	}
	if lo, hi := h.Quantile(0), h.Quantile(1); lo != 1 || hi != 3 {
		t.Errorf("extremes %g, %g; want 1, 3", lo, hi)
	}
}

func TestHistogramPercentileRange(t *testing.T) {
	h, _ := NewHistogram(2048)
	v := make([]float32, 100000)
	for i := range v {
		v[i] = float32(i) / 1000 // 0 .. 99.999, evenly
	}
	v[0], v[1] = -500, 800 // one outlier per tail
	h.Add(v)
	lo, hi, err := h.PercentileRange(99.99)
	if err != nil {
		t.Fatal(err)
	}
	// 0.01 % of 1e5 values is 10: the outliers are cut off.
	if lo < -0.5 || lo > 0.5 || hi < 99 || hi > 100.5 {
		t.Errorf("PercentileRange(99.99) = [%g, %g], want about [0, 100]", lo, hi)
	}
	if lo, hi, _ := h.PercentileRange(100); lo != -500 || hi != 800 {
		t.Errorf("PercentileRange(100) = [%g, %g], want [-500, 800]", lo, hi)
	}
	for _, p := range []float64{0, 50, 100.1, math.NaN()} {
		if _, _, err := h.PercentileRange(p); err == nil {
			t.Errorf("PercentileRange(%g) accepted", p)
		}
	}
	for _, n := range []int{0, 1, 3} {
		if _, err := NewHistogram(n); err == nil {
			t.Errorf("NewHistogram(%d) accepted", n)
		}
	}
}
