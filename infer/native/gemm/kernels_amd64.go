package gemm

import (
	"encoding/binary"

	"golang.org/x/sys/cpu"
)

// The amd64 kernels. Quantised: AVX-512 VNNI (VPDPBUSD, unsigned inputs
// times signed weights, 4 rows × 32 channels), AVX-VNNI (the same on
// 256-bit registers, 4 × 16, for CPUs without AVX-512) and AVX2 (inputs
// and weights widened to 16 bits, VPMADDWD, 2 rows × 16 channels). Float:
// AVX-512 (whole blocks in one call: 12 rows × 32 channels, 16 × 16 for a
// single column of at most 16; one row × 128 for a single row) and AVX2
// (4 × 16), multiplying and adding separately as the portable Go code does
// on amd64 (Go does not fuse them there; on this machine's Zen 5 the
// multiplies and adds run on separate pipes, so an FMA would not be faster).
func init() {
	var i8 []int8Kernel
	var f32 []f32Kernel
	avx512 := cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL
	if avx512 && cpu.X86.HasAVX512VNNI {
		i8 = append(i8, &simdInt8{label: "avx512vnni", whole: gemmVNNIID,
			dom: func(bool) domain { return unsignedX }, mr: 4, cw: 32})
	}
	if avx512 {
		f32 = append(f32, &simdF32{label: "avx512", idRow: gemvF512, idBlock: blockF512, mr: 4, cw: 32})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasAVXVNNI {
		i8 = append(i8, &simdInt8{label: "avxvnni", id: tileAVXVNNI, idSigned: tileAVXVNNI,
			dom: func(bool) domain { return unsignedX }, mr: 4, cw: 16})
	}
	if cpu.X86.HasAVX2 {
		i8 = append(i8, &simdInt8{label: "avx2", id: tileAVX2U, idSigned: tileAVX2S,
			dom: func(bool) domain { return rawX }, mr: 2, cw: 16})
		f32 = append(f32, &simdF32{label: "avx2", id: tileF256, mr: 4, cw: 16})
	}
	use(i8, f32)
}

const (
	tileNone = iota
	gemmVNNIID
	tileAVXVNNI
	tileAVX2U
	tileAVX2S
	tileF256
	gemvF512
	blockF512
)

// runTile calls micro-kernel id directly (a call through a function value
// would make t escape to the heap).
func runTile(id int, t *tileArgs) {
	switch id {
	case tileAVXVNNI:
		tileAVXVNNI4x16(t)
	case tileAVX2U:
		tileAVX2U2x16(t)
	case tileAVX2S:
		tileAVX2S2x16(t)
	}
}

func runTileF(id int, t *tileArgsF) {
	switch id {
	case tileF256:
		tileF32AVX2(t)
	case gemvF512:
		gemvF32AVX512(t)
	}
}

// runGemm calls whole-block kernel id directly; one row takes the
// one-row form, which does not repeat it four times.
func runGemm(id int, t *gemmArgs) {
	if id == gemmVNNIID {
		if t.m == 1 {
			gemvVNNI(t)
			return
		}
		gemmVNNI(t)
	}
}

// runBlockF calls whole-block float kernel id directly.
func runBlockF(id int, t *blockArgsF) {
	if id == blockF512 {
		blockF32AVX512(t)
	}
}

//go:noescape
func blockF32AVX512(t *blockArgsF)

//go:noescape
func gemmVNNI(t *gemmArgs)

//go:noescape
func tileAVXVNNI4x16(t *tileArgs)

//go:noescape
func tileAVX2U2x16(t *tileArgs)

//go:noescape
func tileAVX2S2x16(t *tileArgs)

//go:noescape
func tileF32AVX2(t *tileArgsF)

//go:noescape
func gemvF32AVX512(t *tileArgsF)

//go:noescape
func gemvVNNI(t *gemmArgs)

// epPanelBytes is the size of one 16-channel panel's epilogue table:
//
//	0    colC [16]int32   bias and zero-point terms
//	64   left [16]int32   left shift
//	128  mulE [16]int32   multipliers; VPMULDQ reads the even ones
//	192  mulO [16]int32   mulO[2j] = multiplier of channel 2j+1
//	256  rndE [8]uint64   rounding term + 2⁶³, even channels
//	320  rndO [8]uint64   odd channels
//	384  shrE [8]uint64   right shift s = 31 + right, even channels
//	448  shrO [8]uint64   odd channels
//	512  zfix [16]int32   output zero point − low 32 bits of 2^(63−s)
//
// The 64-bit step is y = (x·m + rnd + 2⁶³) >> s as an unsigned (logical)
// shift, which AVX2 has for 64-bit lanes where it lacks the arithmetic
// one: the added 2⁶³ makes the sum non-negative (|x·m + rnd| < 2⁶³), and
// comes out as 2^(63−s), which zfix takes back off in 32 bits while it
// adds the output zero point (both wrap, as Go's int32 + does).
const epPanelBytes = 576

func buildEpilogue(g *Int8, r Requant, cw int) []byte {
	n := g.w.n
	cols := (n + cw - 1) / cw
	ep := alignedBytes(cols * cw / 16 * epPanelBytes)
	le := binary.LittleEndian
	for c := range n {
		p, j := c/16, c%16
		b := ep[p*epPanelBytes : (p+1)*epPanelBytes]
		left, m, rnd, s := epilogueOf(multShift(r, c))
		le.PutUint32(b[0+4*j:], uint32(g.colC[c]))
		le.PutUint32(b[64+4*j:], uint32(left))
		le.PutUint32(b[128+4*j:], uint32(m))
		if j%2 == 1 {
			le.PutUint32(b[192+4*(j-1):], uint32(m))
		}
		half := 256 + 64*(j%2) // rndE or rndO
		le.PutUint64(b[half+8*(j/2):], uint64(rnd)+1<<63)
		le.PutUint64(b[half+128+8*(j/2):], uint64(s))
		le.PutUint32(b[512+4*j:], uint32(g.outZP)-uint32(uint64(1)<<(63-s)))
	}
	return ep
}

//go:noescape
func sumBytesAVX2(p *byte, n int, x uint32) uint64

// sumBytesSIMD sums the leading multiple of 32 bytes of p (XOR x) and
// returns the sum and how many bytes it took.
func sumBytesSIMD(p []byte, x byte) (uint32, int) {
	n := len(p) &^ 31
	if n == 0 || !cpu.X86.HasAVX2 {
		return 0, 0
	}
	return uint32(sumBytesAVX2(&p[0], n, uint32(x))), n
}

// epilogueOf returns the per-channel output stage as the amd64 kernels
// use it: for channel c, with s = 31 + right and the multiplier m,
//
//	y = (x<<left)·m + 2³⁰ + 2^(30+right)·[right > 0]   (int64)
//	out = y >> s
//
// which equals quant.MultiplyByQuantizedMultiplierHalfUp (see doc.go).
func epilogueOf(mult int32, shift int) (left int32, m int32, rnd int64, s uint) {
	right := 0
	if shift > 0 {
		left = int32(shift)
	} else {
		right = -shift
	}
	rnd = 1 << 30
	if right > 0 {
		rnd += 1 << (30 + right)
	}
	return left, mult, rnd, uint(31 + right)
}
