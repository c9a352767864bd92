package native

import (
	"unsafe"

	"github.com/fruitcam/fruitcam/quant"
)

// addSIMD holds the parameters of the NEON 8-bit ADD/SUB kernel
// (addsub8_arm64.s), which broadcasts each of them to a register.
type addSIMD struct {
	ok     bool
	signed bool
	sub    bool
	// off1, off2, m1, −shift1, m2, −shift2, mOut, −shiftOut, zero point,
	// lo, hi, left shift.
	par [12]int32
}

type addArgs struct {
	d, x, y unsafe.Pointer // 0, 8, 16
	n       int            // 24: a multiple of 16, at least 16
	par     unsafe.Pointer // 32
}

//go:noescape
func addNEONU8(a *addArgs)

//go:noescape
func addNEONS8(a *addArgs)

//go:noescape
func subNEONU8(a *addArgs)

//go:noescape
func subNEONS8(a *addArgs)

func newAddSIMD(p *quant.AddParams, signed, sub bool) addSIMD {
	// Shifts are ≤ 0 for every multiplier below one, which NewAddParams
	// guarantees; SRSHL takes them as they are.
	return addSIMD{ok: true, signed: signed, sub: sub, par: [12]int32{
		p.In1Offset, p.In2Offset,
		p.In1Mult, int32(p.In1Shift), p.In2Mult, int32(p.In2Shift), p.OutMult, int32(p.OutShift),
		p.OutOffset, p.Min, p.Max, int32(p.LeftShift)}}
}

// addSIMDRun runs the kernel over the longest prefix of d that is a
// multiple of 16 and returns its length.
func addSIMDRun[T int8 | uint8](s *addSIMD, d, x, y []T) int {
	n := len(d) &^ 15
	if n == 0 {
		return 0
	}
	_, _ = x[n-1], y[n-1]
	a := addArgs{d: unsafe.Pointer(&d[0]), x: unsafe.Pointer(&x[0]), y: unsafe.Pointer(&y[0]), n: n, par: unsafe.Pointer(&s.par[0])}
	switch {
	case s.sub && s.signed:
		subNEONS8(&a)
	case s.sub:
		subNEONU8(&a)
	case s.signed:
		addNEONS8(&a)
	default:
		addNEONU8(&a)
	}
	return n
}
