#include "textflag.h"

// Float micro-kernels for amd64 (the AVX-512 whole-block kernel is in
// float32block_amd64.s): for t.cols columns of channels, acc = Σₖ a·w
// summed in increasing k from +0, each product rounded before it is added
// (VMULPS then VADDPS, as the portable Go code compiles on amd64), then
// acc + bias, then Go's max(·, lo) and min(·, hi).
// tileArgsF offsets: a 0, c 32, w 64, bias 72, k 80, cols 88, wStride 96,
// lo 104, hi 108.
//
// Go's max and min differ from VMAXPS/VMINPS on signed zeros and NaN.
// With x as the second operand, VMAXPS(lo, x) returns x when x is NaN (as
// Go does) and when x and lo are equal; that is Go's max(x, lo) except for
// x = −0, lo = +0, and x is never −0 here: the sum starts at +0, x + y is
// −0 only when both are −0, so no sum and no sum + bias is −0. For min,
// x = +0 and hi = −0 can happen: where x == hi numerically the result is
// x OR hi bitwise (equal non-zero values have equal bits; min(+0, −0) is
// −0), which a compare and a masked OR select.

// EPIF512 finishes 16 channels (acc) with the bias at boff(DX) and stores
// them at dst. Z30 = lo, Z31 = hi; Z12, Z13 and K2 are scratch.
#define EPIF512(acc, boff, dst) \
	VADDPS boff(DX), acc, acc; \
	VMAXPS acc, Z30, Z12; \
	VMINPS Z12, Z31, Z13; \
	VCMPPS $0, Z12, Z31, K2; \
	VPORD Z12, Z31, K2, Z13; \
	VMOVUPS Z13, dst

// EPIF256 is EPIF512 for 8 channels: Y14 = lo, Y15 = hi; Y11-Y13 scratch.
#define EPIF256(acc, boff, dst) \
	VADDPS boff(DX), acc, acc; \
	VMAXPS acc, Y14, Y12; \
	VMINPS Y12, Y15, acc; \
	VCMPPS $0, Y12, Y15, Y11; \
	VORPS Y12, Y15, Y13; \
	VBLENDVPS Y11, Y13, acc, acc; \
	VMOVUPS acc, dst

#define F256_ROW(areg, acc0, acc1) \
	VBROADCASTSS (areg)(AX*4), Y10; \
	VMULPS Y8, Y10, Y12; \
	VADDPS Y12, acc0, acc0; \
	VMULPS Y9, Y10, Y13; \
	VADDPS Y13, acc1, acc1

// func tileF32AVX2(t *tileArgsF): 4 rows × 16 channels.
TEXT ·tileF32AVX2(SB), NOSPLIT, $0-8
	MOVQ t+0(FP), DI
	MOVQ 0(DI), R8
	MOVQ 8(DI), R9
	MOVQ 16(DI), R10
	MOVQ 24(DI), R11
	MOVQ 64(DI), SI
	MOVQ 72(DI), DX
	MOVQ 88(DI), CX
	VBROADCASTSS 104(DI), Y14
	VBROADCASTSS 108(DI), Y15
	XORQ R12, R12

f256Col:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ SI, R13
	XORQ AX, AX
	MOVQ 80(DI), BX

f256K:
	VMOVUPS (R13), Y8
	VMOVUPS 32(R13), Y9
	F256_ROW(R8, Y0, Y1)
	F256_ROW(R9, Y2, Y3)
	F256_ROW(R10, Y4, Y5)
	F256_ROW(R11, Y6, Y7)
	INCQ AX
	ADDQ $64, R13
	DECQ BX
	JNZ f256K

	MOVQ 32(DI), BX
	EPIF256(Y0, 0, (BX)(R12*1))
	EPIF256(Y1, 32, 32(BX)(R12*1))
	MOVQ 40(DI), BX
	EPIF256(Y2, 0, (BX)(R12*1))
	EPIF256(Y3, 32, 32(BX)(R12*1))
	MOVQ 48(DI), BX
	EPIF256(Y4, 0, (BX)(R12*1))
	EPIF256(Y5, 32, 32(BX)(R12*1))
	MOVQ 56(DI), BX
	EPIF256(Y6, 0, (BX)(R12*1))
	EPIF256(Y7, 32, 32(BX)(R12*1))

	ADDQ 96(DI), SI
	ADDQ $64, DX
	ADDQ $64, R12
	DECQ CX
	JNZ f256Col
	VZEROUPPER
	RET

// GEMV_COL multiplies the broadcast input Z10 by the 32 weights of one
// column at (base)(BX*1) and adds the products to acc0, acc1.
#define GEMV_COL(base, acc0, acc1) \
	VMULPS (base)(BX*1), Z10, Z12; \
	VADDPS Z12, acc0, acc0; \
	VMULPS 64(base)(BX*1), Z10, Z13; \
	VADDPS Z13, acc1, acc1

// func gemvF32AVX512(t *tileArgsF): one row (t.a[0], t.c[0]) × t.cols
// columns of 32 channels, four columns (eight accumulators) at a time so
// that the additions of one k do not wait on each other, then one at a
// time; the same products and sums per channel as blockF32AVX512.
TEXT ·gemvF32AVX512(SB), NOSPLIT, $0-8
	MOVQ t+0(FP), DI
	MOVQ 0(DI), R8
	MOVQ 32(DI), R9
	MOVQ 64(DI), SI
	MOVQ 72(DI), DX
	MOVQ 88(DI), CX
	MOVQ 96(DI), R10
	VBROADCASTSS 104(DI), Z30
	VBROADCASTSS 108(DI), Z31

gv4Col:
	CMPQ CX, $4
	JLT gv1Col
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	LEAQ (SI)(R10*1), R12
	LEAQ (R12)(R10*1), R13
	LEAQ (R13)(R10*1), R11
	XORQ AX, AX
	XORQ BX, BX

gv4K:
	VBROADCASTSS (R8)(AX*4), Z10
	GEMV_COL(SI, Z0, Z1)
	GEMV_COL(R12, Z2, Z3)
	GEMV_COL(R13, Z4, Z5)
	GEMV_COL(R11, Z6, Z7)
	INCQ AX
	ADDQ $128, BX
	CMPQ AX, 80(DI)
	JLT gv4K

	EPIF512(Z0, 0, (R9))
	EPIF512(Z1, 64, 64(R9))
	EPIF512(Z2, 128, 128(R9))
	EPIF512(Z3, 192, 192(R9))
	EPIF512(Z4, 256, 256(R9))
	EPIF512(Z5, 320, 320(R9))
	EPIF512(Z6, 384, 384(R9))
	EPIF512(Z7, 448, 448(R9))
	LEAQ (R11)(R10*1), SI
	ADDQ $512, DX
	ADDQ $512, R9
	SUBQ $4, CX
	JMP gv4Col

gv1Col:
	TESTQ CX, CX
	JZ gvDone
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	XORQ AX, AX
	XORQ BX, BX

gv1K:
	VBROADCASTSS (R8)(AX*4), Z10
	GEMV_COL(SI, Z0, Z1)
	INCQ AX
	ADDQ $128, BX
	CMPQ AX, 80(DI)
	JLT gv1K

	EPIF512(Z0, 0, (R9))
	EPIF512(Z1, 64, 64(R9))
	ADDQ R10, SI
	ADDQ $128, DX
	ADDQ $128, R9
	DECQ CX
	JMP gv1Col

gvDone:
	VZEROUPPER
	RET
