#include "textflag.h"

// 8-bit ADD and SUB, AVX2: 16 elements per iteration, as two halves of 8
// int32 lanes. See addsub8_amd64.go for the parameter rows (32 bytes
// each, at R8) and depthwise_amd64.s for the rescaling steps.
//
// Registers: DI output, SI and DX inputs, CX iterations left, R8
// parameters, Y0–Y3 values, Y4–Y5 temporaries, Y15 2^30 per quadword.

// ADD_RESCALE: A = RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(A,
// m), cnt) with the multiplier, mask, mask>>1 and count rows at M, MASK,
// THR, CNT. The rounding adds one where remainder + (A>>31) > mask>>1,
// that is remainder > mask>>1 (+1 for negative A).
#define ADD_RESCALE(A, M, MASK, THR, CNT) \
	VPMULDQ  M(R8), A, Y4 \
	VPADDQ   Y15, Y4, Y4 \
	VPSRLQ   $31, Y4, Y4 \
	VPSRLQ   $32, A, Y5 \
	VPMULDQ  M(R8), Y5, Y5 \
	VPADDQ   Y15, Y5, Y5 \
	VPSLLQ   $1, Y5, Y5 \
	VPBLENDD $0xAA, Y5, Y4, A \
	VPAND    MASK(R8), A, Y4 \
	VPSRAD   $31, A, Y5 \
	VPADDD   Y5, Y4, Y4 \
	VPCMPGTD THR(R8), Y4, Y4 \
	VPSRAD   CNT(R8), A, A \
	VPSUBD   Y4, A, A

// ADD_BODY: EXT widens 8 bytes to 8 int32, COMBINE adds or subtracts the
// rescaled inputs, PACK narrows words to bytes.
#define ADD_BODY(EXT, COMBINE, PACK) \
	MOVQ         a+0(FP), AX \
	MOVQ         0(AX), DI \
	MOVQ         8(AX), SI \
	MOVQ         16(AX), DX \
	MOVQ         24(AX), CX \
	MOVQ         32(AX), R8 \
	VMOVDQU      544(R8), Y15 \
	SHRQ         $4, CX \
loop: \
	EXT          0(SI), Y0 \
	EXT          8(SI), Y1 \
	EXT          0(DX), Y2 \
	EXT          8(DX), Y3 \
	VPADDD       0(R8), Y0, Y0 \
	VPADDD       0(R8), Y1, Y1 \
	VPADDD       32(R8), Y2, Y2 \
	VPADDD       32(R8), Y3, Y3 \
	VPSLLD       576(R8), Y0, Y0 \
	VPSLLD       576(R8), Y1, Y1 \
	VPSLLD       576(R8), Y2, Y2 \
	VPSLLD       576(R8), Y3, Y3 \
	ADD_RESCALE(Y0, 64, 96, 128, 160) \
	ADD_RESCALE(Y1, 64, 96, 128, 160) \
	ADD_RESCALE(Y2, 192, 224, 256, 288) \
	ADD_RESCALE(Y3, 192, 224, 256, 288) \
	COMBINE      Y2, Y0, Y0 \
	COMBINE      Y3, Y1, Y1 \
	ADD_RESCALE(Y0, 320, 352, 384, 416) \
	ADD_RESCALE(Y1, 320, 352, 384, 416) \
	VPADDD       448(R8), Y0, Y0 \
	VPADDD       448(R8), Y1, Y1 \
	VPMAXSD      480(R8), Y0, Y0 \
	VPMAXSD      480(R8), Y1, Y1 \
	VPMINSD      512(R8), Y0, Y0 \
	VPMINSD      512(R8), Y1, Y1 \
	VPACKSSDW    Y1, Y0, Y0 \
	VPERMQ       $0xD8, Y0, Y0 \
	VEXTRACTI128 $1, Y0, X1 \
	PACK         X1, X0, X0 \
	VMOVDQU      X0, (DI) \
	ADDQ         $16, SI \
	ADDQ         $16, DX \
	ADDQ         $16, DI \
	DECQ         CX \
	JNZ          loop \
	VZEROUPPER \
	RET

// func addAVX2U8(a *addArgs)
TEXT ·addAVX2U8(SB), NOSPLIT, $0-8
	ADD_BODY(VPMOVZXBD, VPADDD, VPACKUSWB)

// func addAVX2S8(a *addArgs)
TEXT ·addAVX2S8(SB), NOSPLIT, $0-8
	ADD_BODY(VPMOVSXBD, VPADDD, VPACKSSWB)

// func subAVX2U8(a *addArgs)
TEXT ·subAVX2U8(SB), NOSPLIT, $0-8
	ADD_BODY(VPMOVZXBD, VPSUBD, VPACKUSWB)

// func subAVX2S8(a *addArgs)
TEXT ·subAVX2S8(SB), NOSPLIT, $0-8
	ADD_BODY(VPMOVSXBD, VPSUBD, VPACKSSWB)

// The AVX-512 kernels: 32 elements per iteration, as two ZMM registers of
// 16 int32 lanes, with the output stage of dw3x3AVX512 (see
// depthwise_amd64.s): RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(
// x, m), r) = (x·m + 2^30 + (h − neg)·2^31) >> (31 + r) on 64-bit products.
// The parameters (addZPar) are broadcast once:
//
//	Z16, Z17 input offsets   Z18, Z19, Z20 multipliers (in 1, in 2, out)
//	Z21 output zero point    Z22, Z23 clamp         X24 left shift
//	Z25, Z26, X27 2^30 + h·2^31, −2^31 or 0, 31 + r for input 1
//	Z28, Z29, X30 the same for input 2; Z31, Z12, X13 for the output
//	Z15 −2^30 per quadword   K1 the odd doublewords
//
// Z0–Z3 values, Z4–Z11 temporaries.

