#include "textflag.h"
#include "neon_arm64.h"

// Float element-wise kernels, NEON: the same IEEE operations, one
// rounding each, as the Go loops they replace. Those loops hold no
// multiply followed by an add, so Go's arm64 compiler fuses nothing in
// them (no FMADD) and nothing here fuses either.

// VEC_ROWS is the loop of vecRowsNEON for one operation OP (a macro of
// neon_arm64.h: OP(d, n, m) computes Vd = Vn op Vm with x in Vn, y in
// Vm), each result clamped to [V28, V29] as clampNEON does. Per row, R7
// walks y again from R3 and R8 counts the row's values down: 16 values
// per iteration, then 4 at a time. R1 (output) and R2 (x) run on across
// rows, which are contiguous.
#define VEC_ROWS(OP, ROW, L16, L4, NEXT) \
ROW: \
	MOVD R3, R7 \
	MOVD R4, R8 \
	CMP  $16, R8 \
	BLT  L4 \
L16: \
	VLD1.P 64(R2), [V0.S4, V1.S4, V2.S4, V3.S4] \
	VLD1.P 64(R7), [V4.S4, V5.S4, V6.S4, V7.S4] \
	OP(0, 0, 4) \
	OP(1, 1, 5) \
	OP(2, 2, 6) \
	OP(3, 3, 7) \
	FMAX_4S(0, 0, 28) \
	FMAX_4S(1, 1, 28) \
	FMAX_4S(2, 2, 28) \
	FMAX_4S(3, 3, 28) \
	FMIN_4S(0, 0, 29) \
	FMIN_4S(1, 1, 29) \
	FMIN_4S(2, 2, 29) \
	FMIN_4S(3, 3, 29) \
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R1) \
	SUB  $16, R8 \
	CMP  $16, R8 \
	BGE  L16 \
L4: \
	CBZ  R8, NEXT \
	VLD1.P 16(R2), [V0.S4] \
	VLD1.P 16(R7), [V4.S4] \
	OP(0, 0, 4) \
	FMAX_4S(0, 0, 28) \
	FMIN_4S(0, 0, 29) \
	VST1.P [V0.S4], 16(R1) \
	SUB  $4, R8 \
	B    L4 \
NEXT: \
	SUBS $1, R5 \
	BNE  ROW

// func vecRowsNEON(op int, d, x, y *float32, n, rows int, lo, hi float32)
// d[r·n+i] = min(max(x[r·n+i] op y[i], lo), hi) for r < rows, i < n (n a
// positive multiple of 4, rows positive); op 1 adds, 2 subtracts, 3
// multiplies.
TEXT ·vecRowsNEON(SB), NOSPLIT, $0-56
	MOVD  op+0(FP), R0
	MOVD  d+8(FP), R1
	MOVD  x+16(FP), R2
	MOVD  y+24(FP), R3
	MOVD  n+32(FP), R4
	MOVD  rows+40(FP), R5
	MOVWU lo+48(FP), R6
	VDUP  R6, V28.S4
	MOVWU hi+52(FP), R6
	VDUP  R6, V29.S4
	CMP   $1, R0
	BEQ   vadd
	CMP   $2, R0
	BEQ   vsub
	VEC_ROWS(FMUL_4S, vmulRow, vmul16, vmul4, vmulNext)
	RET

vadd:
	VEC_ROWS(FADD_4S, vaddRow, vadd16, vadd4, vaddNext)
	RET

vsub:
	VEC_ROWS(FSUB_4S, vsubRow, vsub16, vsub4, vsubNext)
	RET

// func leakyNEON(d, x *float32, n int, alpha float32)
// d[i] = x[i] > 0 ? x[i] : x[i]·alpha for n (a positive multiple of 4)
// values: FCMGT against zero is false for NaN, which takes the product,
// as the Go loop does. BSL keeps x where the mask is set.
TEXT ·leakyNEON(SB), NOSPLIT, $0-28
	MOVD  d+0(FP), R0
	MOVD  x+8(FP), R1
	MOVD  n+16(FP), R2
	MOVWU alpha+24(FP), R3
	VDUP  R3, V30.S4
	CMP   $16, R2
	BLT   lfour

l16:
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	FMUL_4S(4, 0, 30)
	FMUL_4S(5, 1, 30)
	FMUL_4S(6, 2, 30)
	FMUL_4S(7, 3, 30)
	FCMGTZ_4S(16, 0)
	FCMGTZ_4S(17, 1)
	FCMGTZ_4S(18, 2)
	FCMGTZ_4S(19, 3)
	VBSL  V4.B16, V0.B16, V16.B16 // BSL V16.16B, V0.16B, V4.16B: mask ? x : x·alpha
	VBSL  V5.B16, V1.B16, V17.B16
	VBSL  V6.B16, V2.B16, V18.B16
	VBSL  V7.B16, V3.B16, V19.B16
	VST1.P [V16.S4, V17.S4, V18.S4, V19.S4], 64(R0)
	SUB   $16, R2
	CMP   $16, R2
	BGE   l16

lfour:
	CBZ   R2, ldone
	VLD1.P 16(R1), [V0.S4]
	FMUL_4S(4, 0, 30)
	FCMGTZ_4S(16, 0)
	VBSL  V4.B16, V0.B16, V16.B16
	VST1.P [V16.S4], 16(R0)
	SUB   $4, R2
	B     lfour

ldone:
	RET
