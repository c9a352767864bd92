package quant

import (
	"fmt"
	"math"
)

// Histogram counts a stream of values in a fixed number of equal-width
// bins whose span grows to take whatever arrives, so that percentiles of
// millions of activations (every value of a tensor over a whole
// calibration set) cost a few kilobytes per tensor.
//
// The bins cover [lo, lo + n×width). When a value falls outside, the
// width doubles and every pair of neighbouring bins merges into one; the
// span grows either upwards (lo kept) or downwards (lo moved down by the
// old span), so each old bin lies inside exactly one new bin and no count
// is ever split or guessed. Repeated doubling reaches any finite value in
// at most a few hundred steps (float32's exponent range).
//
// The exact minimum and maximum are tracked beside the bins, so a
// quantile never leaves the observed range and a constant stream has its
// constant as every quantile. NaN and ±Inf are counted apart and otherwise
// ignored.
type Histogram struct {
	bins      []uint64
	lo, width float64 // width 0 until the first finite value arrives
	count     uint64
	min, max  float32
	nonFinite uint64
}

// NewHistogram returns an empty histogram with the given number of bins,
// which must be even and at least 2 (bins merge in pairs when the span
// grows).
func NewHistogram(bins int) (*Histogram, error) {
	if bins < 2 || bins%2 != 0 {
		return nil, fmt.Errorf("quant: histogram needs an even number of bins >= 2, got %d", bins)
	}
	return &Histogram{bins: make([]uint64, bins)}, nil
}

// Count is the number of finite values added.
func (h *Histogram) Count() uint64 { return h.count }

// NonFinite is the number of NaN and infinite values seen (and ignored).
func (h *Histogram) NonFinite() uint64 { return h.nonFinite }

// Min and Max are the exact extremes of the finite values added; both are
// 0 while Count is 0.
func (h *Histogram) Min() float32 { return h.min }

// Max: see Min.
func (h *Histogram) Max() float32 { return h.max }

// BinWidth is the current width of one bin: the resolution of Quantile.
func (h *Histogram) BinWidth() float64 { return h.width }

// Add counts every value of v.
func (h *Histogram) Add(v []float32) {
	lo, hi, ok := MinMax(v)
	if !ok {
		h.nonFinite += uint64(len(v))
		return
	}
	if h.count == 0 {
		h.min, h.max = lo, hi
		h.start(float64(lo), float64(hi))
	} else {
		h.min, h.max = min(h.min, lo), max(h.max, hi)
	}
	h.grow(float64(lo), float64(hi))
	n := len(h.bins)
	inv := 1 / h.width
	var added uint64
	for _, x := range v {
		if !(x >= -math.MaxFloat32 && x <= math.MaxFloat32) {
			continue
		}
		i := int((float64(x) - h.lo) * inv)
		// Rounding at the span's edges may land one bin out.
		i = max(0, min(n-1, i))
		h.bins[i]++
		added++
	}
	h.count += added
	h.nonFinite += uint64(len(v)) - added
}

// start places the first span over [lo, hi]. A single value gets a span
// scaled to its magnitude; later values widen it as needed.
func (h *Histogram) start(lo, hi float64) {
	n := float64(len(h.bins))
	w := (hi - lo) / n
	if w == 0 {
		w = max(math.Abs(lo), 1) * 0x1p-20 / n
	}
	// Starting a little below lo keeps lo itself away from the lower
	// edge, where rounding could push it out.
	h.lo, h.width = lo-w/2, w*(n+1)/n
}

// grow doubles the bin width until [lo, hi] fits the span.
func (h *Histogram) grow(lo, hi float64) {
	n := len(h.bins)
	for lo < h.lo || hi >= h.lo+float64(n)*h.width {
		// New bin j holds old bins 2j−k and 2j−k+1, where k is 0 when
		// growing upwards and n when growing downwards (the old span
		// becomes the upper half).
		down := lo < h.lo
		k := 0
		if down {
			k = n
		}
		merged := make([]uint64, n)
		for i, c := range h.bins {
			merged[(i+k)/2] += c
		}
		h.bins = merged
		if down {
			h.lo -= float64(n) * h.width
		}
		h.width *= 2
	}
}

// Quantile returns an estimate of the q-quantile (0 ≤ q ≤ 1) of the values
// added, defined on the sorted values x₀ ≤ … ≤ x_{N−1} as the value at the
// fractional rank q×(N−1), interpolating linearly between its two
// neighbours (numpy's default). Each xⱼ is estimated from its bin, taking
// the c values of a bin as sitting at the centres of c equal slices of it,
// so every estimate is within one bin width of the exact quantile. It is
// clamped to [Min, Max]; an empty histogram gives 0.
func (h *Histogram) Quantile(q float64) float32 {
	if h.count == 0 {
		return 0
	}
	q = max(0, min(1, q))
	rank := q * float64(h.count-1)
	k := uint64(rank)
	k = min(k, h.count-1)
	v := h.at(k)
	if f := rank - float64(k); f > 0 && k+1 < h.count {
		v += f * (h.at(k+1) - v)
	}
	return float32(max(float64(h.min), min(float64(h.max), v)))
}

// at estimates xⱼ, the j-th smallest value (0-based); the extremes are
// known exactly.
func (h *Histogram) at(j uint64) float64 {
	switch j {
	case 0:
		return float64(h.min)
	case h.count - 1:
		return float64(h.max)
	}
	var below uint64
	for i, c := range h.bins {
		if j < below+c {
			frac := (float64(j-below) + 0.5) / float64(c)
			return h.lo + (float64(i)+frac)*h.width
		}
		below += c
	}
	return float64(h.max)
}

// PercentileRange returns the range that keeps p percent (0 < p ≤ 100) of
// each tail: [Quantile(1 − p/100), Quantile(p/100)]. p = 99.99 drops the
// lowest and the highest 0.01 % of the values, the outliers that would
// otherwise stretch an 8-bit scale.
func (h *Histogram) PercentileRange(p float64) (lo, hi float32, err error) {
	if !(p > 50 && p <= 100) {
		return 0, 0, fmt.Errorf("quant: percentile %g out of range (50, 100]", p)
	}
	if p == 100 {
		return h.min, h.max, nil
	}
	return h.Quantile(1 - p/100), h.Quantile(p / 100), nil
}
