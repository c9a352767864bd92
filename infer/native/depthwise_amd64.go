package native

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// The amd64 depthwise kernels (depthwise_amd64.s, AVX2) take 16 channels
// at a time: two taps' inputs, widened to int16 and interleaved, meet
// their filter pairs in VPMADDWD, which adds the two products into int32
// (|in·f| ≤ 255·255, so the pair sum cannot overflow). VPUNPCK{L,H}WD work
// within 128-bit lanes, so the two accumulators hold channels
// {0–3, 8–11} and {4–7, 12–15}; the filter, bias and requantisation
// tables are stored in that order, and VPACKSSDW puts the channels back in
// order before the store. One kernel reads any window through a table of
// tap offsets; another is unrolled for 3×3 windows. Where AVX-512 (with
// VNNI) exists, a third runs 3×3 windows 32 channels at a time
// (depthwise_amd64.s explains its output stage); the AVX2 kernels finish
// a last 16-channel block.

// dwSIMD holds the packed tables of the AVX2 kernels.
type dwSIMD struct {
	ok     bool    // a kernel runs
	blocks int     // 16-channel blocks of the AVX2 kernels
	pairs  int     // tap pairs
	outC   int     // bytes from one output pixel to the next
	filt   []int16 // [block][pair][half][8 lanes][2 taps]
	par    []int32 // [block][half][dwParams][8 lanes]
	zp     int32   // output zero point
	lo, hi int32
	signed bool
	k3     bool // the kernels unrolled for 3×3 windows

	// The AVX-512 3×3 kernel's tables: wide blocks of 32 channels, the
	// last one partial when tail is not all ones.
	wide  int
	tail  uint32
	wfilt []int16 // [block][pair][half][16 lanes][2 taps]
	wpar  []int64 // [block][half][dwzParams][8 quadwords]
}

// Rows of the per-half parameter table, in the order the assembly reads
// them (each 8 lanes of int32).
const (
	dwParBias = iota
	dwParMult
	dwParLsh
	dwParRsh
	dwParMask // (1 << rsh) − 1
	dwParThr  // mask >> 1
	dwParams
)

// Rows of the AVX-512 kernel's per-half table, 64 bytes each: 16
// doublewords or 8 quadwords (even or odd lanes).
const (
	dwzBias    = iota // doublewords
	dwzLsh            // doublewords
	dwzMult           // doublewords
	dwzMultOdd        // the odd lanes' multipliers in the even doublewords
	dwzAddEven        // dwStage.add
	dwzAddOdd
	dwzNegEven // dwStage.neg
	dwzNegOdd
	dwzShEven // dwStage.sh: 31 + rsh
	dwzShOdd
	dwzParams
)

// dwArgs is the argument block of the assembly kernels; its layout is
// read by offset there.
type dwArgs struct {
	dst    unsafe.Pointer // 0
	src    unsafe.Pointer // 8
	offs   unsafe.Pointer // 16: pairs·2 tap offsets (int)
	pairs  int            // 24
	npix   int            // 32
	step   int            // 40: source bytes from one pixel to the next
	outC   int            // 48
	blocks int            // 56
	filt   unsafe.Pointer // 64
	par    unsafe.Pointer // 72
	zp     int32          // 80
	lo     int32          // 84
	hi     int32          // 88
	rs, cs int            // 96, 104: window strides (3×3 kernels)
	tail   uint32         // 112: channel mask of the last 32-channel block (AVX-512)
}

// opsHaveAVX2 reports AVX2 (with the OS saving YMM registers), and
// opsHaveAVX512 AVX-512 F, BW and VNNI (and the ZMM state).
var (
	opsHaveAVX2   = cpu.X86.HasAVX2
	opsHaveAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI
)

//go:noescape
func dwAVX2U8(a *dwArgs)

//go:noescape
func dwAVX2S8(a *dwArgs)

//go:noescape
func dw3x3AVX2U8(a *dwArgs)

//go:noescape
func dw3x3AVX2S8(a *dwArgs)

//go:noescape
func dw3x3AVX512U8(a *dwArgs)

//go:noescape
func dw3x3AVX512S8(a *dwArgs)

// hasDWSIMD reports whether this CPU runs the SIMD depthwise kernel.
func hasDWSIMD() bool { return opsHaveAVX2 }

// dwLane maps lane j of accumulator half h to its channel in a block.
func dwLane(h, j int) int { return h*4 + j%4 + (j/4)*8 }

