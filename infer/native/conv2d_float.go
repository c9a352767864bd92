package native

import (
	"github.com/fruitcam/fruitcam/infer/native/gemm"
	"github.com/fruitcam/fruitcam/internal/parallel"
)

// Float convolutions without horizontal dilation read their receptive
// fields in place: in an image padded with zeros on every side the window
// of output pixel (oy, ox) is, for each filter row ky, one run of kw·inC
// consecutive values, at (oy·sh + ky·dh, ox·sw); neighbouring pixels'
// runs are sw·inC values apart. The GEMM takes such rows as they are
// (gemm.Float32.ComputeSegments), so nothing is gathered per pixel: the
// input is copied once into the padded image, or not at all when no
// window reaches past it. K runs in the filter's own (ky, kx, c) order, the
// order of TFLite's reference kernel. Padding taps add ±0 products where
// the reference skips them, which changes no sum (an accumulator starts
// at +0, and +0 + −0 is +0) as long as the weights are finite, as the
// im2col path already assumed.

// paddedImage is the geometry of the padded copy of one input image.
type paddedImage struct {
	h, w  int  // rows and columns the windows span
	copy  bool // windows reach past the input: read a zeroed copy
	bytes int  // scratch for the copy
}

// maxPaddedBytes bounds the padded copy; larger inputs are gathered by
// blocks (rowwise or im2col) instead.
const maxPaddedBytes = 8 << 20

// preparePadded sets k.pad and reports whether the padded path applies.
func (k *conv2d) preparePadded() bool {
	g := &k.geom
	if g.dw != 1 || !gemm.Float32Segmented() {
		return false
	}
	p := paddedImage{
		h: (g.outH-1)*g.sh + (g.kh-1)*g.dh + 1,
		w: (g.outW-1)*g.sw + g.kw,
	}
	p.copy = g.padT > 0 || g.padL > 0 || p.h > g.inH || p.w > g.inW
	if p.copy {
		p.bytes = roundUp64(p.h * p.w * g.inC * 4)
		if p.bytes > maxPaddedBytes {
			return false
		}
	}
	k.pad = p
	return true
}

// evalPadded runs the convolution image by image: the padded copy, then
// the output rows split over the threads.
func (k *conv2d) evalPadded() {
	g := &k.geom
	batch := k.m / (g.outH * g.outW)
	for b := range batch {
		k.padImage = b
		if k.pad.copy {
			k.fillPadded(b)
		}
		parallel.For(k.threads, k.threads, k.padFn)
	}
}

// fillPadded writes image b, zero-padded, to the scratch buffer.
func (k *conv2d) fillPadded(b int) {
	g, p := &k.geom, &k.pad
	c := g.inC
	dst := view[float32](k.n.scratch)[: p.h*p.w*c : p.h*p.w*c]
	src := k.w.in.Float32s()[b*g.inH*g.inW*c : (b+1)*g.inH*g.inW*c]
	// Input columns [xa, xb) land in padded columns [xa+padL, xb+padL).
	xa, xb := 0, min(g.inW, p.w-g.padL)
	rowLen := p.w * c
	for py := range p.h {
		row := dst[py*rowLen : (py+1)*rowLen : (py+1)*rowLen]
		iy := py - g.padT
		if iy < 0 || iy >= g.inH || xb <= xa {
			clear(row)
			continue
		}
		clear(row[:g.padL*c])
		copy(row[g.padL*c:(g.padL+xb)*c], src[(iy*g.inW+xa)*c:(iy*g.inW+xb)*c])
		clear(row[(g.padL+xb)*c:])
	}
}

// paddedRows computes output rows [lo·share, hi·share) of image
// k.padImage for slots [lo, hi) (share: the rows per thread).
func (k *conv2d) paddedRows(lo, hi int) {
	g, p := &k.geom, &k.pad
	c, outC := g.inC, k.w.channels
	share := (g.outH + k.threads - 1) / k.threads
	b := k.padImage
	var img []float32
	rowLen := p.w * c
	if p.copy {
		img = view[float32](k.n.scratch)[: p.h*rowLen : p.h*rowLen]
	} else {
		img = k.w.in.Float32s()[b*g.inH*g.inW*c : (b+1)*g.inH*g.inW*c]
		rowLen = g.inW * c
	}
	out := k.w.out.Float32s()[b*g.outH*g.outW*outC : (b+1)*g.outH*g.outW*outC]
	y0, y1 := lo*share, min(hi*share, g.outH)
	if y0 >= y1 {
		return
	}
	// One call for the rows: a block of outW pixels per output row.
	k.f.ComputeSegments(out[y0*g.outW*outC:], outC, img[y0*g.sh*rowLen:], g.sw*c, g.outW, gemm.Runs{
		Len: g.kw * c, Stride: g.dh * rowLen,
		Groups: y1 - y0, AStep: g.sh * rowLen, CStep: g.outW * outC,
	})
}
