// Each WORD is the encoding of the GNU-syntax instruction in its comment,
// as aarch64-linux-gnu-as -march=armv8.2-a+dotprod assembles it; an edited
// instruction must be re-assembled the same way.

#include "textflag.h"

// Quantised micro-kernels for arm64 (simd.go describes the weight layout,
// kernels_arm64.go the epilogue table). Go's assembler has no mnemonic for
// SDOT, SMULL, SADALP, SSHL, SQRDMULH, SRSHL, SMAX, SMIN or XTN: each is
// emitted as its encoding, with the instruction in the comment.
//
// The output stage per int32 lane: x += colC + corr; x = SSHL(x, left)
// (wrapping, as Go's <<); x = SQRDMULH(x, m), which is (2xm + 2³¹) >> 32 =
// (xm + 2³⁰) >> 31, TFLite's SaturatingRoundingDoublingHighMul including
// its saturation; x = SRSHL(x, −right), (x + 2^(right−1)) >> right, the
// half-up rounding shift; then + zero point, clamp, and XTN truncates to
// bytes (the clamped values fit the output type).
// tileArgs offsets: a 0, c 32, w 64, ep 72, tail 80, k4 88, cols 96,
// wStride 104, epStride 112, corr 120, xor 136, outZP 140, lo 144, hi 148.

// func tileSDOT4x16(t *tileArgs)
// 4 rows × 16 channels; row r's channels 4q..4q+3 accumulate in V(16+4r+q).
// SDOT Vd.4S, Vn.16B, Vm.4B[i] adds to each int32 lane j of Vd the four
// products of bytes 4j..4j+3 of Vn (one channel's weights) with bytes
// 4i..4i+3 of Vm (four inputs of a row), all signed, exact in 32 bits.
TEXT ·tileSDOT4x16(SB), NOSPLIT, $0-8
	MOVD t+0(FP), R0
	MOVD 64(R0), R12 // this column's weights
	MOVD 72(R0), R6  // this column's epilogue
	MOVD 96(R0), R7
	MOVWU 136(R0), R14
	VDUP R14, V8.S4 // the XOR mask
	MOVD $0, R9      // the column's byte offset in the output rows
sdotCol:
	MOVD R12, R5
	MOVD 0(R0), R1
	MOVD 8(R0), R2
	MOVD 16(R0), R3
	MOVD 24(R0), R4
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16
	VEOR V24.B16, V24.B16, V24.B16
	VEOR V25.B16, V25.B16, V25.B16
	VEOR V26.B16, V26.B16, V26.B16
	VEOR V27.B16, V27.B16, V27.B16
	VEOR V28.B16, V28.B16, V28.B16
	VEOR V29.B16, V29.B16, V29.B16
	VEOR V30.B16, V30.B16, V30.B16
	VEOR V31.B16, V31.B16, V31.B16
	MOVD 88(R0), R8
