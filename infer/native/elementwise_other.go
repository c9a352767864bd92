//go:build !amd64 && !arm64

package native

// Without SIMD kernels the float element-wise operators run their Go loops.

func floatSIMDWidth() int { return 0 }

func vecRowsSIMD(floatOp, []float32, []float32, []float32, float32, float32) bool { return false }

func leakySIMD([]float32, []float32, float32) int { return 0 }