// packDWSIMD builds the tables of the kernel selected for f: the AVX-512
// 3×3 kernel (all channels), else an AVX2 one (16-channel blocks), or
// none.
func packDWSIMD(f *dwFast, signed bool) dwSIMD {
	if !dwKernelSIMD || !opsHaveAVX2 {
		return dwSIMD{}
	}
	s := dwSIMD{ok: true, outC: f.c, zp: f.outZ, lo: f.lo, hi: f.hi, signed: signed, k3: f.k3 && dwKernel3x3}
	if s.k3 && dwKernelWide && opsHaveAVX512 {
		packDWWide(&s, f)
		return s
	}
	blocks := f.c / 16
	if blocks == 0 {
		return dwSIMD{}
	}
	pairs := (f.taps + 1) / 2
	s.blocks, s.pairs = blocks, pairs
	s.filt = make([]int16, blocks*pairs*32)
	s.par = make([]int32, blocks*2*dwParams*8)
	tap := func(t, ch int) int16 {
		if t >= f.taps {
			return 0
		}
		return f.filt[t*f.c+ch]
	}
	for b := range blocks {
		for p := range pairs {
			for h := range 2 {
				for j := range 8 {
					ch := b*16 + dwLane(h, j)
					i := ((b*pairs+p)*2+h)*16 + 2*j
					s.filt[i], s.filt[i+1] = tap(2*p, ch), tap(2*p+1, ch)
				}
			}
		}
		for h := range 2 {
			for j := range 8 {
				ch := b*16 + dwLane(h, j)
				row := func(r int) *int32 { return &s.par[((b*2+h)*dwParams+r)*8+j] }
				st := newDWStage(f.mult[ch], f.shift[ch])
				rsh := int32(st.sh) - 31
				mask := int32(int64(1)<<rsh - 1)
				*row(dwParBias) = f.bias[ch]
				*row(dwParMult) = f.mult[ch]
				*row(dwParLsh) = int32(st.lsh)
				*row(dwParRsh) = rsh
				*row(dwParMask) = mask
				*row(dwParThr) = mask >> 1
			}
		}
	}
	return s
}

// channels is how many channels of a pixel the kernel computes.
func (s *dwSIMD) channels() int {
	if s.wide > 0 {
		return s.outC
	}
	return 16 * s.blocks
}

// packDWWide builds the AVX-512 kernel's tables; the channels of the
// last block past c get zeros.
func packDWWide(s *dwSIMD, f *dwFast) {
	s.wide = (f.c + 31) / 32
	s.tail = ^uint32(0)
	if r := f.c % 32; r > 0 {
		s.tail = 1<<r - 1
	}
	s.wfilt = make([]int16, s.wide*5*64)
	s.wpar = make([]int64, s.wide*2*dwzParams*8)
	for b := range s.wide {
		for p := range 5 {
			for h := range 2 {
				for j := range 16 {
					ch := b*32 + dwLane(h, j)
					if ch >= f.c {
						continue
					}
					i := ((b*5+p)*2+h)*32 + 2*j
					s.wfilt[i] = f.filt[2*p*f.c+ch]
					if 2*p+1 < 9 {
						s.wfilt[i+1] = f.filt[(2*p+1)*f.c+ch]
					}
				}
			}
		}
		for h := range 2 {
			half := s.wpar[(b*2+h)*dwzParams*8:][:dwzParams*8]
			dwords := view[int32](unsafe.Slice((*byte)(unsafe.Pointer(&half[0])), len(half)*8))
			for j := range 16 {
				ch := b*32 + dwLane(h, j)
				if ch >= f.c {
					continue
				}
				st := newDWStage(f.mult[ch], f.shift[ch])
				dwords[dwzBias*16+j] = f.bias[ch]
				dwords[dwzLsh*16+j] = int32(st.lsh)
				dwords[dwzMult*16+j] = f.mult[ch]
				if j%2 == 1 {
					dwords[dwzMultOdd*16+j-1] = f.mult[ch]
				}
				q := j / 2 // the quadword, even or odd by j%2
				half[(dwzAddEven+j%2)*8+q] = st.add
				half[(dwzNegEven+j%2)*8+q] = st.neg
				half[(dwzShEven+j%2)*8+q] = int64(st.sh)
			}
		}
	}
}

// dwSIMDPixels runs a kernel over npix pixels and returns how many
// channels it computed: all with the AVX-512 kernel, else s.blocks·16.
func dwSIMDPixels(s *dwSIMD, dst, src unsafe.Pointer, w *dwWindow, npix, step int) int {
	a := dwArgs{dst: dst, src: src, offs: unsafe.Pointer(&w.offs[0]), pairs: s.pairs, npix: npix, step: step,
		outC: s.outC, blocks: s.blocks, zp: s.zp, lo: s.lo, hi: s.hi, rs: w.rs, cs: w.cs}
	if s.wide > 0 {
		a.filt, a.par, a.blocks, a.tail = unsafe.Pointer(&s.wfilt[0]), unsafe.Pointer(&s.wpar[0]), s.wide, s.tail
		if s.signed {
			dw3x3AVX512S8(&a)
		} else {
			dw3x3AVX512U8(&a)
		}
		return s.outC
	}
	a.filt, a.par = unsafe.Pointer(&s.filt[0]), unsafe.Pointer(&s.par[0])
	switch {
	case s.k3 && s.signed:
		dw3x3AVX2S8(&a)
	case s.k3:
		dw3x3AVX2U8(&a)
	case s.signed:
		dwAVX2S8(&a)
	default:
		dwAVX2U8(&a)
	}
	return 16 * s.blocks
}
