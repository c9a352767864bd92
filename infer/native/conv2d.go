package native

import (
	"fmt"
	"unsafe"

	"github.com/fruitcam/fruitcam/infer/native/gemm"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/parallel"
)

// conv2d implements CONV_2D: input [batch, h, w, inC], filter
// [outC, kh, kw, inC], optional bias [outC], output [batch, oh, ow, outC].
//
// It is a GEMM with M = batch·oh·ow output pixels, N = outC and
// K = kh·kw·inC: the filter is already an N×K matrix, packed once in
// prepare. A 1×1, stride-1 convolution is that GEMM on the input itself
// (the GEMM reads uint8 and int8 alike). Otherwise each thread gathers
// blocks of output pixels' receptive fields into its part of the scratch
// buffer and multiplies them: by input column where inputs have enough
// channels (rowwiseRange: each value copied kh times, the GEMM's rows
// overlapping), else as im2col (kh·kw times); padding taps get the
// input's zero point, so they add nothing, as in TFLite's reference
// kernel, which skips them. Float convolutions skip the gathering where
// the float kernel reads rows in place (conv2d_float.go).
type conv2d struct {
	n    *node
	opts *tfl.Conv2DOptions
	act  int

	// Set by prepare.
	w         *weightOp
	packed    []byte // filter bytes q or f were built from
	q         *gemm.Int8
	f         *gemm.Float32
	geom      convGeom
	m, k      int
	direct    bool
	threads   int // scratch slots
	blockRows int
	rowwise   bool // gather by input column (rowwiseRange), K in (kx, ky, c) order
	packedRow bool // the packed filter is in that order
	segPixels int  // rowwise: output pixels per gathered segment
	slot      int  // scratch bytes per thread
	workerFn  func(lo, hi int)

	// Float convolutions that read their receptive fields in place
	// (conv2d_float.go).
	padded   bool
	pad      paddedImage
	padImage int // the image evalPadded is on
	padFn    func(lo, hi int)
}

func newConv2D(n *node) (kernel, error) {
	o, ok := n.opts.(*tfl.Conv2DOptions)
	if !ok {
		return nil, fmt.Errorf("missing Conv2DOptions")
	}
	act, err := fusedActivation(o.Activation)
	if err != nil {
		return nil, err
	}
	k := &conv2d{n: n, opts: o, act: act}
	k.workerFn = k.worker
	k.padFn = k.paddedRows
	return k, nil
}

// convGeom is the geometry im2col needs.
type convGeom struct {
	inH, inW, inC  int
	kh, kw         int
	sh, sw, dh, dw int
	padT, padL     int
	outH, outW     int
}

