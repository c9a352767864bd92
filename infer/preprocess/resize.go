package preprocess

import "math"

// box is the source region that is resized to the model's size, in
// absolute image coordinates, half-open.
type box struct{ x0, y0, x1, y1 int }

// fitBox returns the whole image for Squash and, for Crop, the centred
// region with the output's aspect ratio, computed as Keras load_img(
// keep_aspect_ratio=True) does (integer division, start truncated).
func fitBox(minX, minY, w, h, outW, outH int, fit Fit) box {
	if fit != Crop {
		return box{minX, minY, minX + w, minY + h}
	}
	// At least one pixel: a very thin image would otherwise crop to
	// nothing (Keras would then fail inside PIL).
	cropH := max(min(h, w*outH/outW), 1)
	cropW := max(min(w, h*outW/outH), 1)
	// Keras computes int(float(h - cropH) / 2): truncation of a
	// non-negative half, i.e. integer division.
	y0 := (h - cropH) / 2
	x0 := (w - cropW) / 2
	return box{minX + x0, minY + y0, minX + x0 + cropW, minY + y0 + cropH}
}

// nearestIndex fills idx[i] with the source coordinate (relative to the
// image origin) of output pixel i, as PIL's ImagingScaleAffine does: start
// at b0 + step/2 and add step per pixel in float64, truncating. PIL
// accumulates rather than multiplying, so this reproduces its choices
// even where the two would round differently.
func nearestIndex(idx []int, b0, b1, size int) {
	step := float64(float32(b1-b0)) / float64(len(idx))
	pos := float64(b0) + step*0.5
	for i := range idx {
		// pos >= 0 here, so truncation is PIL's COORD().
		idx[i] = min(int(pos), size-1)
		pos += step
	}
}

// coeffs is a separable resampling filter for one axis: output i reads
// n[i] source pixels starting at first[i] with weights w[i*ksize:].
type coeffs struct {
	ksize int
	first []int
	n     []int
	w     []float64 // normalised weights
	fixed []int32   // w in PIL's fixed point (bilinear only)
}

func (c *coeffs) reset(out, ksize int) {
	c.ksize = ksize
	c.first = grow(c.first, out)
	c.n = grow(c.n, out)
	c.w = grow(c.w, out*ksize)
	clear(c.w)
}

// span is the range of source pixels any output reads.
func (c *coeffs) span() (lo, hi int) {
	last := len(c.first) - 1
	return c.first[0], c.first[last] + c.n[last]
}

// pilPrecision is PIL's PRECISION_BITS for 8-bit images: 32 - 8 - 2.
const pilPrecision = 22

// bilinearCoeffs computes PIL's precompute_coeffs for its BILINEAR filter
// (a triangle of support 1, widened by the scale when downscaling) over
// the source range [in0, in1) of an axis of inSize pixels, then
// normalize_coeffs_8bpc. Note the source range only sets the centres: the
// filter may read pixels outside it, up to the image edge, as PIL's does.
func (c *coeffs) bilinear(inSize int, in0, in1 float32, outSize int) {
	scale := float64(in1-in0) / float64(outSize)
	filterscale := max(scale, 1)
	support := 1.0 * filterscale
	c.reset(outSize, int(math.Ceil(support))*2+1)
	ss := 1.0 / filterscale
	for xx := range outSize {
		// float64() conversions stop the compiler fusing into FMA, so the
		// rounding is PIL's on every architecture.
		center := float64(in0) + float64((float64(xx)+0.5)*scale)
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), inSize) - xmin
		k := c.w[xx*c.ksize : (xx+1)*c.ksize]
		ww := 0.0
		for x := range xmax {
			w := triangle(float64(float64(x+xmin)-center+0.5) * ss)
			k[x] = w
			ww += w
		}
		if ww != 0 {
			for x := range xmax {
				k[x] /= ww
			}
		}
		c.first[xx], c.n[xx] = xmin, max(xmax, 0)
	}
	c.fixed = grow(c.fixed, len(c.w))
	for i, w := range c.w {
		if w < 0 {
			c.fixed[i] = int32(-0.5 + float64(w*(1<<pilPrecision)))
		} else {
			c.fixed[i] = int32(0.5 + float64(w*(1<<pilPrecision)))
		}
	}
}

