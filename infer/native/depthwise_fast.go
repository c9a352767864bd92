package native

import (
	"unsafe"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// dwFast is the fast path of quantised depthwise convolutions with depth
// multiplier 1 (every MobileNet): each output channel reads its own input
// channel, so a pixel is a few channel vectors multiplied tap by tap, which
// SIMD kernels do 16 or 32 channels at a time.
//
// Two rearrangements make every pixel the same loop with no test inside:
//
//   - The input offset is taken out of the sum:
//     Σ (in + inOff)·f = Σ in·f + inOff·Σf, and inOff·Σf is folded into
//     the bias. int32 arithmetic wraps, so this is exact.
//   - A tap outside the input contributes nothing in the reference loop;
//     here it reads the input zero point instead, whose term
//     (zp + inOff)·f is 0. The input rows of an output row whose window
//     leaves the input at the top or bottom are copied into a strip padded
//     with the zero point; the few pixels of other rows whose window
//     leaves it at the sides are gathered one by one into a patch; all
//     other pixels read the input directly.
//
// The output stage is the reference one (quant.MultiplyByQuantizedMultiplier,
// ties away from zero) for every channel, computed in one 64-bit step:
// with P = (x << lsh)·mult, r the rounding right shift, h = 2^(r−1) (0
// when r = 0) and neg = 1 when the doubling high multiply is negative
// (P < −2^30) and r > 0,
//
//	RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x << lsh, mult), r)
//	  = RoundingDivideByPOT(floor((P + 2^30) / 2^31), r)
//	  = floor((floor((P + 2^30) / 2^31) + h − neg) / 2^r)
//	  = (P + 2^30 + (h − neg)·2^31) >> (31 + r)
//
// The first step holds because the multiplier is never negative (so the
// high multiply never saturates), the second is RoundingDivideByPOT's
// ties away from zero, the third nests the floors. |P| < 2^62, so
// nothing overflows.
type dwFast struct {
	taps   int      // kh·kw
	c      int      // channels
	k3     bool     // a 3×3 window, which SIMD kernels may unroll
	inner  dwWindow // taps of a window read from the input
	patch  dwWindow // taps of a window gathered into a patch
	strip  dwWindow // taps of a window in a strip
	kh     int      // window rows: the rows of a strip
	stripW int      // columns of a strip: the padded input width the output row reads
	// xa, xb bound the output columns whose window stays inside the
	// input's width; rows are checked per output row.
	xa, xb int

	// The sources of every kernel's tables. A SIMD kernel that computes
	// every channel leaves them nil once it has its own.
	filt  []int16 // [taps][c]: filter value − filter zero point
	bias  []int32 // [c]: bias + inOff·Σ_taps filt
	mult  []int32 // [c]
	shift []int   // [c]: QuantizeMultiplier's exponent
	// The portable loop's output stage, for the channels the SIMD
	// kernel does not compute (nil when it computes them all).
	stage []dwStage

	zp   []byte // c bytes of the input zero point: a missing tap
	outZ int32
	lo   int32
	hi   int32

	simd dwSIMD // the arch kernels' tables; simd.ok is false without one
}

// Kernel selection, read when an operator is prepared; tests change them
// to run every path on the same data. dwFastPath enables the fast path;
// dwKernelSIMD the arch's SIMD kernels where the CPU has them (else the
// portable loop runs); dwKernel3x3 the kernels unrolled for 3×3 windows;
// dwKernelWide the widest of those (AVX-512 on amd64).
var (
	dwFastPath   = true
	dwKernelSIMD = true
	dwKernel3x3  = true
	dwKernelWide = true
)

// fastEligible reports whether the fast path handles k: quantised, depth
// multiplier 1.
func (k *depthwise) fastEligible() bool {
	return dwFastPath && k.dm == 1 && k.w.typ != tfl.Float32
}

// fastTables builds the fast path's tables from the filter and from
// k.qBias, k.mult, k.shift and k.inOff, which tables has computed (the
// input offset is folded into k.qBias in place: the general loop does not
// run beside the fast path).
func (k *depthwise) fastTables() {
	g := &k.geom
	c := k.w.channels
	taps := g.kh * g.kw
	f := &dwFast{taps: taps, c: c, k3: g.kh == 3 && g.kw == 3}
	f.filt = make([]int16, taps*c)
	if k.w.typ == tfl.Uint8 {
		fzp := int16(k.w.filter.ZeroPoint())
		for i, v := range k.w.filter.Uint8s() {
			f.filt[i] = int16(v) - fzp
		}
	} else { // int8 filters are symmetric
		for i, v := range k.w.filter.Int8s() {
			f.filt[i] = int16(v)
		}
	}
	f.bias = k.qBias
	for ch := range c {
		sum := int32(0)
		for t := range taps {
			sum += int32(f.filt[t*c+ch])
		}
		f.bias[ch] += k.inOff * sum
	}
	f.mult, f.shift = k.mult, k.shift
	f.inner = newDWWindow(g.kh, g.kw, g.dh*g.inW*c, g.dw*c)
	f.patch = newDWWindow(g.kh, g.kw, g.kw*c, c)
	f.kh, f.stripW = g.kh, (g.outW-1)*g.sw+(g.kw-1)*g.dw+1
	f.strip = newDWWindow(g.kh, g.kw, f.stripW*c, g.dw*c)
	f.zp = make([]byte, c)
	zp := byte(-k.inOff) // uint8, or the two's complement byte of an int8
	for i := range f.zp {
		f.zp[i] = zp
	}
	f.outZ, f.lo, f.hi = k.outZP, k.qLo, k.qHi
	f.xa = 0
	for f.xa < g.outW && f.xa*g.sw-g.padL < 0 {
		f.xa++
	}
	f.xb = f.xa
	for f.xb < g.outW && f.xb*g.sw-g.padL+(g.kw-1)*g.dw < g.inW {
		f.xb++
	}
	f.derive(k.w.typ == tfl.Int8)
	k.fast = f
}

// dwStage is the output stage of one channel in one 64-bit step (see
// dwFast): (((x << lsh)·mult + add + (negative ? neg : 0)) >> sh.
type dwStage struct {
	mult     int64
	add, neg int64
	lsh, sh  uint8
}

// newDWStage splits QuantizeMultiplier's (mult, shift) into a dwStage:
// a positive shift is a left shift before the multiply, a negative one a
// rounding right shift r after it.
func newDWStage(mult int32, shift int) dwStage {
	st := dwStage{mult: int64(mult), add: 1 << 30, lsh: uint8(max(shift, 0)), sh: 31}
	if r := -shift; r > 0 {
		st.add += (int64(1) << (r - 1)) << 31
		st.neg = -1 << 31
		st.sh += uint8(r)
	}
	return st
}

// derive builds the tables of the selected SIMD kernel and, for the
// channels it leaves, the portable loop's output stage; when the kernel
// computes every channel the sources are dropped.
func (f *dwFast) derive(signed bool) {
	f.simd = packDWSIMD(f, signed)
	lo := 0
	if f.simd.ok {
		lo = f.simd.channels()
	}
	if lo == f.c {
		f.filt, f.bias, f.mult, f.shift, f.stage = nil, nil, nil, nil, nil
		return
	}
	f.stage = make([]dwStage, f.c)
	for ch := lo; ch < f.c; ch++ {
		f.stage[ch] = newDWStage(f.mult[ch], f.shift[ch])
	}
}

// dwWindow locates the taps of a window from its first element: tap
// (ky, kx) is at ky·rs + kx·cs.
type dwWindow struct {
	offs   []int // by tap, padded to an even count (the extra tap has a zero filter and reads tap 0 again)
	rs, cs int
}

func newDWWindow(kh, kw, rs, cs int) dwWindow {
	w := dwWindow{offs: make([]int, (kh*kw+1)&^1), rs: rs, cs: cs}
	for ky := range kh {
		for kx := range kw {
			w.offs[ky*kw+kx] = ky*rs + kx*cs
		}
	}
	return w
}

// fastScratch is the scratch one thread needs: a strip (which holds a
// patch too) and c accumulators for the portable loop.
func (f *dwFast) fastScratch() int {
	return f.stripBytes() + roundUp64(4*f.c)
}

func (f *dwFast) stripBytes() int {
	return roundUp64(max(f.taps, f.kh*f.stripW) * f.c)
}

// dwFastRows computes output rows [r0, r1) (batch·outH rows) with the fast
// path; scratch is the thread's slot.
func dwFastRows[T int8 | uint8](k *depthwise, in, out []T, scratch []byte, r0, r1 int) {
	g, f := &k.geom, k.fast
	c := f.c
	strip := view[T](scratch[:f.stripBytes()])
	acc := view[int32](scratch[f.stripBytes():])[:c]
	imgLen := g.inH * g.inW * c
	zp := view[T](f.zp)
	for r := r0; r < r1; r++ {
		b, oy := r/g.outH, r%g.outH
		img := in[b*imgLen : (b+1)*imgLen]
		row := out[r*g.outW*c : (r+1)*g.outW*c]
		iy0 := oy*g.sh - g.padT
		if iy0 < 0 || iy0+(g.kh-1)*g.dh >= g.inH {
			// The window leaves the input at the top or bottom: copy
			// the rows it reads into a strip, padded with the zero
			// point, and run the whole row from there.
			sw := f.stripW * c
			for ky := range g.kh {
				line := strip[ky*sw : (ky+1)*sw]
				// The zero point everywhere, in doubling copies.
				copy(line, zp)
				for n := c; n < len(line); n *= 2 {
					copy(line[n:], line[:n])
				}
				if iy := iy0 + ky*g.dh; iy >= 0 && iy < g.inH && g.padL < f.stripW {
					src := img[iy*g.inW*c : (iy+1)*g.inW*c]
					copy(line[g.padL*c:], src[:min(len(src), sw-g.padL*c)])
				}
			}
			dwRun(f, row, strip, 0, &f.strip, g.outW, g.sw*c, acc)
			continue
		}
		if f.xa < f.xb {
			dwRun(f, row[f.xa*c:], img, (iy0*g.inW+f.xa*g.sw-g.padL)*c, &f.inner, f.xb-f.xa, g.sw*c, acc)
		}
		// The pixels whose window leaves the input at the sides, each
		// gathered into a patch.
		patch := strip[:f.taps*c]
		for ox := 0; ox < g.outW; ox++ {
			if ox == f.xa && f.xa < f.xb {
				if ox = f.xb; ox == g.outW {
					break
				}
			}
			ix0 := ox*g.sw - g.padL
			for ky := range g.kh {
				iy := iy0 + ky*g.dh
				for kx := range g.kw {
					ix := ix0 + kx*g.dw
					p := patch[(ky*g.kw+kx)*c : (ky*g.kw+kx+1)*c]
					if ix < 0 || ix >= g.inW {
						copy(p, zp)
					} else {
						copy(p, img[(iy*g.inW+ix)*c:])
					}
				}
			}
			dwRun(f, row[ox*c:], patch, 0, &f.patch, 1, 0, acc)
		}
	}
}

// dwRun computes npix output pixels, pixel i from the window at
// src[base + i·step] laid out as w: the SIMD kernel takes the channels it
// can, the portable loop the rest.
func dwRun[T int8 | uint8](f *dwFast, dst, src []T, base int, w *dwWindow, npix, step int, acc []int32) {
	lo := 0
	if f.simd.ok {
		lo = dwSIMDPixels(&f.simd, unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[base]), w, npix, step)
	}
	if lo < f.c {
		dwPixels(f, dst, src, base, w.offs, npix, step, lo, acc)
	}
}