func (k *conv2d) prepare() error {
	w, err := checkWeightOp(k.n, 0)
	if err != nil {
		return err
	}
	in, f := w.in, w.filter
	if len(in.Shape) != 4 || len(f.Shape) != 4 {
		return fmt.Errorf("input %v and filter %v must both have rank 4", in.Shape, f.Shape)
	}
	for _, d := range append(in.Shape[:4:4], f.Shape...) {
		if d <= 0 {
			return fmt.Errorf("input %v and filter %v must have positive dimensions", in.Shape, f.Shape)
		}
	}
	if f.Shape[3] != in.Shape[3] {
		return fmt.Errorf("filter %v has %d input channels, input %v has %d (grouped convolution is not supported)",
			f.Shape, f.Shape[3], in.Shape, in.Shape[3])
	}
	if err := w.symmetricFilter(); err != nil {
		return err
	}
	o := k.opts
	win, err := computeWindow(o.Padding, in.Shape[1], in.Shape[2], f.Shape[1], f.Shape[2], o.StrideH, o.StrideW, o.DilationH, o.DilationW)
	if err != nil {
		return err
	}
	batch := in.Shape[0]
	k.geom = convGeom{inH: in.Shape[1], inW: in.Shape[2], inC: in.Shape[3], kh: f.Shape[1], kw: f.Shape[2],
		sh: o.StrideH, sw: o.StrideW, dh: o.DilationH, dw: o.DilationW,
		padT: win.padT, padL: win.padL, outH: win.outH, outW: win.outW}
	w.out.Shape = []int{batch, win.outH, win.outW, w.channels}
	k.m = batch * win.outH * win.outW
	k.k = f.Shape[1] * f.Shape[2] * f.Shape[3]

	g := k.geom
	elem := w.typ.Size()
	k.direct = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.padT == 0 && g.padL == 0 &&
		g.outH == g.inH && g.outW == g.inW
	// Gathering by input column needs neighbouring taps of a filter row to
	// be neighbouring input pixels (no horizontal dilation) and segments
	// of a few pixels within the scratch budget. Inputs of few channels
	// (an image's three) gather in runs too short to gain. K runs in
	// (kx, ky, c) order then: integer sums are exact in any order; float
	// sums differ from the (ky, kx, c) order in the last bits (every
	// kernel still sums the same way, and the conformance models stay
	// within their tolerance of TensorFlow Lite).
	k.segPixels = 0
	if !k.direct && g.dw == 1 && g.kw > 1 && g.inC*elem >= 16 {
		colBytes := g.kh * g.inC * elem
		if n := ((rowwiseBytes/colBytes)-g.kw)/g.sw + 1; n >= 4 {
			k.segPixels = min(n, g.outW)
		}
	}
	// Float convolutions read their receptive fields in place, from the
	// input or a padded copy of it, when the float kernel can (padded).
	k.padded = !k.direct && w.typ == tfl.Float32 && k.preparePadded()
	if k.padded {
		k.segPixels = 0
	}
	k.rowwise = k.segPixels > 0

	if (k.q == nil && k.f == nil) || !sameBytes(k.packed, f.Data) || k.packedRow != k.rowwise {
		var q *gemm.Int8
		var fl *gemm.Float32
		var err error
		if k.rowwise {
			q, fl, err = w.gemmOf(k.act, w.typ == tfl.Uint8, filterColumnsFirst(f.Data, w.channels, g.kh, g.kw, g.inC*elem))
		} else {
			q, fl, err = w.gemm(k.act, w.typ == tfl.Uint8)
		}
		if err != nil {
			return err
		}
		k.q, k.f, k.packed, k.packedRow = q, fl, f.Data, k.rowwise
	}
	k.w = w

	k.threads, k.slot = 0, 0
	if k.padded {
		k.threads = min(gemm.Threads(k.n.threads, k.m, w.channels, k.k), g.outH)
		k.n.scratchSize = k.pad.bytes
	} else if k.rowwise {
		k.threads = min(gemm.Threads(k.n.threads, k.m, w.channels, k.k), k.m)
		k.slot = roundUp64(((k.segPixels-1)*g.sw + g.kw) * g.kh * g.inC * elem)
		k.n.scratchSize = k.threads * k.slot
	} else if !k.direct {
		k.threads = min(gemm.Threads(k.n.threads, k.m, w.channels, k.k), k.m)
		chunk := (k.m + k.threads - 1) / k.threads
		// Blocks of up to 64 rows whose im2col copy stays within 32 KiB (in
		// L1 while the kernel reads it), a multiple of 4 rows (the
		// kernels' row tile) where possible.
		k.blockRows = min(chunk, max(4, min(64, 32<<10/(k.k*elem))&^3))
		k.slot = roundUp64(k.blockRows * k.k * elem)
		k.n.scratchSize = k.threads * k.slot
	}
	return nil
}

func (k *conv2d) eval() {
	in, out := k.w.in, k.w.out
	if k.direct {
		inC, outC := k.geom.inC, k.w.channels
		if k.f != nil {
			k.f.Run(k.n.threads, out.Float32s(), outC, in.Float32s(), inC, k.m)
		} else {
			k.q.Run(k.n.threads, out.Data, outC, in.Data, inC, k.m)
		}
		return
	}
	if k.padded {
		k.evalPadded()
		return
	}
	parallel.For(k.threads, k.threads, k.workerFn)
}

