#include "textflag.h"

// Float element-wise kernels: the same IEEE operations, one rounding
// each, as the Go loops they replace (Go does not fuse them on amd64).

// VEC_ROWS is the loop of vecRowsAVX2 for one operation (OP src2, src1,
// dst computes src1 OP src2 with x in src1, y in src2), followed by the
// clamp of clampAVX2 (lo in Y14, hi in Y15).
#define VEC_ROWS(OP, L, I) \
L: \
	XORQ AX, AX; \
I: \
	VMOVUPS (SI)(AX*4), Y0; \
	OP (DX)(AX*4), Y0, Y0; \
	VMAXPS Y0, Y14, Y1; \
	VCMPPS $0, Y14, Y1, Y2; \
	VBLENDVPS Y2, Y14, Y1, Y1; \
	VMINPS Y1, Y15, Y0; \
	VMOVUPS Y0, (DI)(AX*4); \
	ADDQ $8, AX; \
	CMPQ AX, CX; \
	JLT I; \
	LEAQ (DI)(CX*4), DI; \
	LEAQ (SI)(CX*4), SI; \
	DECQ BX; \
	JNZ L

// func vecRowsAVX2(op int, d, x, y *float32, n, rows int, lo, hi float32)
// d[r·n+i] = min(max(x[r·n+i] op y[i], lo), hi) for r < rows, i < n (n a
// positive multiple of 8, rows positive, the bounds as clampAVX2 takes
// them); op 1 adds, 2 subtracts, 3 multiplies.
TEXT ·vecRowsAVX2(SB), NOSPLIT, $0-56
	MOVQ op+0(FP), R8
	MOVQ d+8(FP), DI
	MOVQ x+16(FP), SI
	MOVQ y+24(FP), DX
	MOVQ n+32(FP), CX
	MOVQ rows+40(FP), BX
	VBROADCASTSS lo+48(FP), Y14
	VBROADCASTSS hi+52(FP), Y15
	CMPQ R8, $1
	JEQ vadd
	CMPQ R8, $2
	JEQ vsub
	VEC_ROWS(VMULPS, vmulRow, vmulI)
	JMP vdone

vadd:
	VEC_ROWS(VADDPS, vaddRow, vaddI)
	JMP vdone

vsub:
	VEC_ROWS(VSUBPS, vsubRow, vsubI)

vdone:
	VZEROUPPER
	RET

// func leakyAVX2(d, x *float32, n int, alpha float32)
// d[i] = x[i] > 0 ? x[i] : x[i]·alpha for n (a positive multiple of 8)
// values: the compare is false for NaN, which takes the product, as the
// Go loop does.
TEXT ·leakyAVX2(SB), NOSPLIT, $0-28
	MOVQ d+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS alpha+24(FP), Y15
	VXORPS Y14, Y14, Y14
	XORQ AX, AX

lloop:
	VMOVUPS (SI)(AX*4), Y0
	VMULPS Y15, Y0, Y1
	VCMPPS $0x1e, Y14, Y0, Y2 // x > 0, ordered
	VBLENDVPS Y2, Y0, Y1, Y1
	VMOVUPS Y1, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, CX
	JLT lloop
	VZEROUPPER
	RET
