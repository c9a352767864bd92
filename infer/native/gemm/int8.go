package gemm

import (
	"fmt"

	"github.com/fruitcam/fruitcam/internal/parallel"
	"github.com/fruitcam/fruitcam/quant"
)

// nr is the number of output channels (B rows) a packed panel holds, and
// kGroup the number of consecutive k values stored together per channel:
// a panel of 4 channels × 4 k is one 16-byte vector, the operand shape of
// SDOT and of one lane group of VPDPBUSD.
const (
	nr     = 4
	kGroup = 4
)

// Int8Weights is an N×K int8 weight matrix packed for the quantised GEMM,
// with its offset and row sums. It is immutable once packed and may be
// shared by several Int8 GEMMs.
type Int8Weights struct {
	n, k   int
	kq     int    // number of k groups: ceil(k / kGroup)
	data   []int8 // panels of nr channels; see pack
	rowSum []int32
	offset int32 // bOff: added to every weight (the negated zero point)
}

// PackInt8 packs the row-major N×K int8 matrix b (n rows of k values) whose
// zero point is zeroPoint. It panics if b is shorter than n*k (a
// programming error: callers validate shapes first).
func PackInt8(b []int8, n, k int, zeroPoint int32) *Int8Weights {
	return pack(n, k, -zeroPoint, func(i int) int8 { return b[i] }, len(b))
}

// PackUint8 packs the row-major N×K uint8 matrix b whose zero point is
// zeroPoint, converting it to int8 by flipping the sign bit (see the
// package documentation).
func PackUint8(b []uint8, n, k int, zeroPoint int32) *Int8Weights {
	return pack(n, k, -(zeroPoint - 128), func(i int) int8 { return int8(b[i] ^ 0x80) }, len(b))
}

// pack lays the matrix out as panels of nr channels; inside a panel, k
// groups follow each other and each holds kGroup consecutive k values of
// channel 0, then of channel 1, and so on:
//
//	data[((p*kq+q)*nr+j)*kGroup+l] = B[p*nr+j][q*kGroup+l]
//
// Channels past n and k values past k are zero, so kernels may always read
// whole groups.
func pack(n, k int, offset int32, at func(int) int8, have int) *Int8Weights {
	if n <= 0 || k <= 0 || have < n*k {
		panic(fmt.Sprintf("gemm: pack %dx%d matrix from %d values", n, k, have))
	}
	kq := (k + kGroup - 1) / kGroup
	panels := (n + nr - 1) / nr
	w := &Int8Weights{n: n, k: k, kq: kq, offset: offset,
		data: make([]int8, panels*kq*nr*kGroup), rowSum: make([]int32, n)}
	for row := range n {
		p, j := row/nr, row%nr
		var sum int32
		for col := range k {
			v := at(row*k + col)
			sum += int32(v)
			q, l := col/kGroup, col%kGroup
			w.data[((p*kq+q)*nr+j)*kGroup+l] = v
		}
		w.rowSum[row] = sum
	}
	return w
}

// N is the number of output channels (rows of B).
func (w *Int8Weights) N() int { return w.n }

// K is the reduction length (columns of B).
func (w *Int8Weights) K() int { return w.k }

// Requant is the fused output stage of a quantised GEMM.
type Requant struct {
	// Multiplier and Shift scale the int32 accumulator to the output's
	// scale as quant.MultiplyByQuantizedMultiplier does (Shift > 0 shifts
	// left). They hold one entry (per tensor) or N (per output channel).
	Multiplier []int32
	Shift      []int
	// ZeroPoint, Min and Max are the output zero point and the clamp
	// bounds (fused activation and type range), all in the output's own
	// type: 0..255 when Uint8, -128..127 otherwise.
	ZeroPoint int32
	Min, Max  int32
	// Uint8 selects a uint8 output; otherwise the output is int8.
	Uint8 bool
}