// worker runs scratch slots [lo, hi): slot t computes the t-th contiguous
// share of the output pixels, block by block.
func (k *conv2d) worker(lo, hi int) {
	chunk := (k.m + k.threads - 1) / k.threads
	outC := k.w.channels
	for t := lo; t < hi; t++ {
		slot := scratchSlot(k.n.scratch, t, k.slot)
		r1 := min((t+1)*chunk, k.m)
		if k.rowwise {
			k.rowwiseRange(slot, t*chunk, r1)
			continue
		}
		for r := t * chunk; r < r1; r += k.blockRows {
			rows := min(k.blockRows, r1-r)
			if k.f != nil {
				a := view[float32](slot)
				im2col(&k.geom, a, k.w.in.Float32s(), r, rows, 0)
				k.f.Compute(k.w.out.Float32s()[r*outC:], outC, a, k.k, rows)
			} else {
				im2col(&k.geom, slot, k.w.in.Data, r, rows, k.q.PadValue())
				k.q.Compute(k.w.out.Data[r*outC:], outC, slot, k.k, rows)
			}
		}
	}
}

// rowwiseBytes bounds a gathered segment, so that it stays in L1 while
// the GEMM reads it (a variable for tests).
var rowwiseBytes = 24 << 10

// rowwiseRange computes output pixels [r0, r1) by segments of one output
// row. For each segment it gathers, for every input column x the segment's
// windows touch, the kh input pixels the filter rows see (padding taps get
// the pad value): col(x) = in[y0][x], in[y0+dh][x], … Consecutive columns
// are adjacent, so the receptive field of output pixel ox is the kw·kh·inC
// values from col(ox·sw) on, in (kx, ky, c) order, the order the filter
// was packed in; neighbouring pixels' rows of the GEMM's A overlap
// (lda = sw·kh·inC < K). This copies each input value kh times instead
// of im2col's kh·kw, in fewer, longer runs.
func (k *conv2d) rowwiseRange(slot []byte, r0, r1 int) {
	g := &k.geom
	outC := k.w.channels
	perImage := g.outH * g.outW
	colLen := g.kh * g.inC // values
	lda := g.sw * colLen
	elem := k.w.typ.Size()
	var pad byte // +0.0 for floats
	if k.q != nil {
		pad = k.q.PadValue()
	}
	src := k.w.in.Data
	imgBytes := g.inH * g.inW * g.inC * elem
	for r := r0; r < r1; {
		b, rem := r/perImage, r%perImage
		oy, ox := rem/g.outW, rem%g.outW
		cnt := min(r1-r, g.outW-ox, k.segPixels)
		width := (cnt-1)*g.sw + g.kw
		a := slot[:width*colLen*elem]
		gatherColumns(g, elem, a, src[b*imgBytes:(b+1)*imgBytes], oy, ox*g.sw-g.padL, width, pad)
		if k.f != nil {
			k.f.Compute(k.w.out.Float32s()[r*outC:], outC, view[float32](a), lda, cnt)
		} else {
			k.q.Compute(k.w.out.Data[r*outC:], outC, a, lda, cnt)
		}
		r += cnt
	}
}

// gatherColumns writes width columns of kh·inC values of elem bytes for
// output row oy, starting at input column x0 (negative or past the input:
// padding, every byte pad).
func gatherColumns(g *convGeom, elem int, dst, img []byte, oy, x0, width int, pad byte) {
	c := g.inC * elem
	colLen := g.kh * c
	// Columns [xa, xb) lie inside the input.
	xa := min(max(0, -x0), width)
	xb := max(min(width, g.inW-x0), xa)
	for ky := range g.kh {
		iy := oy*g.sh - g.padT + ky*g.dh
		if iy < 0 || iy >= g.inH {
			for x := range width {
				fill(dst[x*colLen+ky*c:x*colLen+(ky+1)*c], pad)
			}
			continue
		}
		for x := range xa {
			fill(dst[x*colLen+ky*c:x*colLen+(ky+1)*c], pad)
		}
		for x := xb; x < width; x++ {
			fill(dst[x*colLen+ky*c:x*colLen+(ky+1)*c], pad)
		}
		if xb > xa {
			row := img[iy*g.inW*c : (iy+1)*g.inW*c]
			scatterRuns(dst[xa*colLen+ky*c:(xb-1)*colLen+(ky+1)*c], row[(x0+xa)*c:(x0+xb)*c], c, colLen)
		}
	}
}

