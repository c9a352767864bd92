//go:build amd64 || arm64

package gemm

import (
	"testing"
	"unsafe"
)

// TestBlockArgsFLayout checks the offsets float32block_amd64.s reads.
func TestBlockArgsFLayout(t *testing.T) {
	var f blockArgsF
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"a", unsafe.Offsetof(f.a), 0}, {"lda", unsafe.Offsetof(f.lda), 8}, {"m", unsafe.Offsetof(f.m), 16},
		{"c", unsafe.Offsetof(f.c), 24}, {"ldc", unsafe.Offsetof(f.ldc), 32}, {"w", unsafe.Offsetof(f.w), 40},
		{"wStride", unsafe.Offsetof(f.wStride), 48}, {"bias", unsafe.Offsetof(f.bias), 56}, {"cols", unsafe.Offsetof(f.cols), 64},
		{"nseg", unsafe.Offsetof(f.nseg), 72}, {"segLen", unsafe.Offsetof(f.segLen), 80}, {"segSkip", unsafe.Offsetof(f.segSkip), 88},
		{"lastMask", unsafe.Offsetof(f.lastMask), 96}, {"lo", unsafe.Offsetof(f.lo), 100}, {"hi", unsafe.Offsetof(f.hi), 104},
		{"hiInf", unsafe.Offsetof(f.hiInf), 108}, {"groups", unsafe.Offsetof(f.groups), 112},
		{"aGroup", unsafe.Offsetof(f.aGroup), 120}, {"cGroup", unsafe.Offsetof(f.cGroup), 128},
	} {
		if c.got != c.want {
			t.Errorf("blockArgsF.%s at offset %d, want %d", c.name, c.got, c.want)
		}
	}
}
