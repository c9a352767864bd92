package gemm

import (
	"fmt"

	"github.com/fruitcam/fruitcam/quant"
)

// Int8Weights is an N×K 8-bit weight matrix packed for one quantised
// kernel (the one selected when it was packed), with its row sums and zero
// point. It is immutable once packed and may be shared by several Int8
// GEMMs.
type Int8Weights struct {
	n, k   int
	kern   int8Kernel
	words  []word2 // the portable kernel's layout
	bytes  []byte  // the SIMD kernels' layout (see packBytes)
	rowSum []int32 // Σₖ s[n][k], s the signed-domain weights
	zs     int32   // the signed-domain zero point
}

// PackInt8 packs the row-major N×K int8 matrix b (n rows of k values) whose
// zero point is zeroPoint. It panics if b is shorter than n*k (a
// programming error: callers validate shapes first).
func PackInt8(b []int8, n, k int, zeroPoint int32) *Int8Weights {
	checkPack(n, k, len(b))
	return packWith(int8Impl, n, k, zeroPoint, func(i int) int8 { return b[i] })
}

// PackUint8 packs the row-major N×K uint8 matrix b whose zero point is
// zeroPoint, moving it to the signed domain by flipping the sign bit (see
// the package documentation).
func PackUint8(b []uint8, n, k int, zeroPoint int32) *Int8Weights {
	checkPack(n, k, len(b))
	return packWith(int8Impl, n, k, zeroPoint-128, func(i int) int8 { return int8(b[i] ^ 0x80) })
}

func checkPack(n, k, have int) {
	if n <= 0 || k <= 0 || have < n*k {
		panic(fmt.Sprintf("gemm: pack %dx%d matrix from %d values", n, k, have))
	}
}

// packWith packs signed-domain weights at(row*k+col) for kernel kern.
func packWith(kern int8Kernel, n, k int, zs int32, at func(int) int8) *Int8Weights {
	w := &Int8Weights{n: n, k: k, kern: kern, zs: zs, rowSum: make([]int32, n)}
	for row := range n {
		var s int32
		for col := range k {
			s += int32(at(row*k + col))
		}
		w.rowSum[row] = s
	}
	kern.pack(w, at)
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
	// Multipliers are never negative (quant.QuantizeMultiplier of a
	// positive scale).
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
	w    *Int8Weights
	kern int8Kernel
	k    int

	// The kernel multiplies x = input byte XOR xor, read as signed or
	// unsigned as its domain says; zx is the input zero point there.
	xor    byte
	signed bool
	zx     int32
	sumXor byte  // rowSum XORs bytes with this and sums them unsigned...
	sumSub int32 // ...then subtracts this: Σx

	colC  []int32        // bias − zx·Σs + K·zx·zs, per channel
	scale []quant.Scaler // per channel
	// Output stage in the output's own type.
	outZP, lo, hi int32
	// ep is the kernel's precomputed epilogue (see the kernels).
	ep []byte

	// Arguments of the current Run, read by the pre-bound workers so
	// that Run does not allocate a closure.
	run                    runArgs
	byRowsFn, byChannelsFn func(lo, hi int)
}

type runArgs struct {
	dst    []byte
	ldc    int
	a      []byte
	lda, m int
}

// NewInt8 sets up a quantised GEMM over w. inputZeroPoint is the zero point
// of A's values, uint8 when inputUint8 and int8 otherwise; Run reads A and
// writes C as bytes of those types. bias is nil or holds N values.
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
	for i, s := range r.Shift {
		if s < -31 || s > 30 {
			return nil, fmt.Errorf("gemm: multiplier shift %d outside [-31, 30]", s)
		}
		if r.Multiplier[i] < 0 {
			return nil, fmt.Errorf("gemm: negative multiplier %d (scales must be positive)", r.Multiplier[i])
		}
	}
	g := &Int8{w: w, kern: w.kern, k: w.k, colC: make([]int32, n), scale: make([]quant.Scaler, n),
		outZP: r.ZeroPoint, lo: r.Min, hi: r.Max}

	// Move the input into the kernel's domain: x = raw + delta.
	dom := g.kern.domain(inputUint8)
	var delta int32
	switch {
	case dom == signedX && inputUint8:
		g.xor, g.signed, delta = 0x80, true, -128
	case dom == unsignedX && !inputUint8:
		g.xor, g.signed, delta = 0x80, false, 128
	default:
		g.signed = !inputUint8
	}
	g.zx = inputZeroPoint + delta
	// Σx: sum the bytes as unsigned after XORing the sign bit of signed
	// values (x + 128), then take 128·K back off.
	g.sumXor = g.xor
	if g.signed {
		g.sumXor ^= 0x80
		g.sumSub = 128 * int32(w.k)
	}
	for i := range n {
		c := -g.zx*w.rowSum[i] + int32(w.k)*g.zx*w.zs
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
	g.kern.prepare(g, r)
	g.byRowsFn = g.byRows
	g.byChannelsFn = g.byChannels
	return g, nil
}