sdot16:
	CMP $4, R8
	BLT sdot4
	VLD1.P 16(R1), [V4.B16]
	VLD1.P 16(R2), [V5.B16]
	VLD1.P 16(R3), [V6.B16]
	VLD1.P 16(R4), [V7.B16]
	VEOR V8.B16, V4.B16, V4.B16
	VEOR V8.B16, V5.B16, V5.B16
	VEOR V8.B16, V6.B16, V6.B16
	VEOR V8.B16, V7.B16, V7.B16
	VLD1.P 64(R5), [V0.B16, V1.B16, V2.B16, V3.B16]
	WORD $0x4f84e010 // sdot v16.4s, v0.16b, v4.4b[0]
	WORD $0x4f84e031 // sdot v17.4s, v1.16b, v4.4b[0]
	WORD $0x4f84e052 // sdot v18.4s, v2.16b, v4.4b[0]
	WORD $0x4f84e073 // sdot v19.4s, v3.16b, v4.4b[0]
	WORD $0x4f85e014 // sdot v20.4s, v0.16b, v5.4b[0]
	WORD $0x4f85e035 // sdot v21.4s, v1.16b, v5.4b[0]
	WORD $0x4f85e056 // sdot v22.4s, v2.16b, v5.4b[0]
	WORD $0x4f85e077 // sdot v23.4s, v3.16b, v5.4b[0]
	WORD $0x4f86e018 // sdot v24.4s, v0.16b, v6.4b[0]
	WORD $0x4f86e039 // sdot v25.4s, v1.16b, v6.4b[0]
	WORD $0x4f86e05a // sdot v26.4s, v2.16b, v6.4b[0]
	WORD $0x4f86e07b // sdot v27.4s, v3.16b, v6.4b[0]
	WORD $0x4f87e01c // sdot v28.4s, v0.16b, v7.4b[0]
	WORD $0x4f87e03d // sdot v29.4s, v1.16b, v7.4b[0]
	WORD $0x4f87e05e // sdot v30.4s, v2.16b, v7.4b[0]
	WORD $0x4f87e07f // sdot v31.4s, v3.16b, v7.4b[0]
	VLD1.P 64(R5), [V0.B16, V1.B16, V2.B16, V3.B16]
	WORD $0x4fa4e010 // sdot v16.4s, v0.16b, v4.4b[1]
	WORD $0x4fa4e031 // sdot v17.4s, v1.16b, v4.4b[1]
	WORD $0x4fa4e052 // sdot v18.4s, v2.16b, v4.4b[1]
	WORD $0x4fa4e073 // sdot v19.4s, v3.16b, v4.4b[1]
	WORD $0x4fa5e014 // sdot v20.4s, v0.16b, v5.4b[1]
	WORD $0x4fa5e035 // sdot v21.4s, v1.16b, v5.4b[1]
	WORD $0x4fa5e056 // sdot v22.4s, v2.16b, v5.4b[1]
	WORD $0x4fa5e077 // sdot v23.4s, v3.16b, v5.4b[1]
	WORD $0x4fa6e018 // sdot v24.4s, v0.16b, v6.4b[1]
	WORD $0x4fa6e039 // sdot v25.4s, v1.16b, v6.4b[1]
	WORD $0x4fa6e05a // sdot v26.4s, v2.16b, v6.4b[1]
	WORD $0x4fa6e07b // sdot v27.4s, v3.16b, v6.4b[1]
	WORD $0x4fa7e01c // sdot v28.4s, v0.16b, v7.4b[1]
	WORD $0x4fa7e03d // sdot v29.4s, v1.16b, v7.4b[1]
	WORD $0x4fa7e05e // sdot v30.4s, v2.16b, v7.4b[1]
	WORD $0x4fa7e07f // sdot v31.4s, v3.16b, v7.4b[1]
	VLD1.P 64(R5), [V0.B16, V1.B16, V2.B16, V3.B16]
	WORD $0x4f84e810 // sdot v16.4s, v0.16b, v4.4b[2]
	WORD $0x4f84e831 // sdot v17.4s, v1.16b, v4.4b[2]
	WORD $0x4f84e852 // sdot v18.4s, v2.16b, v4.4b[2]
	WORD $0x4f84e873 // sdot v19.4s, v3.16b, v4.4b[2]
	WORD $0x4f85e814 // sdot v20.4s, v0.16b, v5.4b[2]
	WORD $0x4f85e835 // sdot v21.4s, v1.16b, v5.4b[2]
	WORD $0x4f85e856 // sdot v22.4s, v2.16b, v5.4b[2]
	WORD $0x4f85e877 // sdot v23.4s, v3.16b, v5.4b[2]
	WORD $0x4f86e818 // sdot v24.4s, v0.16b, v6.4b[2]
	WORD $0x4f86e839 // sdot v25.4s, v1.16b, v6.4b[2]
	WORD $0x4f86e85a // sdot v26.4s, v2.16b, v6.4b[2]
	WORD $0x4f86e87b // sdot v27.4s, v3.16b, v6.4b[2]
	WORD $0x4f87e81c // sdot v28.4s, v0.16b, v7.4b[2]
	WORD $0x4f87e83d // sdot v29.4s, v1.16b, v7.4b[2]
	WORD $0x4f87e85e // sdot v30.4s, v2.16b, v7.4b[2]
	WORD $0x4f87e87f // sdot v31.4s, v3.16b, v7.4b[2]
	VLD1.P 64(R5), [V0.B16, V1.B16, V2.B16, V3.B16]
	WORD $0x4fa4e810 // sdot v16.4s, v0.16b, v4.4b[3]
	WORD $0x4fa4e831 // sdot v17.4s, v1.16b, v4.4b[3]
	WORD $0x4fa4e852 // sdot v18.4s, v2.16b, v4.4b[3]
	WORD $0x4fa4e873 // sdot v19.4s, v3.16b, v4.4b[3]
	WORD $0x4fa5e814 // sdot v20.4s, v0.16b, v5.4b[3]
	WORD $0x4fa5e835 // sdot v21.4s, v1.16b, v5.4b[3]
	WORD $0x4fa5e856 // sdot v22.4s, v2.16b, v5.4b[3]
	WORD $0x4fa5e877 // sdot v23.4s, v3.16b, v5.4b[3]
	WORD $0x4fa6e818 // sdot v24.4s, v0.16b, v6.4b[3]
	WORD $0x4fa6e839 // sdot v25.4s, v1.16b, v6.4b[3]
	WORD $0x4fa6e85a // sdot v26.4s, v2.16b, v6.4b[3]
	WORD $0x4fa6e87b // sdot v27.4s, v3.16b, v6.4b[3]
	WORD $0x4fa7e81c // sdot v28.4s, v0.16b, v7.4b[3]
	WORD $0x4fa7e83d // sdot v29.4s, v1.16b, v7.4b[3]
	WORD $0x4fa7e85e // sdot v30.4s, v2.16b, v7.4b[3]
	WORD $0x4fa7e87f // sdot v31.4s, v3.16b, v7.4b[3]
	SUB $4, R8, R8
	B sdot16
