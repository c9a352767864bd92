#include "textflag.h"

// func clampAVX2(d *float32, n int, lo, hi float32)
// d[i] = Go's min(max(d[i], lo), hi) for n (a multiple of 8) values, for
// clamp bounds that are not NaN, lo not −0 and hi not zero (those of the
// fused activations). VMAXPS(lo, v) is lo > v ? lo : v, so NaN stays v
// as in Go; where the result equals lo numerically it is set to lo, which
// turns max(−0, +0) into +0 as Go does. VMINPS(hi, m) is hi < m ? hi : m:
// NaN stays, and m == hi has hi's bits already (hi is not zero).
TEXT ·clampAVX2(SB), NOSPLIT, $0-24
	MOVQ d+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS lo+16(FP), Y14
	VBROADCASTSS hi+20(FP), Y15
	SHRQ $3, CX
	JZ done

loop:
	VMOVUPS (DI), Y0
	VMAXPS Y0, Y14, Y1
	VCMPPS $0, Y14, Y1, Y2
	VBLENDVPS Y2, Y14, Y1, Y1
	VMINPS Y1, Y15, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, DI
	DECQ CX
	JNZ loop

done:
	VZEROUPPER
	RET
