#include "textflag.h"
#include "neon_arm64.h"

// Depthwise convolution, depth multiplier 1, 8-bit, NEON. See
// depthwise_arm64.go for the table layouts and dwArgs.

// DW_REQUANT: accumulator a (register va) shifted left by a+8, rescaled
// by multiplier a+4 and negated right shift a+12 (register vr), plus the
// zero point V24, clamped to [V25, V26].
#define DW_REQUANT(a, va, vr) \
	SSHL_4S(a, a, a+8) \
	RESCALE_4S(a, a+4, a+12, 16, va, vr, V16) \
	VADD V24.S4, va.S4, va.S4 \
	SMAX_4S(a, a, 25) \
	SMIN_4S(a, a, 26)

// DW_BODY is the whole kernel; EXTL/EXTL2 widen the low/high 8 bytes of
// V16 (zero or sign extension), NARROW/NARROW2 saturate words to bytes.
//
// Registers: R0 args, R1 output of the pixel, R2 its source, R3 pixels
// left, R4 blocks left, R5 filter, R6 parameters, R7 source of the
// block, R8 its output, R9 tap offsets, R10 taps left, R11 a tap's
// address. V0–V3 accumulators (channels 0–3, 4–7, 8–11, 12–15).
#define DW_BODY(EXTL, EXTL2, NARROW, NARROW2) \
	MOVD   a+0(FP), R0 \
	MOVD   0(R0), R1 \
	MOVD   8(R0), R2 \
	MOVD   32(R0), R3 \
	MOVW   80(R0), R12 \
	VDUP   R12, V24.S4 \
	MOVW   84(R0), R12 \
	VDUP   R12, V25.S4 \
	MOVW   88(R0), R12 \
	VDUP   R12, V26.S4 \
pix: \
	MOVD   56(R0), R4 \
	MOVD   64(R0), R5 \
	MOVD   72(R0), R6 \
	MOVD   R2, R7 \
	MOVD   R1, R8 \
blk: \
	VLD1.P 64(R6), [V0.S4, V1.S4, V2.S4, V3.S4] \
	MOVD   16(R0), R9 \
	MOVD   24(R0), R10 \
tap: \
	MOVD.P 8(R9), R11 \
	ADD    R7, R11, R11 \
	VLD1   (R11), [V16.B16] \
	EXTL(17, 16) \
	EXTL2(18, 16) \
	VLD1.P 32(R5), [V20.H8, V21.H8] \
	SMLAL_4S(0, 17, 20) \
	SMLAL2_4S(1, 17, 20) \
	SMLAL_4S(2, 18, 21) \
	SMLAL2_4S(3, 18, 21) \
	SUBS   $1, R10, R10 \
	BNE    tap \
	VLD1.P 64(R6), [V4.S4, V5.S4, V6.S4, V7.S4] \
	VLD1.P 64(R6), [V8.S4, V9.S4, V10.S4, V11.S4] \
	VLD1.P 64(R6), [V12.S4, V13.S4, V14.S4, V15.S4] \
	DW_REQUANT(0, V0, V12) \
	DW_REQUANT(1, V1, V13) \
	DW_REQUANT(2, V2, V14) \
	DW_REQUANT(3, V3, V15) \
	SQXTN_4H(16, 0) \
	SQXTN2_8H(16, 1) \
	SQXTN_4H(17, 2) \
	SQXTN2_8H(17, 3) \
	NARROW(18, 16) \
	NARROW2(18, 17) \
	VST1   [V18.B16], (R8) \
	ADD    $16, R7, R7 \
	ADD    $16, R8, R8 \
	SUBS   $1, R4, R4 \
	BNE    blk \
	MOVD   40(R0), R12 \
	ADD    R12, R2, R2 \
	MOVD   48(R0), R12 \
	ADD    R12, R1, R1 \
	SUBS   $1, R3, R3 \
	BNE    pix \
	RET

// func dwNEONU8(a *dwArgs)
TEXT ·dwNEONU8(SB), NOSPLIT, $0-8
	DW_BODY(UXTL_8H, UXTL2_8H, SQXTUN_8B, SQXTUN2_16B)

// func dwNEONS8(a *dwArgs)
TEXT ·dwNEONS8(SB), NOSPLIT, $0-8
	DW_BODY(SXTL_8H, SXTL2_8H, SQXTN_8B, SQXTN2_16B)