// dwPixels is the portable kernel: channels [lo, c) of npix output pixels,
// pixel i reading src[base + i·step + offs[t] + ch] for tap t. Four
// channels are summed at a time in registers, over every tap, so that
// the accumulators never go through memory.
func dwPixels[T int8 | uint8](f *dwFast, dst, src []T, base int, offs []int, npix, step, lo int, acc []int32) {
	c := f.c
	for i := range npix {
		d := dst[i*c : (i+1)*c]
		ch := lo
		for ; ch+4 <= c; ch += 4 {
			b := f.bias[ch : ch+4]
			a0, a1, a2, a3 := b[0], b[1], b[2], b[3]
			for t, o := range offs[:f.taps] {
				x := src[base+o+ch : base+o+ch+4]
				w := f.filt[t*c+ch : t*c+ch+4]
				a0 += int32(x[0]) * int32(w[0])
				a1 += int32(x[1]) * int32(w[1])
				a2 += int32(x[2]) * int32(w[2])
				a3 += int32(x[3]) * int32(w[3])
			}
			acc[ch], acc[ch+1], acc[ch+2], acc[ch+3] = a0, a1, a2, a3
		}
		for ; ch < c; ch++ {
			a := f.bias[ch]
			for t, o := range offs[:f.taps] {
				a += int32(src[base+o+ch]) * int32(f.filt[t*c+ch])
			}
			acc[ch] = a
		}
		for ch := lo; ch < c; ch++ {
			st := &f.stage[ch]
			p := int64(acc[ch]<<st.lsh) * st.mult
			add := st.add
			if p < -1<<30 {
				add += st.neg
			}
			v := int32((p+add)>>st.sh) + f.outZ
			d[ch] = T(min(max(v, f.lo), f.hi))
		}
		base += step
	}
}
