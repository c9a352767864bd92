//go:build amd64 || arm64

package gemm

import "unsafe"

// The SIMD kernels share one weight layout and one Go driver; only the
// micro-kernel (assembly) and its epilogue table differ.
//
// Weights are stored in columns of cw channels (16 or 32); inside a
// column, k is cut into groups of four (the last one padded with zero
// weights), and each group holds, channel after channel, that channel's
// four weights:
//
//	bytes[(col·groups + g)·cw·4 + j·4 + i] = s[col·cw + j][4g + i]
//
// One 64-byte line is then sixteen channels' dot-product operands for
// VPDPBUSD (16 int32 lanes × 4 bytes), four SDOT instructions, or the
// input of the AVX2 and SMULL widening multiplies.

// simdInt8 is a quantised micro-kernel in assembly computing mr rows by cw
// channels per step, with the output stage fused.
type simdInt8 struct {
	label    string
	id       int // which assembly function runTile calls
	idSigned int // the same for signed raw inputs (AVX2)
	whole    int // a kernel that does the whole block itself (runGemm), or tileNone
	dom      func(inputUint8 bool) domain
	mr, cw   int
}

func (s *simdInt8) name() string                           { return s.label }
func (s *simdInt8) domain(inputUint8 bool) domain          { return s.dom(inputUint8) }
func (s *simdInt8) unit() int                              { return s.cw }
func (s *simdInt8) prepare(g *Int8, r Requant)             { g.ep = buildEpilogue(g, r, s.cw) }
func (s *simdInt8) pack(w *Int8Weights, at func(int) int8) { w.bytes = packBytes(w.n, w.k, s.cw, at) }

// packBytes lays out the signed weights in columns of cw channels (see
// above), 64-byte aligned.
func packBytes(n, k, cw int, at func(int) int8) []byte {
	groups := (k + 3) / 4
	cols := (n + cw - 1) / cw
	b := alignedBytes(cols * groups * cw * 4)
	for row := range n {
		col, j := row/cw, row%cw
		for kk := range k {
			b[(col*groups+kk/4)*cw*4+j*4+kk%4] = byte(at(row*k + kk))
		}
	}
	return b
}

// tileArgs is what a micro-kernel reads; the assembly uses the byte
// offsets noted (TestTileArgsLayout checks them).
type tileArgs struct {
	a        [4]unsafe.Pointer // 0: input rows (repeated past the last one)
	c        [4]unsafe.Pointer // 32: output rows
	w        unsafe.Pointer    // 64: the first column's weights
	ep       unsafe.Pointer    // 72: the first column's epilogue table
	tail     unsafe.Pointer    // 80: [4][4]byte, the rows' last K%4 values; nil if none
	k4       int               // 88: whole groups of four read from the rows
	cols     int               // 96: columns to compute
	wStride  int               // 104: weight bytes per column
	epStride int               // 112: epilogue bytes per column
	corr     [4]int32          // 120: −zs·Σx per row
	xor      uint32            // 136: the XOR byte, four times
	outZP    int32             // 140
	lo, hi   int32             // 144, 148
}

// gemmArgs is what a whole-block kernel reads (offsets checked by
// TestTileArgsLayout). Such a kernel takes the rows four at a time, sums
// them itself when negZs ≠ 0, loads the K%4 tail and stores the last
// column's channels under masks: no Go code runs per row.
type gemmArgs struct {
	a        unsafe.Pointer // 0: first input row
	lda      int            // 8
	m        int            // 16
	c        unsafe.Pointer // 24: first output row, at the first column
	ldc      int            // 32
	w        unsafe.Pointer // 40: the first column's weights
	ep       unsafe.Pointer // 48: the first column's epilogue table
	cols     int            // 56
	k        int            // 64
	wStride  int            // 72
	epStride int            // 80
	lastMask uint64         // 88: bit j set when the last column has channel j
	negZs    int32          // 96: −zs
	xor      uint32         // 100: the XOR byte, four times
	outZP    int32          // 104
	lo, hi   int32          // 108, 112
}

