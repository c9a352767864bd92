package native

import (
	"unsafe"

	"github.com/fruitcam/fruitcam/quant"
)

// addSIMD holds the parameters of the 8-bit ADD/SUB kernels
// (addsub8_amd64.s). For AVX2 each row of par is one value broadcast to 8
// int32 lanes (a count or 2^30 in 64-bit lanes where noted), read by
// offset; the AVX-512 kernel, used where the CPU has it, broadcasts zpar
// itself.
type addSIMD struct {
	ok     bool
	wide   bool
	signed bool
	sub    bool
	par    [addRows * 8]int32
	zpar   addZPar
}

// addZPar is the parameter block of the AVX-512 kernels (read by offset).
// Each rescaling stage has the 64-bit addend 2^30 + h·2^31, the term
// −2^31 (0 for a shift of 0) added where the doubling high multiply is
// negative, and the shift 31 + r, where r is the rounding right shift
// and h = 2^(r−1).
type addZPar struct {
	off1, off2      int32 // 0, 4
	m1, m2, mo      int32 // 8, 12, 16
	zero, lo, hi    int32 // 20, 24, 28
	lsh             int64 // 32
	add1, neg1, sh1 int64 // 40, 48, 56
	add2, neg2, sh2 int64 // 64, 72, 80
	addO, negO, shO int64 // 88, 96, 104
}

// Parameter rows. Each rescaling stage (input 1, input 2, output) has
// four: multiplier, RoundingDivideByPOT mask, mask>>1, shift (64-bit).
const (
	addOff1 = 0
	addOff2 = 1
	addM1   = 2
	addM2   = 6
	addMo   = 10
	addZero = 14
	addLo   = 15
	addHi   = 16
	addHalf = 17 // 2^30 in each 64-bit lane
	addLsh  = 18 // the left shift (64-bit)
	addRows = 19
)

type addArgs struct {
	d, x, y unsafe.Pointer // 0, 8, 16
	n       int            // 24: a multiple of 16, at least 16
	par     unsafe.Pointer // 32
}

//go:noescape
func addAVX2U8(a *addArgs)

//go:noescape
func addAVX2S8(a *addArgs)

//go:noescape
func subAVX2U8(a *addArgs)

//go:noescape
func subAVX2S8(a *addArgs)

//go:noescape
func addAVX512U8(a *addArgs)

//go:noescape
func addAVX512S8(a *addArgs)

//go:noescape
func subAVX512U8(a *addArgs)

//go:noescape
func subAVX512S8(a *addArgs)

func newAddSIMD(p *quant.AddParams, signed, sub bool) addSIMD {
	s := addSIMD{ok: opsHaveAVX2, wide: opsHaveAVX512, signed: signed, sub: sub}
	z := &s.zpar
	z.off1, z.off2, z.m1, z.m2, z.mo = p.In1Offset, p.In2Offset, p.In1Mult, p.In2Mult, p.OutMult
	z.zero, z.lo, z.hi, z.lsh = p.OutOffset, p.Min, p.Max, int64(p.LeftShift)
	z.add1, z.neg1, z.sh1 = addStage(p.In1Shift)
	z.add2, z.neg2, z.sh2 = addStage(p.In2Shift)
	z.addO, z.negO, z.shO = addStage(p.OutShift)
	set := func(row int, v int32) {
		for j := range 8 {
			s.par[row*8+j] = v
		}
	}
	set64 := func(row int, v int64) {
		for j := range 4 {
			s.par[row*8+2*j], s.par[row*8+2*j+1] = int32(v), int32(v>>32)
		}
	}
	set(addOff1, p.In1Offset)
	set(addOff2, p.In2Offset)
	for _, st := range []struct {
		row   int
		mult  int32
		shift int
	}{{addM1, p.In1Mult, p.In1Shift}, {addM2, p.In2Mult, p.In2Shift}, {addMo, p.OutMult, p.OutShift}} {
		// shift ≤ 0 for every multiplier below one, which NewAddParams
		// guarantees.
		mask := int32(int64(1)<<-st.shift - 1)
		set(st.row, st.mult)
		set(st.row+1, mask)
		set(st.row+2, mask>>1)
		set64(st.row+3, int64(-st.shift))
	}
	set(addZero, p.OutOffset)
	set(addLo, p.Min)
	set(addHi, p.Max)
	set64(addHalf, 1<<30)
	set64(addLsh, int64(p.LeftShift))
	return s
}

// addSIMDRun runs the kernels over the longest prefix of d that is a
// multiple of 16 and returns its length: AVX-512 takes 32 elements at a
// time, AVX2 the rest.
func addSIMDRun[T int8 | uint8](s *addSIMD, d, x, y []T) int {
	n := len(d) &^ 15
	if n == 0 {
		return 0
	}
	_, _ = x[n-1], y[n-1]
	a := addArgs{d: unsafe.Pointer(&d[0]), x: unsafe.Pointer(&x[0]), y: unsafe.Pointer(&y[0]), n: n, par: unsafe.Pointer(&s.par[0])}
	if s.wide && addKernelWide && n >= 32 {
		a.n, a.par = n&^31, unsafe.Pointer(&s.zpar)
		switch {
		case s.sub && s.signed:
			subAVX512S8(&a)
		case s.sub:
			subAVX512U8(&a)
		case s.signed:
			addAVX512S8(&a)
		default:
			addAVX512U8(&a)
		}
		if a.n == n {
			return n
		}
		a.d, a.x, a.y = unsafe.Pointer(&d[a.n]), unsafe.Pointer(&x[a.n]), unsafe.Pointer(&y[a.n])
		a.n, a.par = n-a.n, unsafe.Pointer(&s.par[0])
	}
	switch {
	case s.sub && s.signed:
		subAVX2S8(&a)
	case s.sub:
		subAVX2U8(&a)
	case s.signed:
		addAVX2S8(&a)
	default:
		addAVX2U8(&a)
	}
	return n
}
