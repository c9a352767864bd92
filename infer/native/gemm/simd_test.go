//go:build amd64 || arm64

package gemm

import (
	"testing"
	"unsafe"
)

// TestTileArgsLayout pins the field offsets the assembly reads.
func TestTileArgsLayout(t *testing.T) {
	var a tileArgs
	var f tileArgsF
	var g gemmArgs
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"a", unsafe.Offsetof(a.a), 0}, {"c", unsafe.Offsetof(a.c), 32}, {"w", unsafe.Offsetof(a.w), 64},
		{"ep", unsafe.Offsetof(a.ep), 72}, {"tail", unsafe.Offsetof(a.tail), 80}, {"k4", unsafe.Offsetof(a.k4), 88},
		{"cols", unsafe.Offsetof(a.cols), 96}, {"wStride", unsafe.Offsetof(a.wStride), 104},
		{"epStride", unsafe.Offsetof(a.epStride), 112}, {"corr", unsafe.Offsetof(a.corr), 120},
		{"xor", unsafe.Offsetof(a.xor), 136}, {"outZP", unsafe.Offsetof(a.outZP), 140},
		{"lo", unsafe.Offsetof(a.lo), 144}, {"hi", unsafe.Offsetof(a.hi), 148},
		{"F.a", unsafe.Offsetof(f.a), 0}, {"F.c", unsafe.Offsetof(f.c), 32}, {"F.w", unsafe.Offsetof(f.w), 64},
		{"F.bias", unsafe.Offsetof(f.bias), 72}, {"F.k", unsafe.Offsetof(f.k), 80}, {"F.cols", unsafe.Offsetof(f.cols), 88},
		{"F.wStride", unsafe.Offsetof(f.wStride), 96}, {"F.lo", unsafe.Offsetof(f.lo), 104}, {"F.hi", unsafe.Offsetof(f.hi), 108},
		{"G.a", unsafe.Offsetof(g.a), 0}, {"G.lda", unsafe.Offsetof(g.lda), 8}, {"G.m", unsafe.Offsetof(g.m), 16},
		{"G.c", unsafe.Offsetof(g.c), 24}, {"G.ldc", unsafe.Offsetof(g.ldc), 32}, {"G.w", unsafe.Offsetof(g.w), 40},
		{"G.ep", unsafe.Offsetof(g.ep), 48}, {"G.cols", unsafe.Offsetof(g.cols), 56}, {"G.k", unsafe.Offsetof(g.k), 64},
		{"G.wStride", unsafe.Offsetof(g.wStride), 72}, {"G.epStride", unsafe.Offsetof(g.epStride), 80},
		{"G.lastMask", unsafe.Offsetof(g.lastMask), 88}, {"G.negZs", unsafe.Offsetof(g.negZs), 96},
		{"G.xor", unsafe.Offsetof(g.xor), 100}, {"G.outZP", unsafe.Offsetof(g.outZP), 104},
		{"G.lo", unsafe.Offsetof(g.lo), 108}, {"G.hi", unsafe.Offsetof(g.hi), 112},
	} {
		if c.got != c.want {
			t.Errorf("offset of %s = %d, the assembly reads %d", c.name, c.got, c.want)
		}
	}
}
