#include "textflag.h"

// func sumBytesAVX2(p *byte, n int, x uint32) uint64
// Σ (p[i] XOR x) over n bytes (n a positive multiple of 32), the bytes read
// as unsigned: VPSADBW against zero adds each 8 bytes into a 64-bit lane.
TEXT ·sumBytesAVX2(SB), NOSPLIT, $0-32
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	MOVL x+16(FP), AX
	MOVQ AX, X1
	VPBROADCASTB X1, Y1
	VPXOR Y0, Y0, Y0
	VPXOR Y2, Y2, Y2

sumLoop:
	VPXOR (SI), Y1, Y3
	VPSADBW Y2, Y3, Y3
	VPADDQ Y3, Y0, Y0
	ADDQ $32, SI
	SUBQ $32, CX
	JNZ sumLoop

	VEXTRACTI128 $1, Y0, X3
	VPADDQ X3, X0, X0
	VPSHUFD $0x4E, X0, X3
	VPADDQ X3, X0, X0
	VMOVQ X0, AX
	MOVQ AX, ret+24(FP)
	VZEROUPPER
	RET