sdot4:
	CBZ R8, sdotTail
	MOVWU.P 4(R1), R14
	VMOV R14, V4.S[0]
	VEOR V8.B16, V4.B16, V4.B16
	MOVWU.P 4(R2), R14
	VMOV R14, V5.S[0]
	VEOR V8.B16, V5.B16, V5.B16
	MOVWU.P 4(R3), R14
	VMOV R14, V6.S[0]
	VEOR V8.B16, V6.B16, V6.B16
	MOVWU.P 4(R4), R14
	VMOV R14, V7.S[0]
	VEOR V8.B16, V7.B16, V7.B16
	VLD1.P 64(R5), [V0.B16, V1.B16, V2.B16, V3.B16]
	WORD $0x4f84e010 // sdot v16.4s, v0.16b, v4.4b[0]
	WORD $0x4f84e031 // sdot v17.4s, v1.16b, v4.4b[0]
	WORD $0x4f84e052 // sdot v18.4s, v2.16b, v4.4b[0]
	WORD $0x4f84e073 // sdot v19.4s, v3.16b, v4.4b[0]
	WORD $0x4f85e014 // sdot v20.4s, v0.16b, v5.4b[0]
	WORD $0x4f85e035 // sdot v21.4s, v1.16b, v5.4b[0]
	WORD $0x4f85e056 // sdot v22.4s, v2.16b, v5.4b[0]
	WORD $0x4f85e077 // sdot v23.4s, v3.16b, v5.4b[0]
	WORD $0x4f86e018 // sdot v24.4s, v0.16b, v6.4b[0]
	WORD $0x4f86e039 // sdot v25.4s, v1.16b, v6.4b[0]
	WORD $0x4f86e05a // sdot v26.4s, v2.16b, v6.4b[0]
	WORD $0x4f86e07b // sdot v27.4s, v3.16b, v6.4b[0]
	WORD $0x4f87e01c // sdot v28.4s, v0.16b, v7.4b[0]
	WORD $0x4f87e03d // sdot v29.4s, v1.16b, v7.4b[0]
	WORD $0x4f87e05e // sdot v30.4s, v2.16b, v7.4b[0]
	WORD $0x4f87e07f // sdot v31.4s, v3.16b, v7.4b[0]
	SUB $1, R8, R8
	B sdot4
sdotTail:
	MOVD 80(R0), R14
	CBZ R14, sdotEpi
	VLD1 (R14), [V4.B16] // row r's last values in bytes 4r..4r+3
	VEOR V8.B16, V4.B16, V4.B16
	VLD1.P 64(R5), [V0.B16, V1.B16, V2.B16, V3.B16]
	WORD $0x4f84e010 // sdot v16.4s, v0.16b, v4.4b[0]
	WORD $0x4f84e031 // sdot v17.4s, v1.16b, v4.4b[0]
	WORD $0x4f84e052 // sdot v18.4s, v2.16b, v4.4b[0]
	WORD $0x4f84e073 // sdot v19.4s, v3.16b, v4.4b[0]
	WORD $0x4fa4e014 // sdot v20.4s, v0.16b, v4.4b[1]
	WORD $0x4fa4e035 // sdot v21.4s, v1.16b, v4.4b[1]
	WORD $0x4fa4e056 // sdot v22.4s, v2.16b, v4.4b[1]
	WORD $0x4fa4e077 // sdot v23.4s, v3.16b, v4.4b[1]
	WORD $0x4f84e818 // sdot v24.4s, v0.16b, v4.4b[2]
	WORD $0x4f84e839 // sdot v25.4s, v1.16b, v4.4b[2]
	WORD $0x4f84e85a // sdot v26.4s, v2.16b, v4.4b[2]
	WORD $0x4f84e87b // sdot v27.4s, v3.16b, v4.4b[2]
	WORD $0x4fa4e81c // sdot v28.4s, v0.16b, v4.4b[3]
	WORD $0x4fa4e83d // sdot v29.4s, v1.16b, v4.4b[3]
	WORD $0x4fa4e85e // sdot v30.4s, v2.16b, v4.4b[3]
	WORD $0x4fa4e87f // sdot v31.4s, v3.16b, v4.4b[3]
