package native

import "unsafe"

// The arm64 depthwise kernel (depthwise_arm64.s, NEON, which every arm64
// CPU has) takes 16 channels at a time: the inputs of a tap are widened
// to int16 and SMLAL/SMLAL2 multiply them by the tap's int16 filter into
// four int32x4 accumulators, in channel order. The output stage is
// TFLite's NEON one, exact for the reference rounding: SQRDMULH is
// SaturatingRoundingDoublingHighMul, and RoundingDivideByPOT is SRSHL
// (ties up) after subtracting one from negative values. A second kernel is
// unrolled for 3×3 windows.

// dwSIMD holds the packed tables of the NEON kernel.
type dwSIMD struct {
	ok     bool // the kernel runs
	blocks int  // 16-channel blocks
	taps   int
	outC   int     // bytes from one output pixel to the next
	filt   []int16 // [block][tap][16 channels]
	par    []int32 // [block][dwParams][16 channels]
	zp     int32   // output zero point
	lo, hi int32
	signed bool
	k3     bool // the kernel unrolled for 3×3 windows
}

// Rows of the per-block parameter table, in the order the assembly reads
// them.
const (
	dwParBias = iota
	dwParMult
	dwParLsh
	dwParNegRsh // −rsh: SRSHL shifts right by a negative amount
	dwParams
)

// dwArgs is the argument block of the assembly kernels; its layout is
// read by offset there.
type dwArgs struct {
	dst    unsafe.Pointer // 0
	src    unsafe.Pointer // 8
	offs   unsafe.Pointer // 16: tap offsets (int)
	taps   int            // 24
	npix   int            // 32
	step   int            // 40: source bytes from one pixel to the next
	outC   int            // 48
	blocks int            // 56
	filt   unsafe.Pointer // 64
	par    unsafe.Pointer // 72
	zp     int32          // 80
	lo     int32          // 84
	hi     int32          // 88
	rs, cs int            // 96, 104: window strides (3×3 kernel)
}

//go:noescape
func dwNEONU8(a *dwArgs)

//go:noescape
func dwNEONS8(a *dwArgs)

//go:noescape
func dw3x3NEONU8(a *dwArgs)

//go:noescape
func dw3x3NEONS8(a *dwArgs)

// hasDWSIMD reports whether this CPU runs the SIMD depthwise kernel.
func hasDWSIMD() bool { return true }

// packDWSIMD builds the tables of the kernel selected for f, which takes
// 16-channel blocks.
func packDWSIMD(f *dwFast, signed bool) dwSIMD {
	blocks := f.c / 16
	if !dwKernelSIMD || blocks == 0 {
		return dwSIMD{}
	}
	s := dwSIMD{ok: true, blocks: blocks, taps: f.taps, outC: f.c, zp: f.outZ, lo: f.lo, hi: f.hi, signed: signed,
		k3: f.k3 && dwKernel3x3}
	s.filt = make([]int16, blocks*f.taps*16)
	s.par = make([]int32, blocks*dwParams*16)
	for b := range blocks {
		for t := range f.taps {
			for j := range 16 {
				s.filt[(b*f.taps+t)*16+j] = f.filt[t*f.c+b*16+j]
			}
		}
		for j := range 16 {
			ch := b*16 + j
			p := s.par[b*dwParams*16:]
			p[dwParBias*16+j] = f.bias[ch]
			st := newDWStage(f.mult[ch], f.shift[ch])
			p[dwParMult*16+j] = f.mult[ch]
			p[dwParLsh*16+j] = int32(st.lsh)
			p[dwParNegRsh*16+j] = 31 - int32(st.sh)
		}
	}
	return s
}

// channels is how many channels of a pixel the kernel computes.
func (s *dwSIMD) channels() int { return 16 * s.blocks }

// dwSIMDPixels runs the kernel over the first s.blocks·16 channels of npix
// pixels and returns that number of channels.
func dwSIMDPixels(s *dwSIMD, dst, src unsafe.Pointer, w *dwWindow, npix, step int) int {
	a := dwArgs{dst: dst, src: src, offs: unsafe.Pointer(&w.offs[0]), taps: s.taps, npix: npix, step: step,
		outC: s.outC, blocks: s.blocks, filt: unsafe.Pointer(&s.filt[0]), par: unsafe.Pointer(&s.par[0]),
		zp: s.zp, lo: s.lo, hi: s.hi, rs: w.rs, cs: w.cs}
	switch {
	case s.k3 && s.signed:
		dw3x3NEONS8(&a)
	case s.k3:
		dw3x3NEONU8(&a)
	case s.signed:
		dwNEONS8(&a)
	default:
		dwNEONU8(&a)
	}
	return 16 * s.blocks
}
