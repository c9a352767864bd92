package featuremap

import "math"

// Normalize writes the display value of every element of every channel
// of m, channel after channel: dst[c·H·W + y·W + x] is element (y, x, c).
// dst must hold Height·Width·Channels bytes. For each channel, with mean
// and std the mean and population standard deviation of its H·W values,
//
//	dst = uint8(clip((x − mean) / std · 64 + 128, 0, 255))
//
// the conversion truncating as numpy's astype(uint8) does. A channel
// whose std is 0 or not finite is flat 128: it shows no feature, and the
// formula would divide by zero. sums is scratch for 2·Channels float64s,
// grown when short and returned, so that repeated calls allocate nothing.
func (m *Map) Normalize(dst []uint8, sums []float64) []float64 {
	c := m.Channels
	n := m.Height * m.Width
	if cap(sums) < 2*c {
		sums = make([]float64, 2*c)
	}
	sums = sums[:2*c]
	clear(sums)
	mean, dev := sums[:c], sums[c:]
	// Two passes (mean, then squared deviations) rather than Σx² − n·mean²,
	// which cancels catastrophically for a channel with a large offset.
	v := m.Values[:n*c]
	for i := 0; i < len(v); i += c {
		for k, x := range v[i : i+c] {
			mean[k] += float64(x)
		}
	}
	for k := range mean {
		mean[k] /= float64(n)
	}
	for i := 0; i < len(v); i += c {
		for k, x := range v[i : i+c] {
			d := float64(x) - mean[k]
			dev[k] += d * d
		}
	}
	// dev becomes the standard deviation, 0 for a flat channel.
	for k := range dev {
		std := math.Sqrt(dev[k] / float64(n))
		if math.IsInf(std, 0) || math.IsNaN(std) {
			std = 0
		}
		dev[k] = std
	}
	for k := range c {
		out := dst[k*n : (k+1)*n]
		if dev[k] == 0 {
			for i := range out {
				out[i] = 128
			}
			continue
		}
		mk, std := mean[k], dev[k]
		for i := range out {
			out[i] = display((float64(v[i*c+k])-mk)/std*64 + 128)
		}
	}
	return sums
}

// display clips to [0, 255] and truncates; NaN (an infinite input) is 0.
func display(y float64) uint8 {
	switch {
	case y >= 255:
		return 255
	case y > 0:
		return uint8(y)
	}
	return 0
}