// ADDZ_RESCALE rescales A with multiplier M, the 64-bit addend ADD, the
// negative-tie term NEG and the shift count SH, using temporaries T0, T1.
#define ADDZ_RESCALE(A, M, ADD, NEG, SH, T0, T1) \
	VPMULDQ   M, A, T0 \
	VPSRLQ    $32, A, T1 \
	VPMULDQ   M, T1, T1 \
	VPCMPGTQ  T0, Z15, K2 \
	VPCMPGTQ  T1, Z15, K3 \
	VPADDQ    ADD, T0, T0 \
	VPADDQ    ADD, T1, T1 \
	VPADDQ    NEG, T0, K2, T0 \
	VPADDQ    NEG, T1, K3, T1 \
	VPSRAQ    SH, T0, T0 \
	VPSRAQ    SH, T1, T1 \
	VPSLLQ    $32, T1, T1 \
	VPBLENDMD T1, T0, K1, A

// ADDZ_BODY: EXT widens 16 bytes to 16 int32, COMBINE adds or subtracts.
// The clamped results fit a byte, so VPMOVDB's truncation is exact.
#define ADDZ_BODY(EXT, COMBINE) \
	MOVQ         a+0(FP), AX \
	MOVQ         0(AX), DI \
	MOVQ         8(AX), SI \
	MOVQ         16(AX), DX \
	MOVQ         24(AX), CX \
	MOVQ         32(AX), R8 \
	VPBROADCASTD 0(R8), Z16 \
	VPBROADCASTD 4(R8), Z17 \
	VPBROADCASTD 8(R8), Z18 \
	VPBROADCASTD 12(R8), Z19 \
	VPBROADCASTD 16(R8), Z20 \
	VPBROADCASTD 20(R8), Z21 \
	VPBROADCASTD 24(R8), Z22 \
	VPBROADCASTD 28(R8), Z23 \
	VMOVQ        32(R8), X24 \
	VPBROADCASTQ 40(R8), Z25 \
	VPBROADCASTQ 48(R8), Z26 \
	VMOVQ        56(R8), X27 \
	VPBROADCASTQ 64(R8), Z28 \
	VPBROADCASTQ 72(R8), Z29 \
	VMOVQ        80(R8), X30 \
	VPBROADCASTQ 88(R8), Z31 \
	VPBROADCASTQ 96(R8), Z12 \
	VMOVQ        104(R8), X13 \
	MOVQ         $-0x40000000, R9 \
	VPBROADCASTQ R9, Z15 \
	MOVL         $0xAAAA, R9 \
	KMOVW        R9, K1 \
	SHRQ         $5, CX \
loopz: \
	EXT          0(SI), Z0 \
	EXT          16(SI), Z1 \
	EXT          0(DX), Z2 \
	EXT          16(DX), Z3 \
	VPADDD       Z16, Z0, Z0 \
	VPADDD       Z16, Z1, Z1 \
	VPADDD       Z17, Z2, Z2 \
	VPADDD       Z17, Z3, Z3 \
	VPSLLD       X24, Z0, Z0 \
	VPSLLD       X24, Z1, Z1 \
	VPSLLD       X24, Z2, Z2 \
	VPSLLD       X24, Z3, Z3 \
	ADDZ_RESCALE(Z0, Z18, Z25, Z26, X27, Z4, Z5) \
	ADDZ_RESCALE(Z1, Z18, Z25, Z26, X27, Z6, Z7) \
	ADDZ_RESCALE(Z2, Z19, Z28, Z29, X30, Z8, Z9) \
	ADDZ_RESCALE(Z3, Z19, Z28, Z29, X30, Z10, Z11) \
	COMBINE      Z2, Z0, Z0 \
	COMBINE      Z3, Z1, Z1 \
	ADDZ_RESCALE(Z0, Z20, Z31, Z12, X13, Z4, Z5) \
	ADDZ_RESCALE(Z1, Z20, Z31, Z12, X13, Z6, Z7) \
	VPADDD       Z21, Z0, Z0 \
	VPADDD       Z21, Z1, Z1 \
	VPMAXSD      Z22, Z0, Z0 \
	VPMAXSD      Z22, Z1, Z1 \
	VPMINSD      Z23, Z0, Z0 \
	VPMINSD      Z23, Z1, Z1 \
	VPMOVDB      Z0, 0(DI) \
	VPMOVDB      Z1, 16(DI) \
	ADDQ         $32, SI \
	ADDQ         $32, DX \
	ADDQ         $32, DI \
	DECQ         CX \
	JNZ          loopz \
	VZEROUPPER \
	RET

// func addAVX512U8(a *addArgs)
TEXT ·addAVX512U8(SB), NOSPLIT, $0-8
	ADDZ_BODY(VPMOVZXBD, VPADDD)

// func addAVX512S8(a *addArgs)
TEXT ·addAVX512S8(SB), NOSPLIT, $0-8
	ADDZ_BODY(VPMOVSXBD, VPADDD)

// func subAVX512U8(a *addArgs)
TEXT ·subAVX512U8(SB), NOSPLIT, $0-8
	ADDZ_BODY(VPMOVZXBD, VPSUBD)

// func subAVX512S8(a *addArgs)
TEXT ·subAVX512S8(SB), NOSPLIT, $0-8
	ADDZ_BODY(VPMOVSXBD, VPSUBD)
