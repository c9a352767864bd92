// Package gemm is the matrix-multiply core under fruitcam's convolution and
// fully connected kernels.
//
// Every call computes C = A·Bᵀ, where A is an M×K matrix of activations
// (row m is one output pixel's receptive field, or one batch row) and B is
// an N×K matrix of weights (row n is one output channel's filter). B is
// constant: it is packed once, at load, by PackInt8, PackUint8 or
// PackFloat32 into the layout of the micro-kernel chosen for this CPU, so
// the operator code never sees layouts or instruction sets.
//
// # Kernels
//
// Each kind of GEMM has a portable Go kernel and SIMD kernels in assembly,
// behind one small interface (int8Kernel, f32Kernel in kernel.go); the
// best one the CPU has (golang.org/x/sys/cpu) is chosen at start-up:
//
//	amd64  int8: avx512vnni (VPDPBUSD, 4 rows × 32 channels; one row × 128
//	       for a single row), avxvnni (the VEX form on 256 bits, 4 × 16),
//	       avx2 (VPMOVSXBW + VPMADDWD, 2 × 16); float32: avx512 (a whole
//	       block per call, 12 rows × 32 channels, 16 × 16 for a single
//	       column of at most 16; one row × 128 for a single row), avx2
//	       (4 × 16)
//	arm64  int8: sdot (SDOT, 4 × 16, where the CPU has the dot-product
//	       extension), smull (SMULL + SADALP, 2 × 16); float32: neon (FMLA, 4 × 16)
//	other  the portable kernels
//
// Every kernel computes exactly the same bytes (int8) or bits (float32) as
// the portable one; the tests run every kernel the CPU has on the same data
// against the reference loops, with edge sizes and extreme values.
//
// # Quantised GEMM
//
// Int8 computes, for every row m and column n, exactly this reference loop
// (TensorFlow Lite's reference convolution and fully connected kernels,
// tensorflow/lite/kernels/internal/reference/conv.h and
// integer_ops/fully_connected.h), with A and B in their own types (int8 or
// uint8) and zA, zB their zero points:
//
//	acc := bias[n]                                  // 0 without bias
//	for k := 0; k < K; k++ {
//		acc += (A[m][k] − zA) * (B[n][k] − zB)     // int32
//	}
//	v := quant.MultiplyByQuantizedMultiplierHalfUp(acc, mult[n], shift[n]) + outZeroPoint
//	C[m][n] = clamp(v, lo, hi)
//
// The requantisation rounds its final shift half up, as the TensorFlow Lite
// C library's GEMM back ends do, not away from zero as the reference
// kernels do: that is what makes MobileNet v2's linear bottlenecks match
// the real runtime (see quant.MultiplyByQuantizedMultiplierHalfUp).
//
// # Domains and the rearranged sum
//
// Weights are stored signed: uint8 weights w become w − 128 by flipping
// the sign bit, their zero point z becomes z − 128, and w − z is unchanged.
// Each kernel reads the input bytes in the domain its instructions want:
// VPDPBUSD multiplies unsigned by signed bytes, so avx512vnni reads inputs
// as unsigned (int8 inputs get their sign bit flipped, +128); SDOT, SMULL
// and the portable kernel multiply signed bytes (uint8 inputs flipped,
// −128); avx2 widens the input as it is (zero- or sign-extension). The
// input zero point moves with the values, so every difference x − zx is
// the reference's A − zA. With x and s the input and weight in the
// kernel's domains, expanding the product gives
//
//	acc = Σₖ x·s − zs·Σₖx − zx·Σₖs + K·zx·zs + bias
//
// The inner loops multiply raw bytes only. Σₖs, the bias and the constant
// term are folded into one int32 per channel when the GEMM is set up; Σₖx
// is taken once per row, and only when zs ≠ 0 (int8 weights are
// symmetric, so it is skipped there). Go's int32 arithmetic wraps, and so
// do VPDPBUSD, VPADDD, SDOT and ADD, so the rearranged sum equals the
// reference sum modulo 2³², hence exactly whenever the reference does not
// overflow (which TFLite also assumes). Products and partial sums are
// exact: u8·s8 ≤ 255·128 in VPDPBUSD's 32-bit lanes; in 16 bits for
// VPMADDWD (pairs of them, summed into 32 bits) and SMULL (single
// products, |−128·−128| < 2¹⁵, pairs added into 32 bits by SADALP).
//
// # The output stage
//
// The portable kernel uses quant.Scaler. The SIMD kernels compute the same
// function: with x the accumulator shifted left (wrapping, as Go's <<) and
// m ≥ 0 the multiplier, TFLite's SaturatingRoundingDoublingHighMul is
// trunc((x·m + nudge)/2³¹) with nudge = 2³⁰ or 1 − 2³⁰ by the sign of x·m,
// which equals ⌊(x·m + 2³⁰)/2³¹⌋ in both cases (the only saturating input,
// x = m = −2³¹, needs a negative multiplier, which NewInt8 refuses); the
// half-up rounding shift is ⌊(v + 2^(r−1))/2^r⌋, and two floors of
// divisions by powers of two compose, so
//
//	out = ⌊(x·m + 2³⁰ + 2^(30+r)·[r > 0]) / 2^(31+r)⌋
//
// one 64-bit multiply, add and shift (amd64, VPMULDQ and VPSRLVQ with the
// sign handled as kernels_amd64.go explains). On arm64, SQRDMULH is exactly
// the doubling high multiply and SRSHL by −r exactly the half-up shift.
// The zero point is then added in 32 bits (wrapping, as in Go), the value
// clamped, and truncated to a byte, which is exact for both output types
// since the clamped value lies in the type's range.
//
// # Layouts
//
// The portable kernel holds each group of three channels' negated weights
// in the 21-bit lanes of one int64 (see below). The SIMD kernels share one
// byte layout (simd.go): columns of 16 or 32 channels; inside a column, k
// in groups of four (the last padded with zero weights) and, per group,
// each channel's four weights together, so one 64-byte line feeds one
// VPDPBUSD or four SDOTs for sixteen channels. Rows of A are read in place
// and no kernel reads past a row or writes past N: the avx512vnni kernel
// runs a whole block of rows and columns in one call, loading a last K%4
// values and storing a last partial column under masks; the others are
// driven four (or two) rows at a time by Go code that copies a last K%4
// values to a zero-padded buffer and writes a partial column to a buffer
// and copies it. A group of fewer than mr rows repeats its last row, which
// writes the same bytes to the same place.
//
// # Three products per multiply
//
// The portable kernel computes Σₖ x·s with 64-bit integer multiplies that
// each yield three products (SIMD within a register). It stores, for every
// k, the weights of three channels, negated, as signed 21-bit lanes of one
// int64:
//
//	W = v₀ + v₁·2²¹ + v₂·2⁴²,   vₗ = −s[n+l][k] ∈ [−127, 128]
//
// For an activation x ∈ [−128, 127], x·W = (x·v₀) + (x·v₁)·2²¹ + (x·v₂)·2⁴²
// as an exact integer identity, and summing such products over k gives
// T = S₀ + S₁·2²¹ + S₂·2⁴² with Sₗ = Σ x·vₗ. Each x·vₗ lies in
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
// # Float GEMM
//
// Float32 computes C[m][n] = min(max(acc + bias[n], lo), hi) with
// acc = Σₖ A[m][k]·B[n][k] summed from +0 in increasing k, as TFLite's
// reference kernels do. The Go compiler fuses acc += a*b into one
// multiply-add on arm64 but not on amd64, so the NEON kernel uses FMLA
// and the amd64 kernels a separate multiply and add: each matches the
// portable kernel compiled for its architecture, bit for bit, including
// Go's max and min on NaN and signed zeros (see float32_amd64.s).
//
// # Rows read in place
//
// Float32.ComputeSegments takes rows of A that are not contiguous: each row
// is K/Len runs of Len values, Stride apart, in blocks of rows (Runs). A
// convolution's receptive field in a zero-padded image is such a row (one
// run of kw·inC values per filter row), so float convolutions multiply
// without gathering their inputs. The portable kernel and avx512 read
// them; the others do not (Float32Segmented), and their callers gather.
//
// # Threads
//
// Run splits the rows of A (or, when there are too few rows, the output
// channels) over goroutines with internal/parallel; Compute runs one block
// of rows on the calling goroutine, for callers (convolution with im2col)
// that split the work themselves.
package gemm
