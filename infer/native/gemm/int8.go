package gemm

import (
	"fmt"

	"github.com/fruitcam/fruitcam/quant"
)

// The packed weights hold each group of lanes (3) channels in one int64
// word, lane l (21 bits wide) holding channel l's negated weight, so that
// one 64-bit multiply by an activation produces three products at once
// (see the package documentation for why that is exact). A panel is
// qnr = 2 words = 6 channels, the width of the micro-kernel.
const (
	// nr is the number of output channels a packed float32 panel holds.
	nr = 4

	lanes    = 3
	laneBits = 21
	words    = 2             // words per panel
	qnr      = lanes * words // channels per panel
	// chunk is the number of k values summed in the lanes before they are
	// taken apart: 64 products a·(−b), each in [−16384, 16256], sum to
	// [−2²⁰, 2²⁰), exactly the range of a signed 21-bit lane.
	chunk = 64
)

// word2 is the two words of one panel for one k.
type word2 [words]int64

// Int8Weights is an N×K int8 weight matrix packed for the quantised GEMM,
// with its offset and row sums. It is immutable once packed and may be
// shared by several Int8 GEMMs.
type Int8Weights struct {
	n, k   int
	data   []word2 // panels of qnr channels; see pack
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

// pack lays the matrix out as panels of qnr channels; inside a panel, each
// k has two words, word w holding channels w·lanes … w·lanes+2 of the
// panel, negated, in its lanes:
//
//	data[p*k+kk][w] = Σₗ −B[p*qnr+w*lanes+l][kk] · 2^(21·l)
//
// Channels past n are zero.
func pack(n, k int, offset int32, at func(int) int8, have int) *Int8Weights {
	if n <= 0 || k <= 0 || have < n*k {
		panic(fmt.Sprintf("gemm: pack %dx%d matrix from %d values", n, k, have))
	}
	panels := (n + qnr - 1) / qnr
	w := &Int8Weights{n: n, k: k, offset: offset,
		data: make([]word2, panels*k), rowSum: make([]int32, n)}
	for row := range n {
		p, j := row/qnr, row%qnr
		wd, l := j/lanes, j%lanes
		var sum int32
		for col := range k {
			v := at(row*k + col)
			sum += int32(v)
			w.data[p*k+col][wd] += -int64(v) << (laneBits * l)
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
	aOff    int32          // added to every input value (int8 domain)
	colC    []int32        // bias + aOff·ΣB + K·aOff·bOff, per channel
	scale   []quant.Scaler // per channel
	outZP   int32          // int8 domain
	lo, hi  int32          // int8 domain
	flipOut int8           // 0 or -128: XORed into every output byte

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
	g := &Int8{w: w, colC: make([]int32, n), scale: make([]quant.Scaler, n),
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
		g.scale[i] = quant.NewScaler(r.Multiplier[j], r.Shift[j])
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
	panels := (g.w.n + qnr - 1) / qnr
	split(threads, m, panels, g.byRowsFn, g.byChannelsFn)
	g.run = runArgs{}
}

func (g *Int8) byRows(lo, hi int) {
	r := &g.run
	g.block(r.dst[lo*r.ldc:], r.ldc, r.a[lo*r.lda:], r.lda, hi-lo, 0, (g.w.n+qnr-1)/qnr)
}

func (g *Int8) byChannels(lo, hi int) {
	r := &g.run
	g.block(r.dst, r.ldc, r.a, r.lda, r.m, lo, hi)
}

// Compute is Run on the calling goroutine: it computes m rows of C. It is
// safe for concurrent use on disjoint rows and does not allocate.
func (g *Int8) Compute(dst []int8, ldc int, a []int8, lda, m int) {
	g.block(dst, ldc, a, lda, m, 0, (g.w.n+qnr-1)/qnr)
}

// block computes rows [0, m) and channel panels [p0, p1) of C.
func (g *Int8) block(dst []int8, ldc int, a []int8, lda, m, p0, p1 int) {
	w := g.w
	k := w.k
	i := 0
	for ; i+1 < m; i += 2 {
		row0 := a[i*lda : i*lda+k : i*lda+k]
		row1 := a[(i+1)*lda : (i+1)*lda+k : (i+1)*lda+k]
		corr0, corr1 := g.rowCorr(row0), g.rowCorr(row1)
		out0 := dst[i*ldc : i*ldc+w.n : i*ldc+w.n]
		out1 := dst[(i+1)*ldc : (i+1)*ldc+w.n : (i+1)*ldc+w.n]
		for p := p0; p < p1; p++ {
			acc := dot2(row0, row1, w.data[p*k:(p+1)*k:(p+1)*k])
			g.store(out0, p, &acc[0], corr0)
			g.store(out1, p, &acc[1], corr1)
		}
	}
	if i < m {
		row := a[i*lda : i*lda+k : i*lda+k]
		corr := g.rowCorr(row)
		out := dst[i*ldc : i*ldc+w.n : i*ldc+w.n]
		for p := p0; p < p1; p++ {
			acc := dot1(row, w.data[p*k:(p+1)*k:(p+1)*k])
			g.store(out, p, &acc, corr)
		}
	}
}

// rowCorr is bOff·ΣₖA[m][k], needed only for asymmetric weights.
func (g *Int8) rowCorr(row []int8) int32 {
	if g.w.offset == 0 {
		return 0
	}
	var s int32
	for _, v := range row {
		s += int32(v)
	}
	return g.w.offset * s
}

// store requantises the sums of panel p into out.
func (g *Int8) store(out []int8, p int, acc *[qnr]int32, corr int32) {
	c0 := p * qnr
	if c0+qnr <= len(out) {
		o := out[c0 : c0+qnr : c0+qnr]
		colC := g.colC[c0 : c0+qnr : c0+qnr]
		for j := range qnr {
			o[j] = g.requant(acc[j]+colC[j]+corr, c0+j)
		}
		return
	}
	for j := range len(out) - c0 {
		out[c0+j] = g.requant(acc[j]+g.colC[c0+j]+corr, c0+j)
	}
}

// requant is the output stage for channel c.
func (g *Int8) requant(acc int32, c int) int8 {
	v := g.scale[c].Apply(acc) + g.outZP
	v = min(max(v, g.lo), g.hi)
	return int8(v) ^ g.flipOut
}

// lanesOf splits a chunk's word sum into its three signed lanes.
func lanesOf(t int64) (s0, s1, s2 int32) {
	x0 := t << (64 - laneBits) >> (64 - laneBits)
	t = (t - x0) >> laneBits
	x1 := t << (64 - laneBits) >> (64 - laneBits)
	return int32(x0), int32(x1), int32((t - x1) >> laneBits)
}

// dot2 returns Σₖ row·B[j] for two rows and the qnr channels j of one
// panel, chunk k values at a time. The words hold −B, so lane sums are
// subtracted.
func dot2(row0, row1 []int8, panel []word2) (acc [2][qnr]int32) {
	row1 = row1[:len(row0)]
	panel = panel[:len(row0)]
	for k0 := 0; k0 < len(row0); k0 += chunk {
		end := min(k0+chunk, len(row0))
		s00, s01, s10, s11 := sums2(row0[k0:end:end], row1[k0:end:end], panel[k0:end:end])
		sub(&acc[0], s00, s01)
		sub(&acc[1], s10, s11)
	}
	return acc
}

// sums2 is the micro-kernel a SIMD implementation replaces: it returns, for
// two rows, the sums over one chunk of the activations times the panel's
// two words. It is a separate leaf function so that its loop keeps
// everything in registers (inlined, its loop spills to the stack).
//
//go:noinline
func sums2(r0, r1 []int8, pw []word2) (s00, s01, s10, s11 int64) {
	r1 = r1[:len(r0)]
	pw = pw[:len(r0)]
	for i, v := range r0 {
		w := &pw[i]
		s00 += int64(v) * w[0]
		s01 += int64(v) * w[1]
		s10 += int64(r1[i]) * w[0]
		s11 += int64(r1[i]) * w[1]
	}
	return
}

// dot1 is dot2 for a single row.
func dot1(row []int8, panel []word2) (acc [qnr]int32) {
	panel = panel[:len(row)]
	for k0 := 0; k0 < len(row); k0 += chunk {
		end := min(k0+chunk, len(row))
		s0, s1 := sums1(row[k0:end:end], panel[k0:end:end])
		sub(&acc, s0, s1)
	}
	return acc
}

// sums1 is sums2 for a single row.
//
//go:noinline
func sums1(r []int8, pw []word2) (s0, s1 int64) {
	pw = pw[:len(r)]
	for i, v := range r {
		a := int64(v)
		s0 += a * pw[i][0]
		s1 += a * pw[i][1]
	}
	return
}

// sub subtracts the lanes of the two word sums of a panel from acc.
func sub(acc *[qnr]int32, t0, t1 int64) {
	x0, x1, x2 := lanesOf(t0)
	y0, y1, y2 := lanesOf(t1)
	acc[0] -= x0
	acc[1] -= x1
	acc[2] -= x2
	acc[3] -= y0
	acc[4] -= y1
	acc[5] -= y2
}

// FlipSign converts uint8 values to the int8 domain (u − 128) by flipping
// their sign bit; dst and src must have the same length.
func FlipSign(dst []int8, src []uint8) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = int8(v ^ 0x80)
	}
}