// wholeBlock runs s.whole over the block.
func (s *simdInt8) wholeBlock(g *Int8, dst []byte, ldc int, a []byte, lda, m, u0, u1 int) {
	k, n, cw := g.k, g.w.n, s.cw
	colBytes := (k + 3) / 4 * cw * 4
	epBytes := cw / 16 * epPanelBytes
	t := gemmArgs{
		a: unsafe.Pointer(&a[0]), lda: lda, m: m,
		c: unsafe.Pointer(&dst[u0*cw]), ldc: ldc,
		w: unsafe.Pointer(&g.w.bytes[u0*colBytes]), ep: unsafe.Pointer(&g.ep[u0*epBytes]),
		cols: u1 - u0, k: k, wStride: colBytes, epStride: epBytes,
		lastMask: 1<<cw - 1, negZs: -g.w.zs, xor: uint32(g.xor) * 0x01010101,
		outZP: g.outZP, lo: g.lo, hi: g.hi,
	}
	if have := n - (u1-1)*cw; have < cw {
		t.lastMask = 1<<have - 1
	}
	runGemm(s.whole, &t)
}

// block computes rows [0, m) for channel columns [u0, u1). Rows are taken
// mr at a time; a last, partial group repeats its last row (the copies
// write the same values to the same place). Whole columns go straight to
// dst; a last column that runs past N is written to a buffer and copied.
func (s *simdInt8) block(g *Int8, dst []byte, ldc int, a []byte, lda, m, u0, u1 int) {
	if m <= 0 || u0 >= u1 {
		return
	}
	if s.whole != tileNone {
		s.wholeBlock(g, dst, ldc, a, lda, m, u0, u1)
		return
	}
	k, n, cw := g.k, g.w.n, s.cw
	groups := (k + 3) / 4
	colBytes := groups * cw * 4
	epBytes := cw / 16 * epPanelBytes
	full := max(min(u1, n/cw)-u0, 0)
	last := u1 > u0 && u1*cw > n // the last column is partial
	var (
		t    tileArgs
		tail [4][4]byte
		sink [4][32]byte
	)
	t.k4 = k / 4
	t.wStride, t.epStride = colBytes, epBytes
	t.xor = uint32(g.xor) * 0x01010101
	t.outZP, t.lo, t.hi = g.outZP, g.lo, g.hi
	id := s.id
	if g.signed {
		id = s.idSigned
	}
	rem := k % 4
	if rem != 0 {
		t.tail = unsafe.Pointer(&tail)
	}
	for i := 0; i < m; i += s.mr {
		rows := min(s.mr, m-i)
		for r := range s.mr {
			ri := i + min(r, rows-1)
			row := a[ri*lda : ri*lda+k : ri*lda+k]
			t.a[r] = unsafe.Pointer(unsafe.SliceData(row))
			t.corr[r] = g.rowCorr(row)
			if rem != 0 {
				tail[r] = [4]byte{}
				copy(tail[r][:], row[k-rem:])
			}
		}
		if full > 0 {
			for r := range s.mr {
				ri := i + min(r, rows-1)
				t.c[r] = unsafe.Pointer(&dst[ri*ldc+u0*cw])
			}
			t.w = unsafe.Pointer(&g.w.bytes[u0*colBytes])
			t.ep = unsafe.Pointer(&g.ep[u0*epBytes])
			t.cols = full
			runTile(id, &t)
		}
		if last {
			c := u1 - 1
			for r := range s.mr {
				t.c[r] = unsafe.Pointer(&sink[r])
			}
			t.w = unsafe.Pointer(&g.w.bytes[c*colBytes])
			t.ep = unsafe.Pointer(&g.ep[c*epBytes])
			t.cols = 1
			runTile(id, &t)
			for r := range rows {
				copy(dst[(i+r)*ldc+c*cw:(i+r)*ldc+n], sink[r][:])
			}
		}
	}
}