sdotEpi:
	MOVW 140(R0), R14
	VDUP R14, V9.S4
	MOVW 144(R0), R14
	VDUP R14, V10.S4
	MOVW 148(R0), R14
	VDUP R14, V11.S4
	MOVW 120(R0), R14
	VDUP R14, V12.S4
	ADD $0, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V16.S4, V16.S4
	VADD V12.S4, V16.S4, V16.S4
	WORD $0x4ea14610 // sshl v16.4s, v16.4s, v1.4s
	WORD $0x6ea2b610 // sqrdmulh v16.4s, v16.4s, v2.4s
	WORD $0x4ea35610 // srshl v16.4s, v16.4s, v3.4s
	VADD V9.S4, V16.S4, V16.S4
	WORD $0x4eaa6610 // smax v16.4s, v16.4s, v10.4s
	WORD $0x4eab6e10 // smin v16.4s, v16.4s, v11.4s
	ADD $64, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V17.S4, V17.S4
	VADD V12.S4, V17.S4, V17.S4
	WORD $0x4ea14631 // sshl v17.4s, v17.4s, v1.4s
	WORD $0x6ea2b631 // sqrdmulh v17.4s, v17.4s, v2.4s
	WORD $0x4ea35631 // srshl v17.4s, v17.4s, v3.4s
	VADD V9.S4, V17.S4, V17.S4
	WORD $0x4eaa6631 // smax v17.4s, v17.4s, v10.4s
	WORD $0x4eab6e31 // smin v17.4s, v17.4s, v11.4s
	ADD $128, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V18.S4, V18.S4
	VADD V12.S4, V18.S4, V18.S4
	WORD $0x4ea14652 // sshl v18.4s, v18.4s, v1.4s
	WORD $0x6ea2b652 // sqrdmulh v18.4s, v18.4s, v2.4s
	WORD $0x4ea35652 // srshl v18.4s, v18.4s, v3.4s
	VADD V9.S4, V18.S4, V18.S4
	WORD $0x4eaa6652 // smax v18.4s, v18.4s, v10.4s
	WORD $0x4eab6e52 // smin v18.4s, v18.4s, v11.4s
	ADD $192, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V19.S4, V19.S4
	VADD V12.S4, V19.S4, V19.S4
	WORD $0x4ea14673 // sshl v19.4s, v19.4s, v1.4s
	WORD $0x6ea2b673 // sqrdmulh v19.4s, v19.4s, v2.4s
	WORD $0x4ea35673 // srshl v19.4s, v19.4s, v3.4s
	VADD V9.S4, V19.S4, V19.S4
	WORD $0x4eaa6673 // smax v19.4s, v19.4s, v10.4s
	WORD $0x4eab6e73 // smin v19.4s, v19.4s, v11.4s
	WORD $0x0e612a0d // xtn v13.4h, v16.4s
	WORD $0x4e612a2d // xtn2 v13.8h, v17.4s
	WORD $0x0e612a4e // xtn v14.4h, v18.4s
	WORD $0x4e612a6e // xtn2 v14.8h, v19.4s
	WORD $0x0e2129ad // xtn v13.8b, v13.8h
	WORD $0x4e2129cd // xtn2 v13.16b, v14.8h
	MOVD 32(R0), R15
	ADD R9, R15, R15
	VST1 [V13.B16], (R15)
	MOVW 124(R0), R14
	VDUP R14, V12.S4
	ADD $0, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V20.S4, V20.S4
	VADD V12.S4, V20.S4, V20.S4
	WORD $0x4ea14694 // sshl v20.4s, v20.4s, v1.4s
	WORD $0x6ea2b694 // sqrdmulh v20.4s, v20.4s, v2.4s
	WORD $0x4ea35694 // srshl v20.4s, v20.4s, v3.4s
	VADD V9.S4, V20.S4, V20.S4
	WORD $0x4eaa6694 // smax v20.4s, v20.4s, v10.4s
	WORD $0x4eab6e94 // smin v20.4s, v20.4s, v11.4s
	ADD $64, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V21.S4, V21.S4
	VADD V12.S4, V21.S4, V21.S4
	WORD $0x4ea146b5 // sshl v21.4s, v21.4s, v1.4s
	WORD $0x6ea2b6b5 // sqrdmulh v21.4s, v21.4s, v2.4s
	WORD $0x4ea356b5 // srshl v21.4s, v21.4s, v3.4s
	VADD V9.S4, V21.S4, V21.S4
	WORD $0x4eaa66b5 // smax v21.4s, v21.4s, v10.4s
	WORD $0x4eab6eb5 // smin v21.4s, v21.4s, v11.4s
	ADD $128, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V22.S4, V22.S4
	VADD V12.S4, V22.S4, V22.S4
	WORD $0x4ea146d6 // sshl v22.4s, v22.4s, v1.4s
	WORD $0x6ea2b6d6 // sqrdmulh v22.4s, v22.4s, v2.4s
	WORD $0x4ea356d6 // srshl v22.4s, v22.4s, v3.4s
	VADD V9.S4, V22.S4, V22.S4
	WORD $0x4eaa66d6 // smax v22.4s, v22.4s, v10.4s
	WORD $0x4eab6ed6 // smin v22.4s, v22.4s, v11.4s
	ADD $192, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V23.S4, V23.S4
	VADD V12.S4, V23.S4, V23.S4
	WORD $0x4ea146f7 // sshl v23.4s, v23.4s, v1.4s
	WORD $0x6ea2b6f7 // sqrdmulh v23.4s, v23.4s, v2.4s
	WORD $0x4ea356f7 // srshl v23.4s, v23.4s, v3.4s
	VADD V9.S4, V23.S4, V23.S4
	WORD $0x4eaa66f7 // smax v23.4s, v23.4s, v10.4s
	WORD $0x4eab6ef7 // smin v23.4s, v23.4s, v11.4s
	WORD $0x0e612a8d // xtn v13.4h, v20.4s
	WORD $0x4e612aad // xtn2 v13.8h, v21.4s
	WORD $0x0e612ace // xtn v14.4h, v22.4s
	WORD $0x4e612aee // xtn2 v14.8h, v23.4s
	WORD $0x0e2129ad // xtn v13.8b, v13.8h
	WORD $0x4e2129cd // xtn2 v13.16b, v14.8h
	MOVD 40(R0), R15
	ADD R9, R15, R15
	VST1 [V13.B16], (R15)
	MOVW 128(R0), R14
	VDUP R14, V12.S4
	ADD $0, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V24.S4, V24.S4
	VADD V12.S4, V24.S4, V24.S4
	WORD $0x4ea14718 // sshl v24.4s, v24.4s, v1.4s
	WORD $0x6ea2b718 // sqrdmulh v24.4s, v24.4s, v2.4s
	WORD $0x4ea35718 // srshl v24.4s, v24.4s, v3.4s
	VADD V9.S4, V24.S4, V24.S4
	WORD $0x4eaa6718 // smax v24.4s, v24.4s, v10.4s
	WORD $0x4eab6f18 // smin v24.4s, v24.4s, v11.4s
	ADD $64, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V25.S4, V25.S4
	VADD V12.S4, V25.S4, V25.S4
	WORD $0x4ea14739 // sshl v25.4s, v25.4s, v1.4s
	WORD $0x6ea2b739 // sqrdmulh v25.4s, v25.4s, v2.4s
	WORD $0x4ea35739 // srshl v25.4s, v25.4s, v3.4s
	VADD V9.S4, V25.S4, V25.S4
	WORD $0x4eaa6739 // smax v25.4s, v25.4s, v10.4s
	WORD $0x4eab6f39 // smin v25.4s, v25.4s, v11.4s
	ADD $128, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V26.S4, V26.S4
	VADD V12.S4, V26.S4, V26.S4
	WORD $0x4ea1475a // sshl v26.4s, v26.4s, v1.4s
	WORD $0x6ea2b75a // sqrdmulh v26.4s, v26.4s, v2.4s
	WORD $0x4ea3575a // srshl v26.4s, v26.4s, v3.4s
	VADD V9.S4, V26.S4, V26.S4
	WORD $0x4eaa675a // smax v26.4s, v26.4s, v10.4s
	WORD $0x4eab6f5a // smin v26.4s, v26.4s, v11.4s
	ADD $192, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V27.S4, V27.S4
	VADD V12.S4, V27.S4, V27.S4
	WORD $0x4ea1477b // sshl v27.4s, v27.4s, v1.4s
	WORD $0x6ea2b77b // sqrdmulh v27.4s, v27.4s, v2.4s
	WORD $0x4ea3577b // srshl v27.4s, v27.4s, v3.4s
	VADD V9.S4, V27.S4, V27.S4
	WORD $0x4eaa677b // smax v27.4s, v27.4s, v10.4s
	WORD $0x4eab6f7b // smin v27.4s, v27.4s, v11.4s
	WORD $0x0e612b0d // xtn v13.4h, v24.4s
	WORD $0x4e612b2d // xtn2 v13.8h, v25.4s
	WORD $0x0e612b4e // xtn v14.4h, v26.4s
	WORD $0x4e612b6e // xtn2 v14.8h, v27.4s
	WORD $0x0e2129ad // xtn v13.8b, v13.8h
	WORD $0x4e2129cd // xtn2 v13.16b, v14.8h
	MOVD 48(R0), R15
	ADD R9, R15, R15
	VST1 [V13.B16], (R15)
	MOVW 132(R0), R14
	VDUP R14, V12.S4
	ADD $0, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V28.S4, V28.S4
	VADD V12.S4, V28.S4, V28.S4
	WORD $0x4ea1479c // sshl v28.4s, v28.4s, v1.4s
	WORD $0x6ea2b79c // sqrdmulh v28.4s, v28.4s, v2.4s
	WORD $0x4ea3579c // srshl v28.4s, v28.4s, v3.4s
	VADD V9.S4, V28.S4, V28.S4
	WORD $0x4eaa679c // smax v28.4s, v28.4s, v10.4s
	WORD $0x4eab6f9c // smin v28.4s, v28.4s, v11.4s
	ADD $64, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V29.S4, V29.S4
	VADD V12.S4, V29.S4, V29.S4
	WORD $0x4ea147bd // sshl v29.4s, v29.4s, v1.4s
	WORD $0x6ea2b7bd // sqrdmulh v29.4s, v29.4s, v2.4s
	WORD $0x4ea357bd // srshl v29.4s, v29.4s, v3.4s
	VADD V9.S4, V29.S4, V29.S4
	WORD $0x4eaa67bd // smax v29.4s, v29.4s, v10.4s
	WORD $0x4eab6fbd // smin v29.4s, v29.4s, v11.4s
	ADD $128, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V30.S4, V30.S4
	VADD V12.S4, V30.S4, V30.S4
	WORD $0x4ea147de // sshl v30.4s, v30.4s, v1.4s
	WORD $0x6ea2b7de // sqrdmulh v30.4s, v30.4s, v2.4s
	WORD $0x4ea357de // srshl v30.4s, v30.4s, v3.4s
	VADD V9.S4, V30.S4, V30.S4
	WORD $0x4eaa67de // smax v30.4s, v30.4s, v10.4s
	WORD $0x4eab6fde // smin v30.4s, v30.4s, v11.4s
	ADD $192, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V31.S4, V31.S4
	VADD V12.S4, V31.S4, V31.S4
	WORD $0x4ea147ff // sshl v31.4s, v31.4s, v1.4s
	WORD $0x6ea2b7ff // sqrdmulh v31.4s, v31.4s, v2.4s
	WORD $0x4ea357ff // srshl v31.4s, v31.4s, v3.4s
	VADD V9.S4, V31.S4, V31.S4
	WORD $0x4eaa67ff // smax v31.4s, v31.4s, v10.4s
	WORD $0x4eab6fff // smin v31.4s, v31.4s, v11.4s
	WORD $0x0e612b8d // xtn v13.4h, v28.4s
	WORD $0x4e612bad // xtn2 v13.8h, v29.4s
	WORD $0x0e612bce // xtn v14.4h, v30.4s
	WORD $0x4e612bee // xtn2 v14.8h, v31.4s
	WORD $0x0e2129ad // xtn v13.8b, v13.8h
	WORD $0x4e2129cd // xtn2 v13.16b, v14.8h
	MOVD 56(R0), R15
	ADD R9, R15, R15
	VST1 [V13.B16], (R15)
	MOVD 104(R0), R14
	ADD R14, R12, R12
	MOVD 112(R0), R14
	ADD R14, R6, R6
	ADD $16, R9, R9
	SUBS $1, R7, R7
	BNE sdotCol
	RET