// N is the number of output channels.
func (g *Int8) N() int { return g.w.n }

// K is the reduction length.
func (g *Int8) K() int { return g.w.k }

// PadValue is the input value whose offset-adjusted value is zero (the
// input zero point): im2col writes it where a convolution window leaves
// the input, so that padding contributes nothing, as in the reference
// kernels that skip those taps.
func (g *Int8) PadValue() byte { return byte(g.zx) ^ g.xor }

// Kernel names the micro-kernel the weights were packed for.
func (g *Int8) Kernel() string { return g.kern.name() }

// Run computes m rows of C: dst[i*ldc+n] for i < m, n < N, from the rows
// a[i*lda : i*lda+K], using up to threads goroutines. Values are bytes of
// the input and output types given to NewInt8. Run is not safe for
// concurrent use on the same Int8; with threads <= 1 it does not allocate.
func (g *Int8) Run(threads int, dst []byte, ldc int, a []byte, lda, m int) {
	g.run = runArgs{dst: dst, ldc: ldc, a: a, lda: lda, m: m}
	split(threads, m, g.units(), m*g.w.n*g.w.k, g.byRowsFn, g.byChannelsFn)
	g.run = runArgs{}
}

// units is the number of channel blocks the kernel splits N into.
func (g *Int8) units() int {
	u := g.kern.unit()
	return (g.w.n + u - 1) / u
}

func (g *Int8) byRows(lo, hi int) {
	r := &g.run
	g.kern.block(g, r.dst[lo*r.ldc:], r.ldc, r.a[lo*r.lda:], r.lda, hi-lo, 0, g.units())
}

func (g *Int8) byChannels(lo, hi int) {
	r := &g.run
	g.kern.block(g, r.dst, r.ldc, r.a, r.lda, r.m, lo, hi)
}

// Compute is Run on the calling goroutine: it computes m rows of C. It is
// safe for concurrent use on disjoint rows and does not allocate.
func (g *Int8) Compute(dst []byte, ldc int, a []byte, lda, m int) {
	g.kern.block(g, dst, ldc, a, lda, m, 0, g.units())
}

// rowCorr is −zs·Σₖx, the part of the reference sum that depends on the
// input row; it is zero for symmetric weights.
func (g *Int8) rowCorr(row []byte) int32 {
	if g.w.zs == 0 {
		return 0
	}
	return -g.w.zs * (int32(sumBytes(row, g.sumXor)) - g.sumSub)
}

// requant is the portable output stage for channel c.
func (g *Int8) requant(acc int32, c int) byte {
	v := g.scale[c].Apply(acc) + g.outZP
	return byte(min(max(v, g.lo), g.hi))
}

// multShift returns channel c's multiplier and shift.
func multShift(r Requant, c int) (int32, int) {
	if len(r.Multiplier) == 1 {
		return r.Multiplier[0], r.Shift[0]
	}
	return r.Multiplier[c], r.Shift[c]
}

// sumBytes returns Σ (b XOR x) over p, the bytes read as unsigned. It adds
// eight bytes at a time in 16-bit lanes of a uint64 (SIMD within a
// register): each lane gains at most 2·255 per step, so 128 steps fit.
func sumBytes(p []byte, x byte) uint32 {
	const lo = 0x00ff00ff00ff00ff
	xx := uint64(x) * 0x0101010101010101
	total, done := sumBytesSIMD(p, x)
	p = p[done:]
	for len(p) >= 8 {
		steps := min(len(p)/8, 128)
		var acc uint64
		for i := range steps {
			v := le64(p[i*8:]) ^ xx
			acc += v&lo + (v>>8)&lo
		}
		// Fold the four 16-bit lanes.
		acc = acc&0x0000ffff0000ffff + (acc>>16)&0x0000ffff0000ffff
		total += uint32(acc) + uint32(acc>>32)
		p = p[steps*8:]
	}
	for _, v := range p {
		total += uint32(v ^ x)
	}
	return total
}

func le64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