// DW3_ROW multiplies one row of a 3×3 window, whose first tap R11 points
// at, into the accumulators: the three taps are R11, R11+R10, R11+2·R10.
// All loads come first (inputs V16–V18, filters V4–V9), so that an
// in-order core does not wait on each one.
#define DW3_ROW(EXTL, EXTL2) \
	VLD1.P (R11)(R10), [V16.B16] \
	VLD1.P (R11)(R10), [V17.B16] \
	VLD1   (R11), [V18.B16] \
	VLD1.P 32(R5), [V4.H8, V5.H8] \
	VLD1.P 32(R5), [V6.H8, V7.H8] \
	VLD1.P 32(R5), [V8.H8, V9.H8] \
	EXTL(10, 16) \
	EXTL2(11, 16) \
	EXTL(12, 17) \
	EXTL2(13, 17) \
	EXTL(14, 18) \
	EXTL2(15, 18) \
	SMLAL_4S(0, 10, 4) \
	SMLAL2_4S(1, 10, 4) \
	SMLAL_4S(2, 11, 5) \
	SMLAL2_4S(3, 11, 5) \
	SMLAL_4S(0, 12, 6) \
	SMLAL2_4S(1, 12, 6) \
	SMLAL_4S(2, 13, 7) \
	SMLAL2_4S(3, 13, 7) \
	SMLAL_4S(0, 14, 8) \
	SMLAL2_4S(1, 14, 8) \
	SMLAL_4S(2, 15, 9) \
	SMLAL2_4S(3, 15, 9)

// DW3_BODY is DW_BODY unrolled for a 3×3 window: the taps are addressed
// from the window's first element with the row stride R9 and the column
// stride R10, so there is no offset table to read.
#define DW3_BODY(EXTL, EXTL2, NARROW, NARROW2) \
	MOVD   a+0(FP), R0 \
	MOVD   0(R0), R1 \
	MOVD   8(R0), R2 \
	MOVD   32(R0), R3 \
	MOVD   96(R0), R9 \
	MOVD   104(R0), R10 \
	MOVW   80(R0), R12 \
	VDUP   R12, V24.S4 \
	MOVW   84(R0), R12 \
	VDUP   R12, V25.S4 \
	MOVW   88(R0), R12 \
	VDUP   R12, V26.S4 \
pix3: \
	MOVD   56(R0), R4 \
	MOVD   64(R0), R5 \
	MOVD   72(R0), R6 \
	MOVD   R2, R7 \
	MOVD   R1, R8 \
blk3: \
	VLD1.P 64(R6), [V0.S4, V1.S4, V2.S4, V3.S4] \
	MOVD   R7, R11 \
	DW3_ROW(EXTL, EXTL2) \
	ADD    R9, R7, R11 \
	DW3_ROW(EXTL, EXTL2) \
	ADD    R9<<1, R7, R11 \
	DW3_ROW(EXTL, EXTL2) \
	VLD1.P 64(R6), [V4.S4, V5.S4, V6.S4, V7.S4] \
	VLD1.P 64(R6), [V8.S4, V9.S4, V10.S4, V11.S4] \
	VLD1.P 64(R6), [V12.S4, V13.S4, V14.S4, V15.S4] \
	DW_REQUANT(0, V0, V12) \
	DW_REQUANT(1, V1, V13) \
	DW_REQUANT(2, V2, V14) \
	DW_REQUANT(3, V3, V15) \
	SQXTN_4H(16, 0) \
	SQXTN2_8H(16, 1) \
	SQXTN_4H(17, 2) \
	SQXTN2_8H(17, 3) \
	NARROW(18, 16) \
	NARROW2(18, 17) \
	VST1   [V18.B16], (R8) \
	ADD    $16, R7, R7 \
	ADD    $16, R8, R8 \
	SUBS   $1, R4, R4 \
	BNE    blk3 \
	MOVD   40(R0), R12 \
	ADD    R12, R2, R2 \
	MOVD   48(R0), R12 \
	ADD    R12, R1, R1 \
	SUBS   $1, R3, R3 \
	BNE    pix3 \
	RET

// func dw3x3NEONU8(a *dwArgs)
TEXT ·dw3x3NEONU8(SB), NOSPLIT, $0-8
	DW3_BODY(UXTL_8H, UXTL2_8H, SQXTUN_8B, SQXTUN2_16B)

// func dw3x3NEONS8(a *dwArgs)
TEXT ·dw3x3NEONS8(SB), NOSPLIT, $0-8
	DW3_BODY(SXTL_8H, SXTL2_8H, SQXTN_8B, SQXTN2_16B)
