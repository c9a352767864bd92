//go:build !amd64 && !arm64

package native

import "unsafe"

// Without a SIMD kernel the fast path runs its portable loop only.

type dwSIMD struct{ ok bool }

func hasDWSIMD() bool { return false }

func (*dwSIMD) channels() int { return 0 }

func packDWSIMD(*dwFast, bool) dwSIMD { return dwSIMD{} }

func dwSIMDPixels(*dwSIMD, unsafe.Pointer, unsafe.Pointer, *dwWindow, int, int) int {
	panic("native: no SIMD depthwise kernel on this architecture")
}
