// Package gemm is the matrix-multiply core under fruitcam's convolution and
// fully connected kernels.
//
// Every call computes C = A·Bᵀ, where A is an M×K matrix of activations
// (row m is one output pixel's receptive field, or one batch row) and B is
// an N×K matrix of weights (row n is one output channel's filter). B is
// constant: it is packed once, at load, by PackInt8, PackUint8 or
// PackFloat32 into a layout private to this package, so that faster
// (SIMD) micro-kernels can replace the portable loops here, with their own
// layout, without any change to the operator code that calls them.
//
// # Quantised GEMM
//
// Int8 computes, for every row m and column n, exactly this reference loop
// (TensorFlow Lite's reference convolution and fully connected kernels,
// tensorflow/lite/kernels/internal/reference/conv.h and
// integer_ops/fully_connected.h):
//
//	acc := bias[n]                                  // 0 without bias
//	for k := 0; k < K; k++ {
//		acc += (A[m][k] + aOff) * (B[n][k] + bOff) // int32
//	}
//	v := quant.MultiplyByQuantizedMultiplierHalfUp(acc, mult[n], shift[n]) + outZeroPoint
//	C[m][n] = clamp(v, lo, hi)
//
// The requantisation rounds its final shift half up, as the TensorFlow Lite
// C library's GEMM back ends do, not away from zero as the reference
// kernels do: that is what makes MobileNet v2's linear bottlenecks match
// the real runtime (see quant.MultiplyByQuantizedMultiplierHalfUp).
//
// where aOff and bOff are the negated zero points of A and B. Expanding
// the product gives
//
//	acc = Σ A·B + aOff·ΣₖB[n] + bOff·ΣₖA[m] + K·aOff·bOff + bias[n]
//
// The inner loop then multiplies raw 8-bit values only (what VPMADDUBSW,
// VPDPBUSD and SDOT do, and the lanes below); the row sums of B, the bias and the constant term
// are folded into one int32 per column when the GEMM is set up, and the
// row sum of A is taken once per row, and only when bOff ≠ 0 (int8 weights
// are symmetric, so it is skipped there). Go's int32 arithmetic wraps, so
// the rearranged sum equals the reference sum modulo 2³², hence exactly
// whenever the reference does not overflow (which TFLite also assumes).
//
// # Three products per multiply
//
// The portable kernel computes Σₖ A[m][k]·B[n][k] with 64-bit integer
// multiplies that each yield three products (SIMD within a register).
// PackInt8 stores, for every k, the weights of three channels, negated, as
// signed 21-bit lanes of one int64:
//
//	W = v₀ + v₁·2²¹ + v₂·2⁴²,   vₗ = −B[n+l][k] ∈ [−127, 128]
//
// For an activation a ∈ [−128, 127], a·W = (a·v₀) + (a·v₁)·2²¹ + (a·v₂)·2⁴²
// as an exact integer identity, and summing such products over k gives
// T = S₀ + S₁·2²¹ + S₂·2⁴² with Sₗ = Σ a·vₗ. Each a·vₗ lies in
// [−16384, 16256], so over a chunk of 64 consecutive k every Sₗ lies in
// [−2²⁰, 2²⁰), the range of a signed 21-bit number (this is why the
// weights are negated: −128·−128 = +16384 would overflow the lane after 64
// terms; the negated extreme is −16384, which fits), and |T| < 2⁶² never
// overflows an int64. The lanes are then recovered exactly: S₀ is T's low
// 21 bits sign-extended, S₁ those of (T − S₀)/2²¹, and S₂ what remains;
// no rounding or carry is involved, so each chunk's sums are exact and
// their int32 total equals the reference loop's, bit for bit. The
// micro-kernel takes two rows of A against two words (a panel of six
// channels), so per k it performs four multiplies for twelve products.
//
// The requantisation is quant.MultiplyByQuantizedMultiplierHalfUp with its
// shift decomposition and rounding constant precomputed per channel
// (quant.Scaler, tested against quant.MultiplyByQuantizedMultiplierHalfUp).
//
// # uint8 through the int8 core
//
// uint8 (legacy, asymmetric) models run through the same core. A uint8
// value u is turned into the int8 value s = u − 128 by flipping its sign
// bit (u XOR 0x80 read as int8), and its zero point z into z − 128. Then
// s − (z − 128) = u − z: every offset-adjusted value, hence every product,
// sum and requantised result, is unchanged, bit for bit. On the way out an
// int8 result r becomes the uint8 r + 128 (the same sign-bit flip), with
// the output zero point and clamp bounds shifted by −128 beforehand so that
// the clamp happens at the same place. FlipSign converts activations;
// PackUint8 converts weights.
//
// # Float GEMM
//
// Float32 computes C[m][n] = clamp(bias[n] + Σₖ A[m][k]·B[n][k], lo, hi),
// summing k in increasing order as TFLite's reference kernels do.
//
// # Threads
//
// Run splits the rows of A (or, when there are too few rows, the output
// channels) over goroutines with internal/parallel; Compute runs one block
// of rows on the calling goroutine, for callers (convolution with im2col)
// that split the work themselves.
package gemm
