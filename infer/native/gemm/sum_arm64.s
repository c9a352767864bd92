#include "textflag.h"

// func sumBytesNEON(p *byte, n int, x uint32) uint64
// Σ (p[i] XOR x) over n bytes (n a positive multiple of 16), the bytes read
// as unsigned: UADDLP adds byte pairs into 16-bit lanes, UADALP those
// pairs into 32-bit lanes (at most 4·255 per step), ADDV the four lanes.
TEXT ·sumBytesNEON(SB), NOSPLIT, $0-32
	MOVD p+0(FP), R0
	MOVD n+8(FP), R1
	MOVWU x+16(FP), R2
	VDUP R2, V1.B16
	VEOR V0.B16, V0.B16, V0.B16

sumLoop:
	VLD1.P 16(R0), [V2.B16]
	VEOR V1.B16, V2.B16, V2.B16
	WORD $0x6e202842 // uaddlp v2.8h, v2.16b
	WORD $0x6e606840 // uadalp v0.4s, v2.8h
	SUBS $16, R1, R1
	BNE sumLoop

	WORD $0x4eb1b800 // addv s0, v0.4s
	VMOV V0.S[0], R3
	MOVD R3, ret+24(FP)
	RET