// func tileSMULL2x16(t *tileArgs)
// 2 rows × 16 channels without the dot-product extension. For each group
// of four k, SMULL/SMULL2 multiply the weights of two channels (8 bytes)
// by the row's four inputs (repeated) into 16-bit products, exact since
// |−128·−128| < 2¹⁵, and SADALP adds adjacent pairs of them into int32
// lanes: row r's channels 4q, 4q+1 in V(16+8r+2q) and 4q+2, 4q+3 in
// V(17+8r+2q), two partial sums per channel, which ADDP adds at the end.
TEXT ·tileSMULL2x16(SB), NOSPLIT, $0-8
	MOVD t+0(FP), R0
	MOVD 64(R0), R12
	MOVD 72(R0), R6
	MOVD 96(R0), R7
	MOVWU 136(R0), R14
	VDUP R14, V8.S4
	MOVD $0, R9
smullCol:
	MOVD R12, R5
	MOVD 0(R0), R1
	MOVD 8(R0), R2
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16
	VEOR V24.B16, V24.B16, V24.B16
	VEOR V25.B16, V25.B16, V25.B16
	VEOR V26.B16, V26.B16, V26.B16
	VEOR V27.B16, V27.B16, V27.B16
	VEOR V28.B16, V28.B16, V28.B16
	VEOR V29.B16, V29.B16, V29.B16
	VEOR V30.B16, V30.B16, V30.B16
	VEOR V31.B16, V31.B16, V31.B16
	MOVD 88(R0), R8
	CBZ R8, smullTail
