//go:build amd64 || arm64

package gemm

import (
	"math"
	"unsafe"
)

// blockArgsF is what a whole-block float kernel reads (offsets checked by
// TestTileArgsLayout). Such a kernel takes every row and column itself:
// no Go code runs per row, and the last column is stored under a mask, so
// nothing is copied through a buffer.
type blockArgsF struct {
	a        unsafe.Pointer // 0: first input row
	lda      int            // 8: bytes between input rows
	m        int            // 16
	c        unsafe.Pointer // 24: first output row, at the first column
	ldc      int            // 32: bytes between output rows
	w        unsafe.Pointer // 40: the first column's weights
	wStride  int            // 48: weight bytes per column
	bias     unsafe.Pointer // 56: the first column's bias
	cols     int            // 64
	nseg     int            // 72: runs of K values per row
	segLen   int            // 80: values per run
	segSkip  int            // 88: bytes from a run's end to the next run
	lastMask uint32         // 96: bit j set when the last column has channel j
	lo, hi   float32        // 100, 104
	hiInf    uint32         // 108: 1 when hi is +Inf
	groups   int            // 112: blocks of m rows
	aGroup   int            // 120: input bytes from one block to the next
	cGroup   int            // 128: output bytes from one block to the next
}

// segments reports whether s runs rows made of separate runs of K values
// (Float32.ComputeSegments).
func (s *simdF32) segments() bool { return s.idBlock != tileNone }

//go:generate go run gen_float32block.go

// wholeBlock runs s.idBlock over the rows r describes (see
// ComputeSegments) and columns [u0, u1).
func (s *simdF32) wholeBlock(g *Float32, dst []float32, ldc int, a []float32, lda, m int, r Runs, u0, u1 int) {
	k, n, cw := g.w.k, g.w.n, s.cw
	nseg := k / r.Len
	// The kernel trusts these bounds: the last row's last run, and the
	// last output row's last channel.
	last := r.Groups - 1
	_ = a[last*r.AStep+(m-1)*lda+(nseg-1)*r.Stride+r.Len-1]
	_ = dst[last*r.CStep+(m-1)*ldc+min(u1*cw, n)-1]
	t := blockArgsF{
		a: unsafe.Pointer(&a[0]), lda: lda * 4, m: m,
		c: unsafe.Pointer(&dst[u0*cw]), ldc: ldc * 4,
		w: unsafe.Pointer(&g.w.data[u0*k*cw]), wStride: k * cw * 4,
		bias: unsafe.Pointer(&g.bias[u0*cw]), cols: u1 - u0,
		nseg: nseg, segLen: r.Len, segSkip: (r.Stride - r.Len) * 4,
		lastMask: 1<<cw - 1, lo: g.lo, hi: g.hi,
		groups: r.Groups, aGroup: r.AStep * 4, cGroup: r.CStep * 4,
	}
	if math.IsInf(float64(g.hi), 1) {
		t.hiInf = 1
	}
	if have := n - (u1-1)*cw; have < cw {
		t.lastMask = 1<<have - 1
	}
	runBlockF(s.idBlock, &t)
}

func (s *simdF32) segBlock(g *Float32, dst []float32, ldc int, a []float32, lda, m int, r Runs, u0, u1 int) {
	s.wholeBlock(g, dst, ldc, a, lda, m, r, u0, u1)
}
