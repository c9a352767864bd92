// Each WORD is the encoding of the GNU-syntax instruction in its comment,
// as aarch64-linux-gnu-as -march=armv8.2-a+dotprod assembles it; an edited
// instruction must be re-assembled the same way.

#include "textflag.h"

// func tileF32NEON(t *tileArgsF): 4 rows × 16 channels. On arm64 the Go
// compiler fuses the portable kernel's acc += a*w into FMADD, so this
// kernel uses the fused FMLA too, in the same (increasing k) order; the
// bias is then added separately (FADD), and FMAX/FMIN have Go's max/min
// semantics for NaN and signed zeros.
// tileArgsF offsets: a 0, c 32, w 64, bias 72, k 80, cols 88, wStride 96,
// lo 104, hi 108.
TEXT ·tileF32NEON(SB), NOSPLIT, $0-8
	MOVD t+0(FP), R0
	MOVD 64(R0), R12
	MOVD 72(R0), R6
	MOVD 88(R0), R7
	MOVWU 104(R0), R14
	VDUP R14, V10.S4
	MOVWU 108(R0), R14
	VDUP R14, V11.S4
	MOVD $0, R9
f32Col:
	MOVD R12, R5
	MOVD 0(R0), R1
	MOVD 8(R0), R2
	MOVD 16(R0), R3
	MOVD 24(R0), R4
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16
	VEOR V24.B16, V24.B16, V24.B16
	VEOR V25.B16, V25.B16, V25.B16
	VEOR V26.B16, V26.B16, V26.B16
	VEOR V27.B16, V27.B16, V27.B16
	VEOR V28.B16, V28.B16, V28.B16
	VEOR V29.B16, V29.B16, V29.B16
	VEOR V30.B16, V30.B16, V30.B16
	VEOR V31.B16, V31.B16, V31.B16
	MOVD 80(R0), R8
