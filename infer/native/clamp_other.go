//go:build !amd64 && !arm64

package native

// Without a SIMD kernel the clamp runs the Go loop only.
func clampSIMD([]float32, float32, float32) int { return 0 }