smullK:
	VLD1.P 64(R5), [V0.B16, V1.B16, V2.B16, V3.B16]
	VLD1R.P 4(R1), [V4.S4]
	VLD1R.P 4(R2), [V5.S4]
	VEOR V8.B16, V4.B16, V4.B16
	VEOR V8.B16, V5.B16, V5.B16
	WORD $0x0e24c00c // smull v12.8h, v0.8b, v4.8b
	WORD $0x4e24c00d // smull2 v13.8h, v0.16b, v4.16b
	WORD $0x4e606990 // sadalp v16.4s, v12.8h
	WORD $0x4e6069b1 // sadalp v17.4s, v13.8h
	WORD $0x0e24c02c // smull v12.8h, v1.8b, v4.8b
	WORD $0x4e24c02d // smull2 v13.8h, v1.16b, v4.16b
	WORD $0x4e606992 // sadalp v18.4s, v12.8h
	WORD $0x4e6069b3 // sadalp v19.4s, v13.8h
	WORD $0x0e24c04c // smull v12.8h, v2.8b, v4.8b
	WORD $0x4e24c04d // smull2 v13.8h, v2.16b, v4.16b
	WORD $0x4e606994 // sadalp v20.4s, v12.8h
	WORD $0x4e6069b5 // sadalp v21.4s, v13.8h
	WORD $0x0e24c06c // smull v12.8h, v3.8b, v4.8b
	WORD $0x4e24c06d // smull2 v13.8h, v3.16b, v4.16b
	WORD $0x4e606996 // sadalp v22.4s, v12.8h
	WORD $0x4e6069b7 // sadalp v23.4s, v13.8h
	WORD $0x0e25c00c // smull v12.8h, v0.8b, v5.8b
	WORD $0x4e25c00d // smull2 v13.8h, v0.16b, v5.16b
	WORD $0x4e606998 // sadalp v24.4s, v12.8h
	WORD $0x4e6069b9 // sadalp v25.4s, v13.8h
	WORD $0x0e25c02c // smull v12.8h, v1.8b, v5.8b
	WORD $0x4e25c02d // smull2 v13.8h, v1.16b, v5.16b
	WORD $0x4e60699a // sadalp v26.4s, v12.8h
	WORD $0x4e6069bb // sadalp v27.4s, v13.8h
	WORD $0x0e25c04c // smull v12.8h, v2.8b, v5.8b
	WORD $0x4e25c04d // smull2 v13.8h, v2.16b, v5.16b
	WORD $0x4e60699c // sadalp v28.4s, v12.8h
	WORD $0x4e6069bd // sadalp v29.4s, v13.8h
	WORD $0x0e25c06c // smull v12.8h, v3.8b, v5.8b
	WORD $0x4e25c06d // smull2 v13.8h, v3.16b, v5.16b
	WORD $0x4e60699e // sadalp v30.4s, v12.8h
	WORD $0x4e6069bf // sadalp v31.4s, v13.8h
	SUBS $1, R8, R8
	BNE smullK
