#include "textflag.h"
#include "neon_arm64.h"

// func clampNEON(d *float32, n int, lo, hi float32)
// d[i] = min(max(d[i], lo), hi) for n (a positive multiple of 4) values:
// FMAX and FMIN are Go's max and min for every operand (NaN stays NaN,
// max(−0, +0) is +0), so the result is the Go loop's bit for bit, NaN
// payloads aside. 16 values per iteration, then 4 at a time.
TEXT ·clampNEON(SB), NOSPLIT, $0-24
	MOVD  d+0(FP), R0
	MOVD  n+8(FP), R1
	MOVWU lo+16(FP), R2
	VDUP  R2, V28.S4
	MOVWU hi+20(FP), R2
	VDUP  R2, V29.S4
	CMP   $16, R1
	BLT   four

loop16:
	VLD1  (R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	FMAX_4S(0, 0, 28)
	FMAX_4S(1, 1, 28)
	FMAX_4S(2, 2, 28)
	FMAX_4S(3, 3, 28)
	FMIN_4S(0, 0, 29)
	FMIN_4S(1, 1, 29)
	FMIN_4S(2, 2, 29)
	FMIN_4S(3, 3, 29)
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	SUB   $16, R1
	CMP   $16, R1
	BGE   loop16

four:
	CBZ   R1, done
	VLD1  (R0), [V0.S4]
	FMAX_4S(0, 0, 28)
	FMIN_4S(0, 0, 29)
	VST1.P [V0.S4], 16(R0)
	SUB   $4, R1
	B     four

done:
	RET
