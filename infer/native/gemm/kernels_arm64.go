package gemm

import (
	"encoding/binary"

	"golang.org/x/sys/cpu"
)

// The arm64 kernels (NEON is always there). Quantised: SDOT where the CPU
// has the dot-product extension (4 rows × 16 channels), otherwise SMULL
// with SADALP (2 rows × 16 channels); both multiply signed bytes. Float:
// FMLA, fused as the portable Go code is on arm64 (4 × 16).
func init() {
	var i8 []int8Kernel
	if cpu.ARM64.HasASIMDDP {
		i8 = append(i8, &simdInt8{label: "sdot", id: tileSDOT, idSigned: tileSDOT,
			dom: func(bool) domain { return signedX }, mr: 4, cw: 16})
	}
	i8 = append(i8, &simdInt8{label: "smull", id: tileSMULL, idSigned: tileSMULL,
		dom: func(bool) domain { return signedX }, mr: 2, cw: 16})
	use(i8, []f32Kernel{&simdF32{label: "neon", id: tileFNEON, mr: 4, cw: 16}})
}

const (
	tileNone = iota
	tileSDOT
	tileSMULL
	tileFNEON
)

// runTile calls micro-kernel id directly (a call through a function value
// would make t escape to the heap).
func runTile(id int, t *tileArgs) {
	switch id {
	case tileSDOT:
		tileSDOT4x16(t)
	case tileSMULL:
		tileSMULL2x16(t)
	}
}

// runBlockF has no whole-block float kernels to call on arm64.
func runBlockF(int, *blockArgsF) {}

// runGemm has no whole-block kernels to call on arm64.
func runGemm(int, *gemmArgs) {}

func runTileF(id int, t *tileArgsF) {
	if id == tileFNEON {
		tileF32NEON(t)
	}
}

//go:noescape
func tileSDOT4x16(t *tileArgs)

//go:noescape
func tileSMULL2x16(t *tileArgs)

//go:noescape
func tileF32NEON(t *tileArgsF)

// epPanelBytes is the size of one 16-channel panel's epilogue table: for
// each four channels, 64 bytes holding four int32 vectors: colC (bias and
// zero-point terms), the left shift, the multiplier and −right (SRSHL's
// negative shift is its rounding right shift).
const epPanelBytes = 256

func buildEpilogue(g *Int8, r Requant, cw int) []byte {
	n := g.w.n
	cols := (n + cw - 1) / cw
	ep := alignedBytes(cols * cw / 16 * epPanelBytes)
	le := binary.LittleEndian
	for c := range n {
		m, shift := multShift(r, c)
		left, right := int32(0), int32(0)
		if shift > 0 {
			left = int32(shift)
		} else {
			right = int32(-shift)
		}
		b := ep[c/4*64+4*(c%4):]
		le.PutUint32(b[0:], uint32(g.colC[c]))
		le.PutUint32(b[16:], uint32(left))
		le.PutUint32(b[32:], uint32(m))
		le.PutUint32(b[48:], uint32(-right))
	}
	return ep
}

//go:noescape
func sumBytesNEON(p *byte, n int, x uint32) uint64

// sumBytesSIMD sums the leading multiple of 16 bytes of p (XOR x) and
// returns the sum and how many bytes it took.
func sumBytesSIMD(p []byte, x byte) (uint32, int) {
	n := len(p) &^ 15
	if n == 0 {
		return 0, 0
	}
	return uint32(sumBytesNEON(&p[0], n, uint32(x))), n
}