func triangle(x float64) float64 {
	x = math.Abs(x)
	if x < 1 {
		return 1 - x
	}
	return 0
}

// area computes exact-overlap box weights: output i covers source
// [in0 + i*s, in0 + (i+1)*s) with s = (in1-in0)/out, and each source
// pixel [j, j+1) weighs its overlap with that interval.
func (c *coeffs) area(in0, in1, outSize int) {
	s := float64(in1-in0) / float64(outSize)
	c.reset(outSize, int(math.Ceil(s))+2)
	for i := range outSize {
		lo := float64(in0) + float64(i)*s
		hi := min(float64(in0)+float64(i+1)*s, float64(in1))
		j0 := int(math.Floor(lo))
		j1 := min(int(math.Ceil(hi)), in1, j0+c.ksize)
		k := c.w[i*c.ksize : (i+1)*c.ksize]
		sum := 0.0
		for j := j0; j < j1; j++ {
			w := min(hi, float64(j+1)) - max(lo, float64(j))
			if w < 0 {
				w = 0
			}
			k[j-j0] = w
			sum += w
		}
		if sum > 0 {
			for j := range j1 - j0 {
				k[j] /= sum
			}
		}
		c.first[i], c.n[i] = j0, j1-j0
	}
}

// clip8 is PIL's clip8: drop the fraction bits and clamp.
func clip8(ss int32) uint8 {
	v := ss >> pilPrecision
	switch {
	case v < 0:
		return 0
	case v > 255:
		return 255
	}
	return uint8(v)
}

// resampleRow8 is PIL's ImagingResampleHorizontal_8bpc for one row of ch
// interleaved channels: dst has len(c.first)*ch bytes.
func (c *coeffs) resampleRow8(dst, src []uint8, ch int) {
	for xx, first := range c.first {
		k := c.fixed[xx*c.ksize : xx*c.ksize+c.n[xx]]
		s := src[first*ch : (first+len(k))*ch]
		for ci := range ch {
			ss := int32(1 << (pilPrecision - 1))
			for x, w := range k {
				ss += int32(s[x*ch+ci]) * w
			}
			dst[xx*ch+ci] = clip8(ss)
		}
	}
}

// resampleCols8 is PIL's ImagingResampleVertical_8bpc: rows of rowLen
// bytes in src (starting at source row base) are combined into dst rows.
func (c *coeffs) resampleCols8(dst, src []uint8, rowLen, base int) {
	for yy, first := range c.first {
		k := c.fixed[yy*c.ksize : yy*c.ksize+c.n[yy]]
		out := dst[yy*rowLen : (yy+1)*rowLen]
		for xx := range out {
			ss := int32(1 << (pilPrecision - 1))
			for y, w := range k {
				ss += int32(src[(first-base+y)*rowLen+xx]) * w
			}
			out[xx] = clip8(ss)
		}
	}
}

// resampleRowF applies float weights along a row of ch channels.
func (c *coeffs) resampleRowF(dst []float32, src []uint8, ch int) {
	for xx, first := range c.first {
		k := c.w[xx*c.ksize : xx*c.ksize+c.n[xx]]
		s := src[first*ch : (first+len(k))*ch]
		for ci := range ch {
			var acc float64
			for x, w := range k {
				acc += float64(s[x*ch+ci]) * w
			}
			dst[xx*ch+ci] = float32(acc)
		}
	}
}

// resampleColsF combines float rows (from source row base) and rounds to
// 8 bits, half up.
func (c *coeffs) resampleColsF(dst []uint8, src []float32, rowLen, base int) {
	for yy, first := range c.first {
		k := c.w[yy*c.ksize : yy*c.ksize+c.n[yy]]
		out := dst[yy*rowLen : (yy+1)*rowLen]
		for xx := range out {
			var acc float64
			for y, w := range k {
				acc += float64(src[(first-base+y)*rowLen+xx]) * w
			}
			out[xx] = uint8(min(max(math.Floor(acc+0.5), 0), 255))
		}
	}
}

// grow returns s resized to n, reusing its array when large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