smullTail:
	MOVD 80(R0), R14
	CBZ R14, smullEpi
	VLD1R (R14), [V4.S4]
	ADD $4, R14, R14
	VLD1R (R14), [V5.S4]
	VLD1.P 64(R5), [V0.B16, V1.B16, V2.B16, V3.B16]
	VEOR V8.B16, V4.B16, V4.B16
	VEOR V8.B16, V5.B16, V5.B16
	WORD $0x0e24c00c // smull v12.8h, v0.8b, v4.8b
	WORD $0x4e24c00d // smull2 v13.8h, v0.16b, v4.16b
	WORD $0x4e606990 // sadalp v16.4s, v12.8h
	WORD $0x4e6069b1 // sadalp v17.4s, v13.8h
	WORD $0x0e24c02c // smull v12.8h, v1.8b, v4.8b
	WORD $0x4e24c02d // smull2 v13.8h, v1.16b, v4.16b
	WORD $0x4e606992 // sadalp v18.4s, v12.8h
	WORD $0x4e6069b3 // sadalp v19.4s, v13.8h
	WORD $0x0e24c04c // smull v12.8h, v2.8b, v4.8b
	WORD $0x4e24c04d // smull2 v13.8h, v2.16b, v4.16b
	WORD $0x4e606994 // sadalp v20.4s, v12.8h
	WORD $0x4e6069b5 // sadalp v21.4s, v13.8h
	WORD $0x0e24c06c // smull v12.8h, v3.8b, v4.8b
	WORD $0x4e24c06d // smull2 v13.8h, v3.16b, v4.16b
	WORD $0x4e606996 // sadalp v22.4s, v12.8h
	WORD $0x4e6069b7 // sadalp v23.4s, v13.8h
	WORD $0x0e25c00c // smull v12.8h, v0.8b, v5.8b
	WORD $0x4e25c00d // smull2 v13.8h, v0.16b, v5.16b
	WORD $0x4e606998 // sadalp v24.4s, v12.8h
	WORD $0x4e6069b9 // sadalp v25.4s, v13.8h
	WORD $0x0e25c02c // smull v12.8h, v1.8b, v5.8b
	WORD $0x4e25c02d // smull2 v13.8h, v1.16b, v5.16b
	WORD $0x4e60699a // sadalp v26.4s, v12.8h
	WORD $0x4e6069bb // sadalp v27.4s, v13.8h
	WORD $0x0e25c04c // smull v12.8h, v2.8b, v5.8b
	WORD $0x4e25c04d // smull2 v13.8h, v2.16b, v5.16b
	WORD $0x4e60699c // sadalp v28.4s, v12.8h
	WORD $0x4e6069bd // sadalp v29.4s, v13.8h
	WORD $0x0e25c06c // smull v12.8h, v3.8b, v5.8b
	WORD $0x4e25c06d // smull2 v13.8h, v3.16b, v5.16b
	WORD $0x4e60699e // sadalp v30.4s, v12.8h
	WORD $0x4e6069bf // sadalp v31.4s, v13.8h