f32K:
	VLD1.P 64(R5), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1R.P 4(R1), [V4.S4]
	VLD1R.P 4(R2), [V5.S4]
	VLD1R.P 4(R3), [V6.S4]
	VLD1R.P 4(R4), [V7.S4]
	VFMLA V0.S4, V4.S4, V16.S4
	VFMLA V1.S4, V4.S4, V17.S4
	VFMLA V2.S4, V4.S4, V18.S4
	VFMLA V3.S4, V4.S4, V19.S4
	VFMLA V0.S4, V5.S4, V20.S4
	VFMLA V1.S4, V5.S4, V21.S4
	VFMLA V2.S4, V5.S4, V22.S4
	VFMLA V3.S4, V5.S4, V23.S4
	VFMLA V0.S4, V6.S4, V24.S4
	VFMLA V1.S4, V6.S4, V25.S4
	VFMLA V2.S4, V6.S4, V26.S4
	VFMLA V3.S4, V6.S4, V27.S4
	VFMLA V0.S4, V7.S4, V28.S4
	VFMLA V1.S4, V7.S4, V29.S4
	VFMLA V2.S4, V7.S4, V30.S4
	VFMLA V3.S4, V7.S4, V31.S4
	SUBS $1, R8, R8
	BNE f32K
	VLD1 (R6), [V0.S4, V1.S4, V2.S4, V3.S4] // bias
	WORD $0x4e20d610 // fadd v16.4s, v16.4s, v0.4s
	WORD $0x4e2af610 // fmax v16.4s, v16.4s, v10.4s
	WORD $0x4eabf610 // fmin v16.4s, v16.4s, v11.4s
	WORD $0x4e21d631 // fadd v17.4s, v17.4s, v1.4s
	WORD $0x4e2af631 // fmax v17.4s, v17.4s, v10.4s
	WORD $0x4eabf631 // fmin v17.4s, v17.4s, v11.4s
	WORD $0x4e22d652 // fadd v18.4s, v18.4s, v2.4s
	WORD $0x4e2af652 // fmax v18.4s, v18.4s, v10.4s
	WORD $0x4eabf652 // fmin v18.4s, v18.4s, v11.4s
	WORD $0x4e23d673 // fadd v19.4s, v19.4s, v3.4s
	WORD $0x4e2af673 // fmax v19.4s, v19.4s, v10.4s
	WORD $0x4eabf673 // fmin v19.4s, v19.4s, v11.4s
	MOVD 32(R0), R15
	ADD R9, R15, R15
	VST1 [V16.S4, V17.S4, V18.S4, V19.S4], (R15)
	WORD $0x4e20d694 // fadd v20.4s, v20.4s, v0.4s
	WORD $0x4e2af694 // fmax v20.4s, v20.4s, v10.4s
	WORD $0x4eabf694 // fmin v20.4s, v20.4s, v11.4s
	WORD $0x4e21d6b5 // fadd v21.4s, v21.4s, v1.4s
	WORD $0x4e2af6b5 // fmax v21.4s, v21.4s, v10.4s
	WORD $0x4eabf6b5 // fmin v21.4s, v21.4s, v11.4s
	WORD $0x4e22d6d6 // fadd v22.4s, v22.4s, v2.4s
	WORD $0x4e2af6d6 // fmax v22.4s, v22.4s, v10.4s
	WORD $0x4eabf6d6 // fmin v22.4s, v22.4s, v11.4s
	WORD $0x4e23d6f7 // fadd v23.4s, v23.4s, v3.4s
	WORD $0x4e2af6f7 // fmax v23.4s, v23.4s, v10.4s
	WORD $0x4eabf6f7 // fmin v23.4s, v23.4s, v11.4s
	MOVD 40(R0), R15
	ADD R9, R15, R15
	VST1 [V20.S4, V21.S4, V22.S4, V23.S4], (R15)
	WORD $0x4e20d718 // fadd v24.4s, v24.4s, v0.4s
	WORD $0x4e2af718 // fmax v24.4s, v24.4s, v10.4s
	WORD $0x4eabf718 // fmin v24.4s, v24.4s, v11.4s
	WORD $0x4e21d739 // fadd v25.4s, v25.4s, v1.4s
	WORD $0x4e2af739 // fmax v25.4s, v25.4s, v10.4s
	WORD $0x4eabf739 // fmin v25.4s, v25.4s, v11.4s
	WORD $0x4e22d75a // fadd v26.4s, v26.4s, v2.4s
	WORD $0x4e2af75a // fmax v26.4s, v26.4s, v10.4s
	WORD $0x4eabf75a // fmin v26.4s, v26.4s, v11.4s
	WORD $0x4e23d77b // fadd v27.4s, v27.4s, v3.4s
	WORD $0x4e2af77b // fmax v27.4s, v27.4s, v10.4s
	WORD $0x4eabf77b // fmin v27.4s, v27.4s, v11.4s
	MOVD 48(R0), R15
	ADD R9, R15, R15
	VST1 [V24.S4, V25.S4, V26.S4, V27.S4], (R15)
	WORD $0x4e20d79c // fadd v28.4s, v28.4s, v0.4s
	WORD $0x4e2af79c // fmax v28.4s, v28.4s, v10.4s
	WORD $0x4eabf79c // fmin v28.4s, v28.4s, v11.4s
	WORD $0x4e21d7bd // fadd v29.4s, v29.4s, v1.4s
	WORD $0x4e2af7bd // fmax v29.4s, v29.4s, v10.4s
	WORD $0x4eabf7bd // fmin v29.4s, v29.4s, v11.4s
	WORD $0x4e22d7de // fadd v30.4s, v30.4s, v2.4s
	WORD $0x4e2af7de // fmax v30.4s, v30.4s, v10.4s
	WORD $0x4eabf7de // fmin v30.4s, v30.4s, v11.4s
	WORD $0x4e23d7ff // fadd v31.4s, v31.4s, v3.4s
	WORD $0x4e2af7ff // fmax v31.4s, v31.4s, v10.4s
	WORD $0x4eabf7ff // fmin v31.4s, v31.4s, v11.4s
	MOVD 56(R0), R15
	ADD R9, R15, R15
	VST1 [V28.S4, V29.S4, V30.S4, V31.S4], (R15)
	MOVD 96(R0), R14
	ADD R14, R12, R12
	ADD $64, R6, R6
	ADD $64, R9, R9
	SUBS $1, R7, R7
	BNE f32Col
	RET