// Int8 is a quantised GEMM ready to run: packed weights, the input's zero
// point, bias and output stage, with everything that does not depend on
// the input folded into per-channel constants.
type Int8 struct {
	w       *Int8Weights
	aOff    int32   // added to every input value (int8 domain)
	colC    []int32 // bias + aOff·ΣB + K·aOff·bOff, per channel
	mult    []int32 // per channel
	shift   []int   // per channel
	outZP   int32   // int8 domain
	lo, hi  int32   // int8 domain
	flipOut int8    // 0 or -128: XORed into every output byte

	// Arguments of the current Run, read by the pre-bound workers so
	// that Run does not allocate a closure.
	run                    runArgs
	byRowsFn, byChannelsFn func(lo, hi int)
}

type runArgs struct {
	dst      []int8
	ldc      int
	a        []int8
	lda, m   int
	channels int // panels, for byChannels
}

// NewInt8 sets up a quantised GEMM over w. inputZeroPoint is the zero point
// of A's values as the caller will pass them: for a uint8 input converted
// with FlipSign, pass the uint8 zero point and inputUint8 = true. bias is
// nil or holds N values.
func NewInt8(w *Int8Weights, inputZeroPoint int32, inputUint8 bool, bias []int32, r Requant) (*Int8, error) {
	n := w.n
	if bias != nil && len(bias) != n {
		return nil, fmt.Errorf("gemm: %d bias values for %d output channels", len(bias), n)
	}
	if len(r.Multiplier) != len(r.Shift) || (len(r.Multiplier) != 1 && len(r.Multiplier) != n) {
		return nil, fmt.Errorf("gemm: %d multipliers and %d shifts for %d output channels", len(r.Multiplier), len(r.Shift), n)
	}
	qmin, qmax := quant.TypeRange(!r.Uint8)
	if r.Min > r.Max || r.Min < qmin || r.Max > qmax {
		return nil, fmt.Errorf("gemm: clamp bounds [%d, %d] outside the output type's [%d, %d]", r.Min, r.Max, qmin, qmax)
	}
	if r.ZeroPoint < qmin || r.ZeroPoint > qmax {
		return nil, fmt.Errorf("gemm: output zero point %d outside [%d, %d]", r.ZeroPoint, qmin, qmax)
	}
	imin, imax := quant.TypeRange(!inputUint8)
	if inputZeroPoint < imin || inputZeroPoint > imax {
		return nil, fmt.Errorf("gemm: input zero point %d outside [%d, %d]", inputZeroPoint, imin, imax)
	}
	for _, s := range r.Shift {
		if s < -31 || s > 30 {
			return nil, fmt.Errorf("gemm: multiplier shift %d outside [-31, 30]", s)
		}
	}
	g := &Int8{w: w, colC: make([]int32, n), mult: make([]int32, n), shift: make([]int, n),
		outZP: r.ZeroPoint, lo: r.Min, hi: r.Max}
	if inputUint8 {
		inputZeroPoint -= 128
	}
	g.aOff = -inputZeroPoint
	if r.Uint8 {
		g.outZP -= 128
		g.lo -= 128
		g.hi -= 128
		g.flipOut = -128
	}
	for i := range n {
		c := g.aOff*w.rowSum[i] + int32(w.k)*g.aOff*w.offset
		if bias != nil {
			c += bias[i]
		}
		g.colC[i] = c
		j := 0
		if len(r.Multiplier) == n {
			j = i
		}
		g.mult[i], g.shift[i] = r.Multiplier[j], r.Shift[j]
	}
	g.byRowsFn = g.byRows
	g.byChannelsFn = g.byChannels
	return g, nil
}

// N is the number of output channels.
func (g *Int8) N() int { return g.w.n }

// K is the reduction length.
func (g *Int8) K() int { return g.w.k }

// PadValue is the int8-domain value whose offset-adjusted value is zero:
// im2col writes it where a convolution window leaves the input, so that
// padding contributes nothing, as in the reference kernels that skip
// those taps.
func (g *Int8) PadValue() int8 { return int8(-g.aOff) }

// Run computes m rows of C: dst[i*ldc+n] for i < m, n < N, from the rows
// a[i*lda : i*lda+K], using up to threads goroutines. Run is not safe for
// concurrent use on the same Int8; with threads <= 1 it does not allocate.
func (g *Int8) Run(threads int, dst []int8, ldc int, a []int8, lda, m int) {
	g.run = runArgs{dst: dst, ldc: ldc, a: a, lda: lda, m: m}
	panels := (g.w.n + nr - 1) / nr
	if threads <= 1 || m >= 4*threads || panels < 2*threads {
		parallel.For(threads, m, g.byRowsFn)
	} else {
		parallel.For(threads, panels, g.byChannelsFn)
	}
	g.run = runArgs{}
}

