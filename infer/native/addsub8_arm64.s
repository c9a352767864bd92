#include "textflag.h"
#include "neon_arm64.h"

// 8-bit ADD and SUB, NEON: 16 elements per iteration in four int32x4
// registers per input. See addsub8_arm64.go for the parameters.
//
// Registers: R1 output, R2 and R3 inputs, R4 iterations left. V4–V7 the
// first input, V16–V19 the second, V10 scratch; V20 offset 1, V21
// offset 2, V22/V23 multiplier and negated shift 1, V24/V25 the same for
// input 2, V26/V27 for the output, V28 output zero point, V29/V30 clamp,
// V31 the left shift.

// ADD_BODY: EXT8/EXT8_2 widen bytes to halfwords, EXT16/EXT16_2
// halfwords to words (zero or sign extension), COMBINE adds or subtracts,
// NARROW/NARROW2 saturate halfwords to bytes.
#define ADD_BODY(EXT8, EXT8_2, EXT16, EXT16_2, COMBINE, NARROW, NARROW2) \
	MOVD   a+0(FP), R0 \
	MOVD   0(R0), R1 \
	MOVD   8(R0), R2 \
	MOVD   16(R0), R3 \
	MOVD   24(R0), R4 \
	LSR    $4, R4, R4 \
	MOVD   32(R0), R5 \
	MOVW   0(R5), R6 \
	VDUP   R6, V20.S4 \
	MOVW   4(R5), R6 \
	VDUP   R6, V21.S4 \
	MOVW   8(R5), R6 \
	VDUP   R6, V22.S4 \
	MOVW   12(R5), R6 \
	VDUP   R6, V23.S4 \
	MOVW   16(R5), R6 \
	VDUP   R6, V24.S4 \
	MOVW   20(R5), R6 \
	VDUP   R6, V25.S4 \
	MOVW   24(R5), R6 \
	VDUP   R6, V26.S4 \
	MOVW   28(R5), R6 \
	VDUP   R6, V27.S4 \
	MOVW   32(R5), R6 \
	VDUP   R6, V28.S4 \
	MOVW   36(R5), R6 \
	VDUP   R6, V29.S4 \
	MOVW   40(R5), R6 \
	VDUP   R6, V30.S4 \
	MOVW   44(R5), R6 \
	VDUP   R6, V31.S4 \
loop: \
	VLD1.P 16(R2), [V0.B16] \
	VLD1.P 16(R3), [V1.B16] \
	EXT8(2, 0) \
	EXT8_2(3, 0) \
	EXT16(4, 2) \
	EXT16_2(5, 2) \
	EXT16(6, 3) \
	EXT16_2(7, 3) \
	EXT8(8, 1) \
	EXT8_2(9, 1) \
	EXT16(16, 8) \
	EXT16_2(17, 8) \
	EXT16(18, 9) \
	EXT16_2(19, 9) \
	VADD   V20.S4, V4.S4, V4.S4 \
	VADD   V20.S4, V5.S4, V5.S4 \
	VADD   V20.S4, V6.S4, V6.S4 \
	VADD   V20.S4, V7.S4, V7.S4 \
	VADD   V21.S4, V16.S4, V16.S4 \
	VADD   V21.S4, V17.S4, V17.S4 \
	VADD   V21.S4, V18.S4, V18.S4 \
	VADD   V21.S4, V19.S4, V19.S4 \
	SSHL_4S(4, 4, 31) \
	SSHL_4S(5, 5, 31) \
	SSHL_4S(6, 6, 31) \
	SSHL_4S(7, 7, 31) \
	SSHL_4S(16, 16, 31) \
	SSHL_4S(17, 17, 31) \
	SSHL_4S(18, 18, 31) \
	SSHL_4S(19, 19, 31) \
	RESCALE_4S(4, 22, 23, 10, V4, V23, V10) \
	RESCALE_4S(5, 22, 23, 10, V5, V23, V10) \
	RESCALE_4S(6, 22, 23, 10, V6, V23, V10) \
	RESCALE_4S(7, 22, 23, 10, V7, V23, V10) \
	RESCALE_4S(16, 24, 25, 10, V16, V25, V10) \
	RESCALE_4S(17, 24, 25, 10, V17, V25, V10) \
	RESCALE_4S(18, 24, 25, 10, V18, V25, V10) \
	RESCALE_4S(19, 24, 25, 10, V19, V25, V10) \
	COMBINE V16.S4, V4.S4, V4.S4 \
	COMBINE V17.S4, V5.S4, V5.S4 \
	COMBINE V18.S4, V6.S4, V6.S4 \
	COMBINE V19.S4, V7.S4, V7.S4 \
	RESCALE_4S(4, 26, 27, 10, V4, V27, V10) \
	RESCALE_4S(5, 26, 27, 10, V5, V27, V10) \
	RESCALE_4S(6, 26, 27, 10, V6, V27, V10) \
	RESCALE_4S(7, 26, 27, 10, V7, V27, V10) \
	VADD   V28.S4, V4.S4, V4.S4 \
	VADD   V28.S4, V5.S4, V5.S4 \
	VADD   V28.S4, V6.S4, V6.S4 \
	VADD   V28.S4, V7.S4, V7.S4 \
	SMAX_4S(4, 4, 29) \
	SMAX_4S(5, 5, 29) \
	SMAX_4S(6, 6, 29) \
	SMAX_4S(7, 7, 29) \
	SMIN_4S(4, 4, 30) \
	SMIN_4S(5, 5, 30) \
	SMIN_4S(6, 6, 30) \
	SMIN_4S(7, 7, 30) \
	SQXTN_4H(2, 4) \
	SQXTN2_8H(2, 5) \
	SQXTN_4H(3, 6) \
	SQXTN2_8H(3, 7) \
	NARROW(0, 2) \
	NARROW2(0, 3) \
	VST1.P [V0.B16], 16(R1) \
	SUBS   $1, R4, R4 \
	BNE    loop \
	RET

// func addNEONU8(a *addArgs)
TEXT ·addNEONU8(SB), NOSPLIT, $0-8
	ADD_BODY(UXTL_8H, UXTL2_8H, UXTL_4S, UXTL2_4S, VADD, SQXTUN_8B, SQXTUN2_16B)

// func addNEONS8(a *addArgs)
TEXT ·addNEONS8(SB), NOSPLIT, $0-8
	ADD_BODY(SXTL_8H, SXTL2_8H, SXTL_4S, SXTL2_4S, VADD, SQXTN_8B, SQXTN2_16B)

// func subNEONU8(a *addArgs)
TEXT ·subNEONU8(SB), NOSPLIT, $0-8
	ADD_BODY(UXTL_8H, UXTL2_8H, UXTL_4S, UXTL2_4S, VSUB, SQXTUN_8B, SQXTUN2_16B)

// func subNEONS8(a *addArgs)
TEXT ·subNEONS8(SB), NOSPLIT, $0-8
	ADD_BODY(SXTL_8H, SXTL2_8H, SXTL_4S, SXTL2_4S, VSUB, SQXTN_8B, SQXTN2_16B)