// scatterRuns copies the consecutive runs of c bytes in src to dst, one
// every stride bytes. Runs of a multiple of 16 bytes up to 128 move 16
// bytes at a time inline, cheaper at these sizes than a call to memmove.
func scatterRuns(dst, src []byte, c, stride int) {
	n := len(src) / c
	if n == 0 {
		return
	}
	if c%16 != 0 || c > 128 {
		for i := range n {
			copy(dst[i*stride:i*stride+c], src[i*c:(i+1)*c])
		}
		return
	}
	_ = dst[(n-1)*stride+c-1]
	_ = src[n*c-1]
	d0, s0 := unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0])
	for i := range n {
		// Offsets from the start, not pointers stepped past the last run:
		// a pointer beyond the allocation is invalid even unused (checkptr).
		d, s := unsafe.Add(d0, i*stride), unsafe.Add(s0, i*c)
		for j := 0; j < c; j += 16 {
			*(*[16]byte)(unsafe.Add(d, j)) = *(*[16]byte)(unsafe.Add(s, j))
		}
	}
}

// filterColumnsFirst returns a copy of an [n, kh, kw, c] filter (c given
// in bytes) reordered to [n, kw, kh, c].
func filterColumnsFirst(f []byte, n, kh, kw, c int) []byte {
	out := make([]byte, len(f))
	for o := range n {
		for ky := range kh {
			for kx := range kw {
				s := ((o*kh+ky)*kw + kx) * c
				d := ((o*kw+kx)*kh + ky) * c
				copy(out[d:d+c], f[s:s+c])
			}
		}
	}
	return out
}

// im2col writes the receptive fields of output pixels [r0, r0+rows) (in
// batch, row, column order) as rows of K = kh·kw·inC values, in the
// filter's (ky, kx, c) order. Taps outside the input get pad.
func im2col[T byte | float32](g *convGeom, dst, src []T, r0, rows int, pad T) {
	k := g.kh * g.kw * g.inC
	perImage := g.outH * g.outW
	imgLen := g.inH * g.inW * g.inC
	span := g.kw * g.inC
	for i := range rows {
		r := r0 + i
		b, rem := r/perImage, r%perImage
		oy, ox := rem/g.outW, rem%g.outW
		row := dst[i*k : (i+1)*k : (i+1)*k]
		img := src[b*imgLen : (b+1)*imgLen : (b+1)*imgLen]
		iy0, ix0 := oy*g.sh-g.padT, ox*g.sw-g.padL
		// With no dilation and the window inside the row, a filter row
		// is one contiguous run of the input.
		whole := g.dw == 1 && ix0 >= 0 && ix0+g.kw <= g.inW
		for ky := range g.kh {
			seg := row[ky*span : (ky+1)*span : (ky+1)*span]
			iy := iy0 + ky*g.dh
			if iy < 0 || iy >= g.inH {
				fill(seg, pad)
				continue
			}
			if whole {
				off := (iy*g.inW + ix0) * g.inC
				copy(seg, img[off:off+span])
				continue
			}
			for kx := range g.kw {
				d := seg[kx*g.inC : (kx+1)*g.inC : (kx+1)*g.inC]
				ix := ix0 + kx*g.dw
				if ix < 0 || ix >= g.inW {
					fill(d, pad)
					continue
				}
				off := (iy*g.inW + ix) * g.inC
				copy(d, img[off:off+g.inC])
			}
		}
	}
}

func fill[T any](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}