// alignedBytes returns a zeroed slice of n bytes starting on a 64-byte
// boundary.
func alignedBytes(n int) []byte {
	raw := make([]byte, n+63)
	off := int(-uintptr(unsafe.Pointer(unsafe.SliceData(raw))) & 63)
	return raw[off : off+n : off+n]
}

// simdF32 is a float micro-kernel in assembly computing mr rows by cw
// channels per step, bias and clamp fused; or, where the CPU has one
// (idBlock), a kernel that runs whole blocks itself.
type simdF32 struct {
	label string
	id    int
	// idRow is a kernel for one row (batch-1 fully connected layers), or
	// tileNone. Only the kernels with idBlock have one.
	idRow int
	// idBlock is a kernel that runs a whole block itself (wholeBlock), or
	// tileNone.
	idBlock int
	mr, cw  int
}

func (s *simdF32) name() string                        { return s.label }
func (s *simdF32) unit() int                           { return s.cw }
func (s *simdF32) pack(w *Float32Weights, b []float32) { packPanels(w, b, s.cw) }

// tileArgsF is what a float micro-kernel reads (offsets checked by
// TestTileArgsLayout).
type tileArgsF struct {
	a       [4]unsafe.Pointer // 0
	c       [4]unsafe.Pointer // 32
	w       unsafe.Pointer    // 64
	bias    unsafe.Pointer    // 72
	k       int               // 80
	cols    int               // 88
	wStride int               // 96: bytes per column
	lo, hi  float32           // 104, 108
}

func (s *simdF32) block(g *Float32, dst []float32, ldc int, a []float32, lda, m, u0, u1 int) {
	if m <= 0 || u0 >= u1 {
		return
	}
	k, n, cw := g.w.k, g.w.n, s.cw
	full := max(min(u1, n/cw)-u0, 0)
	if s.idBlock != tileNone {
		if m == 1 && s.idRow != tileNone && full > 0 {
			// One row: whole columns on the one-row kernel, a last
			// partial column on the block kernel.
			t := tileArgsF{k: k, wStride: k * cw * 4, lo: g.lo, hi: g.hi, cols: full}
			t.a[0] = unsafe.Pointer(&a[:k][0])
			t.c[0] = unsafe.Pointer(&dst[u0*cw : (u0+full)*cw][0])
			t.w = unsafe.Pointer(&g.w.data[u0*k*cw])
			t.bias = unsafe.Pointer(&g.bias[u0*cw])
			runTileF(s.idRow, &t)
			if u0 += full; u0 == u1 {
				return
			}
		}
		s.wholeBlock(g, dst, ldc, a, lda, m, Runs{Len: k, Stride: k, Groups: 1}, u0, u1)
		return
	}
	last := u1*cw > n
	var (
		t    tileArgsF
		sink [4][32]float32
	)
	t.k, t.wStride = k, k*cw*4
	t.lo, t.hi = g.lo, g.hi
	for i := 0; i < m; i += s.mr {
		rows := min(s.mr, m-i)
		for r := range s.mr {
			ri := i + min(r, rows-1)
			t.a[r] = unsafe.Pointer(&a[ri*lda : ri*lda+k][0])
		}
		if full > 0 {
			for r := range s.mr {
				ri := i + min(r, rows-1)
				t.c[r] = unsafe.Pointer(&dst[ri*ldc+u0*cw])
			}
			t.w = unsafe.Pointer(&g.w.data[u0*k*cw])
			t.bias = unsafe.Pointer(&g.bias[u0*cw])
			t.cols = full
			runTileF(s.id, &t)
		}
		if last {
			c := u1 - 1
			for r := range s.mr {
				t.c[r] = unsafe.Pointer(&sink[r])
			}
			t.w = unsafe.Pointer(&g.w.data[c*k*cw])
			t.bias = unsafe.Pointer(&g.bias[c*cw])
			t.cols = 1
			runTileF(s.id, &t)
			for r := range rows {
				copy(dst[(i+r)*ldc+c*cw:(i+r)*ldc+n], sink[r][:])
			}
		}
	}
}
