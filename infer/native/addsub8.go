package native

import "github.com/fruitcam/fruitcam/quant"

// addSub8 is the 8-bit ADD or SUB of TFLite's reference kernels
// (quant.AddParams): each input is offset, shifted left 20 bits and
// rescaled on its own, the two are added (or subtracted), and the sum is
// rescaled to the output. The per-input stage depends on one byte only,
// so it is tabulated once at prepare; the portable loop then looks up two
// values and rescales their sum, and the SIMD kernels compute all three
// stages 16 elements at a time.
type addSub8 struct {
	p      quant.AddParams
	signed bool
	sub    bool
	// t1[b], t2[b]: the rescaled input for raw byte b (a uint8, or an
	// int8's two's complement); t2 is negated for SUB.
	t1, t2 [256]int32
	// The output stage as one 64-bit step (see addStage).
	oAdd, oNeg, oSh int64
	simd            addSIMD
}

// addKernelSIMD selects the SIMD kernel for contiguous rows when the CPU
// has it; tests clear it to compare both paths.
var addKernelSIMD = true

// addKernelWide selects the widest SIMD kernel (AVX-512 on amd64) where
// the CPU has it; false keeps to the narrower one.
var addKernelWide = true

func newAddSub8(p quant.AddParams, signed, sub bool) *addSub8 {
	q := &addSub8{p: p, signed: signed, sub: sub}
	for b := range 256 {
		v := int32(b)
		if signed {
			v = int32(int8(b))
		}
		x := quant.MultiplyByQuantizedMultiplierSmallerThanOneExp((v+p.In1Offset)*(1<<p.LeftShift), p.In1Mult, p.In1Shift)
		y := quant.MultiplyByQuantizedMultiplierSmallerThanOneExp((v+p.In2Offset)*(1<<p.LeftShift), p.In2Mult, p.In2Shift)
		if sub {
			y = -y
		}
		q.t1[b], q.t2[b] = x, y
	}
	q.oAdd, q.oNeg, q.oSh = addStage(p.OutShift)
	q.simd = newAddSIMD(&q.p, signed, sub)
	return q
}

// addStage returns the terms of a rescaling by a multiplier m below one
// with shift ≤ 0 (a rounding right shift r = −shift) in one 64-bit step,
// as dwFast's output stage: with P = x·m,
//
//	RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x, m), r)
//	  = (P + add + (P < −2^30 ? neg : 0)) >> sh
//
// where add = 2^30 + h·2^31, h = 2^(r−1) (0 for r = 0), neg = −2^31 for
// r > 0 (else 0) and sh = 31 + r.
func addStage(shift int) (add, neg, sh int64) {
	r := int64(-shift)
	add = 1 << 30
	if r > 0 {
		add += (int64(1) << (r - 1)) << 31
		neg = -1 << 31
	}
	return add, neg, 31 + r
}

// addSubRow computes d[o] = x[o·sx] ± y[o·sy].
func addSubRow[T int8 | uint8](q *addSub8, d, x, y []T, sx, sy int) {
	if sx == 1 && sy == 1 && addKernelSIMD && q.simd.ok {
		n := addSIMDRun(&q.simd, d, x, y)
		d, x, y = d[n:], x[n:], y[n:]
	}
	p := &q.p
	m, add, neg, sh := int64(p.OutMult), q.oAdd, q.oNeg, q.oSh
	i, j := 0, 0
	for o := range d {
		s := int64(q.t1[uint8(x[i])]+q.t2[uint8(y[j])]) * m
		a := add
		if s < -1<<30 {
			a += neg
		}
		r := int32((s+a)>>sh) + p.OutOffset
		d[o] = T(min(max(r, p.Min), p.Max))
		i += sx
		j += sy
	}
}