smullEpi:
	VADDP V17.S4, V16.S4, V16.S4
	VADDP V19.S4, V18.S4, V17.S4
	VADDP V21.S4, V20.S4, V18.S4
	VADDP V23.S4, V22.S4, V19.S4
	VADDP V25.S4, V24.S4, V24.S4
	VADDP V27.S4, V26.S4, V25.S4
	VADDP V29.S4, V28.S4, V26.S4
	VADDP V31.S4, V30.S4, V27.S4
	MOVW 140(R0), R14
	VDUP R14, V9.S4
	MOVW 144(R0), R14
	VDUP R14, V10.S4
	MOVW 148(R0), R14
	VDUP R14, V11.S4
	MOVW 120(R0), R14
	VDUP R14, V12.S4
	ADD $0, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V16.S4, V16.S4
	VADD V12.S4, V16.S4, V16.S4
	WORD $0x4ea14610 // sshl v16.4s, v16.4s, v1.4s
	WORD $0x6ea2b610 // sqrdmulh v16.4s, v16.4s, v2.4s
	WORD $0x4ea35610 // srshl v16.4s, v16.4s, v3.4s
	VADD V9.S4, V16.S4, V16.S4
	WORD $0x4eaa6610 // smax v16.4s, v16.4s, v10.4s
	WORD $0x4eab6e10 // smin v16.4s, v16.4s, v11.4s
	ADD $64, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V17.S4, V17.S4
	VADD V12.S4, V17.S4, V17.S4
	WORD $0x4ea14631 // sshl v17.4s, v17.4s, v1.4s
	WORD $0x6ea2b631 // sqrdmulh v17.4s, v17.4s, v2.4s
	WORD $0x4ea35631 // srshl v17.4s, v17.4s, v3.4s
	VADD V9.S4, V17.S4, V17.S4
	WORD $0x4eaa6631 // smax v17.4s, v17.4s, v10.4s
	WORD $0x4eab6e31 // smin v17.4s, v17.4s, v11.4s
	ADD $128, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V18.S4, V18.S4
	VADD V12.S4, V18.S4, V18.S4
	WORD $0x4ea14652 // sshl v18.4s, v18.4s, v1.4s
	WORD $0x6ea2b652 // sqrdmulh v18.4s, v18.4s, v2.4s
	WORD $0x4ea35652 // srshl v18.4s, v18.4s, v3.4s
	VADD V9.S4, V18.S4, V18.S4
	WORD $0x4eaa6652 // smax v18.4s, v18.4s, v10.4s
	WORD $0x4eab6e52 // smin v18.4s, v18.4s, v11.4s
	ADD $192, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V19.S4, V19.S4
	VADD V12.S4, V19.S4, V19.S4
	WORD $0x4ea14673 // sshl v19.4s, v19.4s, v1.4s
	WORD $0x6ea2b673 // sqrdmulh v19.4s, v19.4s, v2.4s
	WORD $0x4ea35673 // srshl v19.4s, v19.4s, v3.4s
	VADD V9.S4, V19.S4, V19.S4
	WORD $0x4eaa6673 // smax v19.4s, v19.4s, v10.4s
	WORD $0x4eab6e73 // smin v19.4s, v19.4s, v11.4s
	WORD $0x0e612a0d // xtn v13.4h, v16.4s
	WORD $0x4e612a2d // xtn2 v13.8h, v17.4s
	WORD $0x0e612a4e // xtn v14.4h, v18.4s
	WORD $0x4e612a6e // xtn2 v14.8h, v19.4s
	WORD $0x0e2129ad // xtn v13.8b, v13.8h
	WORD $0x4e2129cd // xtn2 v13.16b, v14.8h
	MOVD 32(R0), R15
	ADD R9, R15, R15
	VST1 [V13.B16], (R15)
	MOVW 124(R0), R14
	VDUP R14, V12.S4
	ADD $0, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V24.S4, V24.S4
	VADD V12.S4, V24.S4, V24.S4
	WORD $0x4ea14718 // sshl v24.4s, v24.4s, v1.4s
	WORD $0x6ea2b718 // sqrdmulh v24.4s, v24.4s, v2.4s
	WORD $0x4ea35718 // srshl v24.4s, v24.4s, v3.4s
	VADD V9.S4, V24.S4, V24.S4
	WORD $0x4eaa6718 // smax v24.4s, v24.4s, v10.4s
	WORD $0x4eab6f18 // smin v24.4s, v24.4s, v11.4s
	ADD $64, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V25.S4, V25.S4
	VADD V12.S4, V25.S4, V25.S4
	WORD $0x4ea14739 // sshl v25.4s, v25.4s, v1.4s
	WORD $0x6ea2b739 // sqrdmulh v25.4s, v25.4s, v2.4s
	WORD $0x4ea35739 // srshl v25.4s, v25.4s, v3.4s
	VADD V9.S4, V25.S4, V25.S4
	WORD $0x4eaa6739 // smax v25.4s, v25.4s, v10.4s
	WORD $0x4eab6f39 // smin v25.4s, v25.4s, v11.4s
	ADD $128, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V26.S4, V26.S4
	VADD V12.S4, V26.S4, V26.S4
	WORD $0x4ea1475a // sshl v26.4s, v26.4s, v1.4s
	WORD $0x6ea2b75a // sqrdmulh v26.4s, v26.4s, v2.4s
	WORD $0x4ea3575a // srshl v26.4s, v26.4s, v3.4s
	VADD V9.S4, V26.S4, V26.S4
	WORD $0x4eaa675a // smax v26.4s, v26.4s, v10.4s
	WORD $0x4eab6f5a // smin v26.4s, v26.4s, v11.4s
	ADD $192, R6, R15
	VLD1 (R15), [V0.S4, V1.S4, V2.S4, V3.S4]
	VADD V0.S4, V27.S4, V27.S4
	VADD V12.S4, V27.S4, V27.S4
	WORD $0x4ea1477b // sshl v27.4s, v27.4s, v1.4s
	WORD $0x6ea2b77b // sqrdmulh v27.4s, v27.4s, v2.4s
	WORD $0x4ea3577b // srshl v27.4s, v27.4s, v3.4s
	VADD V9.S4, V27.S4, V27.S4
	WORD $0x4eaa677b // smax v27.4s, v27.4s, v10.4s
	WORD $0x4eab6f7b // smin v27.4s, v27.4s, v11.4s
	WORD $0x0e612b0d // xtn v13.4h, v24.4s
	WORD $0x4e612b2d // xtn2 v13.8h, v25.4s
	WORD $0x0e612b4e // xtn v14.4h, v26.4s
	WORD $0x4e612b6e // xtn2 v14.8h, v27.4s
	WORD $0x0e2129ad // xtn v13.8b, v13.8h
	WORD $0x4e2129cd // xtn2 v13.16b, v14.8h
	MOVD 40(R0), R15
	ADD R9, R15, R15
	VST1 [V13.B16], (R15)
	MOVD 104(R0), R14
	ADD R14, R12, R12
	MOVD 112(R0), R14
	ADD R14, R6, R6
	ADD $16, R9, R9
	SUBS $1, R7, R7
	BNE smullCol
	RET
