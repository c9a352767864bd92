package featuremap

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestNormalize checks the workshop's formula, clip((x − mean)/std·64 +
// 128, 0, 255) truncated to uint8, on values worked out by hand.
func TestNormalize(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	for _, tt := range []struct {
		name    string
		h, w, c int
		values  []float32
		want    []uint8 // channel after channel
	}{
		// mean 0.5, std 0.5: ∓1 standard deviation → 128 ∓ 64.
		{"two values", 1, 2, 1, []float32{0, 1}, []uint8{64, 192}},
		// std √(2/3): ±1 → 128 ± 78.38, truncated.
		{"three values", 1, 3, 1, []float32{-1, 0, 1}, []uint8{49, 128, 206}},
		// mean 1, std 3: 10 is +3 std → 320, clipped; 0 is −1/3 std → 106.67.
		{"clipped", 2, 5, 1, []float32{0, 0, 0, 0, 0, 0, 0, 0, 0, 10}, []uint8{106, 106, 106, 106, 106, 106, 106, 106, 106, 255}},
		// A large offset must not cancel: same as "two values".
		{"offset", 1, 2, 1, []float32{1e6, 1e6 + 1}, []uint8{64, 192}},
		{"constant", 2, 2, 1, []float32{3, 3, 3, 3}, []uint8{128, 128, 128, 128}},
		{"single value", 1, 1, 1, []float32{-7}, []uint8{128}},
		// Interleaved HWC: channel 0 is 0, 1; channel 1 is constant.
		{"channels", 1, 2, 2, []float32{0, 5, 1, 5}, []uint8{64, 192, 128, 128}},
		// Channel planes: element (y, x) of channel 1 lands at 4 + 2y + x;
		// channel 1 is 4, 4, 4, 0: mean 3, std √3, so 164.95 and 17.15.
		{"planes", 2, 2, 2, []float32{0, 4, 0, 4, 1, 4, 1, 0}, []uint8{64, 64, 192, 192, 164, 164, 164, 17}},
		{"infinite", 1, 3, 1, []float32{0, inf, 1}, []uint8{128, 128, 128}},
		{"nan", 1, 2, 1, []float32{nan, 1}, []uint8{128, 128}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := Map{Height: tt.h, Width: tt.w, Channels: tt.c, Values: tt.values}
			got := make([]uint8, len(tt.values))
			m.Normalize(got, nil)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Normalize(%v) = %v, want %v", tt.values, got, tt.want)
			}
		})
	}
}

// normalizeSlow is the oracle: each channel gathered on its own and the
// formula applied literally.
func normalizeSlow(m *Map) []uint8 {
	n := m.Height * m.Width
	out := make([]uint8, n*m.Channels)
	for c := range m.Channels {
		var sum float64
		for i := range n {
			sum += float64(m.Values[i*m.Channels+c])
		}
		mean := sum / float64(n)
		var ss float64
		for i := range n {
			d := float64(m.Values[i*m.Channels+c]) - mean
			ss += d * d
		}
		std := math.Sqrt(ss / float64(n))
		for i := range n {
			v := 128.0
			if std > 0 {
				v = (float64(m.Values[i*m.Channels+c])-mean)/std*64 + 128
			}
			out[c*n+i] = uint8(math.Max(0, math.Min(255, v)))
		}
	}
	return out
}

// TestNormalizeMatchesOracle compares Normalize with the literal formula
// on random maps of many shapes, reusing one scratch slice as Render does.
func TestNormalizeMatchesOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var sums []float64
	for trial := range 200 {
		h, w, c := 1+rng.IntN(9), 1+rng.IntN(9), 1+rng.IntN(40)
		m := Map{Height: h, Width: w, Channels: c, Values: make([]float32, h*w*c)}
		scale := float32(math.Pow(10, rng.Float64()*8-4))
		for i := range m.Values {
			m.Values[i] = float32(rng.NormFloat64())*scale + float32(trial%3)
			if rng.IntN(5) == 0 {
				m.Values[i] = 0 // ReLU zeros: ties and flat channels
			}
		}
		got := make([]uint8, len(m.Values))
		sums = m.Normalize(got, sums)
		if want := normalizeSlow(&m); !slices.Equal(got, want) {
			t.Fatalf("trial %d (%dx%dx%d): Normalize differs from the formula:\n got %v\nwant %v", trial, h, w, c, got, want)
		}
	}
}

func TestNormalizeAllocs(t *testing.T) {
	m := Map{Height: 8, Width: 8, Channels: 16, Values: make([]float32, 8*8*16)}
	dst := make([]uint8, len(m.Values))
	sums := m.Normalize(dst, nil)
	if n := testing.AllocsPerRun(10, func() { sums = m.Normalize(dst, sums) }); n != 0 {
		t.Errorf("Normalize with its scratch allocates %v times", n)
	}
}