func (g *Int8) byRows(lo, hi int) {
	r := &g.run
	g.block(r.dst[lo*r.ldc:], r.ldc, r.a[lo*r.lda:], r.lda, hi-lo, 0, (g.w.n+nr-1)/nr)
}

func (g *Int8) byChannels(lo, hi int) {
	r := &g.run
	g.block(r.dst, r.ldc, r.a, r.lda, r.m, lo, hi)
}

// Compute is Run on the calling goroutine: it computes m rows of C. It is
// safe for concurrent use on disjoint rows and does not allocate.
func (g *Int8) Compute(dst []int8, ldc int, a []int8, lda, m int) {
	g.block(dst, ldc, a, lda, m, 0, (g.w.n+nr-1)/nr)
}

// block computes rows [0, m) and channel panels [p0, p1) of C.
func (g *Int8) block(dst []int8, ldc int, a []int8, lda, m, p0, p1 int) {
	w := g.w
	k, n := w.k, w.n
	panelLen := w.kq * nr * kGroup
	for i := range m {
		row := a[i*lda : i*lda+k : i*lda+k]
		// Σₖ A[m][k], needed only for asymmetric weights.
		var rowCorr int32
		if w.offset != 0 {
			var s int32
			for _, v := range row {
				s += int32(v)
			}
			rowCorr = w.offset * s
		}
		out := dst[i*ldc : i*ldc+n : i*ldc+n]
		for p := p0; p < p1; p++ {
			acc := dot1x4(row, w.data[p*panelLen:(p+1)*panelLen:(p+1)*panelLen])
			for j := range nr {
				c := p*nr + j
				if c >= n {
					break
				}
				out[c] = g.requant(acc[j]+g.colC[c]+rowCorr, c)
			}
		}
	}
}

// requant is the output stage for channel c.
func (g *Int8) requant(acc int32, c int) int8 {
	v := quant.MultiplyByQuantizedMultiplierHalfUp(acc, g.mult[c], g.shift[c]) + g.outZP
	v = min(max(v, g.lo), g.hi)
	return int8(v) ^ g.flipOut
}

// dot1x4 returns Σₖ row[k]·B[j][k] for the nr channels j of one panel.
// This is the micro-kernel a SIMD implementation replaces.
func dot1x4(row []int8, panel []int8) [nr]int32 {
	var c0, c1, c2, c3 int32
	full := len(row) / kGroup
	for q := range full {
		a := row[q*kGroup : q*kGroup+kGroup : q*kGroup+kGroup]
		a0, a1, a2, a3 := int32(a[0]), int32(a[1]), int32(a[2]), int32(a[3])
		b := panel[q*nr*kGroup : (q+1)*nr*kGroup : (q+1)*nr*kGroup]
		c0 += a0*int32(b[0]) + a1*int32(b[1]) + a2*int32(b[2]) + a3*int32(b[3])
		c1 += a0*int32(b[4]) + a1*int32(b[5]) + a2*int32(b[6]) + a3*int32(b[7])
		c2 += a0*int32(b[8]) + a1*int32(b[9]) + a2*int32(b[10]) + a3*int32(b[11])
		c3 += a0*int32(b[12]) + a1*int32(b[13]) + a2*int32(b[14]) + a3*int32(b[15])
	}
	if tail := row[full*kGroup:]; len(tail) > 0 {
		b := panel[full*nr*kGroup : (full+1)*nr*kGroup]
		for l, v := range tail {
			a := int32(v)
			c0 += a * int32(b[l])
			c1 += a * int32(b[kGroup+l])
			c2 += a * int32(b[2*kGroup+l])
			c3 += a * int32(b[3*kGroup+l])
		}
	}
	return [nr]int32{c0, c1, c2, c3}
}

// FlipSign converts uint8 values to the int8 domain (u − 128) by flipping
// their sign bit; dst and src must have the same length.
func FlipSign(dst []int8, src []uint8) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = int8(v ^ 0x80)
	}
}
