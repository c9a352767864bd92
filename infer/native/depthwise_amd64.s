#include "textflag.h"

// Depthwise convolution, depth multiplier 1, 8-bit, AVX2. See
// depthwise_amd64.go for the table layouts and dwArgs.
//
// Registers: AX args, SI source of the pixel, DI its output, CX pixels
// left, R8 blocks left, R9 filter, R10 parameters, R11 source of the
// block, R12 its output, BX tap offsets, DX pairs left, R13 one offset.
// Y0, Y1 accumulators; Y12 2^30 in every quadword; Y13 output zero point,
// Y14 lower and Y15 upper clamp.

// DW_REQUANT turns accumulator A (8 lanes) into clamped outputs with the
// parameter half at OFF(R10): x << lsh, then SaturatingRoundingDoublingHighMul
// by mult, which for a multiplier ≥ 0 is floor((x·m + 2^30) / 2^31) taken as
// bits 31..62 of the 64-bit sum (even lanes by VPMULDQ on the low
// doublewords, odd lanes shifted down first), then RoundingDivideByPOT by
// rsh: the arithmetic shift, plus one where the remainder exceeds
// mask>>1 (mask>>1 + 1 for negative x).
#define DW_REQUANT(A, OFF) \
	VPSLLVD    OFF+64(R10), A, A \
	VPMULDQ    OFF+32(R10), A, Y6 \
	VPADDQ     Y12, Y6, Y6 \
	VPSRLQ     $31, Y6, Y6 \
	VPSRLQ     $32, A, Y7 \
	VMOVDQU    OFF+32(R10), Y8 \
	VPSRLQ     $32, Y8, Y8 \
	VPMULDQ    Y8, Y7, Y7 \
	VPADDQ     Y12, Y7, Y7 \
	VPSLLQ     $1, Y7, Y7 \
	VPBLENDD   $0xAA, Y7, Y6, A \
	VPAND      OFF+128(R10), A, Y6 \
	VPSRAD     $31, A, Y7 \
	VMOVDQU    OFF+160(R10), Y8 \
	VPSUBD     Y7, Y8, Y8 \
	VPCMPGTD   Y8, Y6, Y6 \
	VPSRAVD    OFF+96(R10), A, A \
	VPSUBD     Y6, A, A \
	VPADDD     Y13, A, A \
	VPMAXSD    Y14, A, A \
	VPMINSD    Y15, A, A

// DW_BODY is the whole kernel; EXT widens 16 bytes to 16 words (zero or
// sign extension), PACK narrows words to bytes (unsigned or signed).
#define DW_BODY(EXT, PACK) \
	MOVQ         a+0(FP), AX \
	MOVQ         0(AX), DI \
	MOVQ         8(AX), SI \
	MOVQ         32(AX), CX \
	VPBROADCASTD 80(AX), Y13 \
	VPBROADCASTD 84(AX), Y14 \
	VPBROADCASTD 88(AX), Y15 \
	MOVQ         $0x40000000, DX \
	MOVQ         DX, X12 \
	VPBROADCASTQ X12, Y12 \
pix: \
	MOVQ         56(AX), R8 \
	MOVQ         64(AX), R9 \
	MOVQ         72(AX), R10 \
	MOVQ         SI, R11 \
	MOVQ         DI, R12 \
blk: \
	VMOVDQU      0(R10), Y0 \
	VMOVDQU      192(R10), Y1 \
	MOVQ         16(AX), BX \
	MOVQ         24(AX), DX \
pair: \
	MOVQ         0(BX), R13 \
	EXT          (R11)(R13*1), Y2 \
	MOVQ         8(BX), R13 \
	EXT          (R11)(R13*1), Y3 \
	VPUNPCKLWD   Y3, Y2, Y4 \
	VPUNPCKHWD   Y3, Y2, Y5 \
	VPMADDWD     0(R9), Y4, Y4 \
	VPMADDWD     32(R9), Y5, Y5 \
	VPADDD       Y4, Y0, Y0 \
	VPADDD       Y5, Y1, Y1 \
	ADDQ         $16, BX \
	ADDQ         $64, R9 \
	DECQ         DX \
	JNZ          pair \
	DW_REQUANT(Y0, 0) \
	DW_REQUANT(Y1, 192) \
	VPACKSSDW    Y1, Y0, Y0 \
	VEXTRACTI128 $1, Y0, X1 \
	PACK         X1, X0, X0 \
	VMOVDQU      X0, (R12) \
	ADDQ         $384, R10 \
	ADDQ         $16, R11 \
	ADDQ         $16, R12 \
	DECQ         R8 \
	JNZ          blk \
	ADDQ         40(AX), SI \
	ADDQ         48(AX), DI \
	DECQ         CX \
	JNZ          pix \
	VZEROUPPER \
	RET

// func dwAVX2U8(a *dwArgs)
TEXT ·dwAVX2U8(SB), NOSPLIT, $0-8
	DW_BODY(VPMOVZXBW, VPACKUSWB)

// func dwAVX2S8(a *dwArgs)
TEXT ·dwAVX2S8(SB), NOSPLIT, $0-8
	DW_BODY(VPMOVSXBW, VPACKSSWB)

// DW_PAIR multiplies the tap pair in Y2, Y3 by the filter pair at
// OFF(R9) into the accumulators.
#define DW_PAIR(OFF) \
	VPUNPCKLWD Y3, Y2, Y4 \
	VPUNPCKHWD Y3, Y2, Y5 \
	VPMADDWD   OFF(R9), Y4, Y4 \
	VPMADDWD   OFF+32(R9), Y5, Y5 \
	VPADDD     Y4, Y0, Y0 \
	VPADDD     Y5, Y1, Y1

// DW3_BODY is DW_BODY unrolled for a 3×3 window: the taps are addressed
// from the window's first element with the column stride BX and the row
// stride DX (R13 walks the rows), so there is no offset table to read.
// The fifth pair pairs tap 8 with the zero register Y9.
#define DW3_BODY(EXT, PACK) \
	MOVQ         a+0(FP), AX \
	MOVQ         0(AX), DI \
	MOVQ         8(AX), SI \
	MOVQ         32(AX), CX \
	MOVQ         96(AX), DX \
	MOVQ         104(AX), BX \
	VPBROADCASTD 80(AX), Y13 \
	VPBROADCASTD 84(AX), Y14 \
	VPBROADCASTD 88(AX), Y15 \
	MOVQ         $0x40000000, R13 \
	MOVQ         R13, X12 \
	VPBROADCASTQ X12, Y12 \
	VPXOR        Y9, Y9, Y9 \
pix3: \
	MOVQ         56(AX), R8 \
	MOVQ         64(AX), R9 \
	MOVQ         72(AX), R10 \
	MOVQ         SI, R11 \
	MOVQ         DI, R12 \
blk3: \
	VMOVDQU      0(R10), Y0 \
	VMOVDQU      192(R10), Y1 \
	LEAQ         (R11)(DX*1), R13 \
	EXT          (R11), Y2 \
	EXT          (R11)(BX*1), Y3 \
	DW_PAIR(0) \
	EXT          (R11)(BX*2), Y2 \
	EXT          (R13), Y3 \
	DW_PAIR(64) \
	EXT          (R13)(BX*1), Y2 \
	EXT          (R13)(BX*2), Y3 \
	DW_PAIR(128) \
	ADDQ         DX, R13 \
	EXT          (R13), Y2 \
	EXT          (R13)(BX*1), Y3 \
	DW_PAIR(192) \
	EXT          (R13)(BX*2), Y2 \
	VPUNPCKLWD   Y9, Y2, Y4 \
	VPUNPCKHWD   Y9, Y2, Y5 \
	VPMADDWD     256(R9), Y4, Y4 \
	VPMADDWD     288(R9), Y5, Y5 \
	VPADDD       Y4, Y0, Y0 \
	VPADDD       Y5, Y1, Y1 \
	ADDQ         $320, R9 \
	DW_REQUANT(Y0, 0) \
	DW_REQUANT(Y1, 192) \
	VPACKSSDW    Y1, Y0, Y0 \
	VEXTRACTI128 $1, Y0, X1 \
	PACK         X1, X0, X0 \
	VMOVDQU      X0, (R12) \
	ADDQ         $384, R10 \
	ADDQ         $16, R11 \
	ADDQ         $16, R12 \
	DECQ         R8 \
	JNZ          blk3 \
	ADDQ         40(AX), SI \
	ADDQ         48(AX), DI \
	DECQ         CX \
	JNZ          pix3 \
	VZEROUPPER \
	RET

// func dw3x3AVX2U8(a *dwArgs)
TEXT ·dw3x3AVX2U8(SB), NOSPLIT, $0-8
	DW3_BODY(VPMOVZXBW, VPACKUSWB)

// func dw3x3AVX2S8(a *dwArgs)
TEXT ·dw3x3AVX2S8(SB), NOSPLIT, $0-8
	DW3_BODY(VPMOVSXBW, VPACKSSWB)

// The AVX-512 3×3 kernel: 32 channels per block in ZMM registers, the
// tap pairs summed by VPDPWSSD (VNNI). Its accumulator halves hold
// channels {0–3, 8–11, 16–19, 24–27} and {4–7, …, 28–31}.
//
// The output stage works on 64-bit products, which AVX-512 can shift
// arithmetically: with P = (x << lsh)·mult, h = 2^(rsh−1) (0 when rsh =
// 0) and neg = 1 when SaturatingRoundingDoublingHighMul's result is
// negative (P < −2^30) and rsh > 0, the reference
//
//	RoundingDivideByPOT(floor((P + 2^30) / 2^31), rsh)
//	  = floor((floor((P + 2^30) / 2^31) + h − neg) / 2^rsh)
//	  = (P + 2^30 + (h − neg)·2^31) >> (31 + rsh)
//
// exactly (|P| < 2^62, so nothing overflows). Per half, at OFF(R10): bias,
// lsh, mult, mult of the odd lanes (in even position), then for even and
// odd lanes as quadwords 2^30 + h·2^31, −2^31 or 0 (neg's term), 31 + rsh.
// Z20 holds −2^30 in every quadword, K1 selects the odd doublewords.
#define DWZ_REQUANT(A, OFF) \
	VPSLLVD   OFF+64(R10), A, A \
	VPMULDQ   OFF+128(R10), A, Z6 \
	VPSRLQ    $32, A, Z7 \
	VPMULDQ   OFF+192(R10), Z7, Z7 \
	VPCMPGTQ  Z6, Z20, K2 \
	VPCMPGTQ  Z7, Z20, K3 \
	VPADDQ    OFF+256(R10), Z6, Z6 \
	VPADDQ    OFF+320(R10), Z7, Z7 \
	VPADDQ    OFF+384(R10), Z6, K2, Z6 \
	VPADDQ    OFF+448(R10), Z7, K3, Z7 \
	VPSRAVQ   OFF+512(R10), Z6, Z6 \
	VPSRAVQ   OFF+576(R10), Z7, Z7 \
	VPSLLQ    $32, Z7, Z7 \
	VPBLENDMD Z7, Z6, K1, A \
	VPADDD    Z13, A, A \
	VPMAXSD   Z14, A, A \
	VPMINSD   Z15, A, A

// DWZ_PAIR adds the tap pair in Z2, Z3 times the filter pair at OFF(R9)
// to the accumulators.
#define DWZ_PAIR(OFF) \
	VPUNPCKLWD Z3, Z2, Z4 \
	VPUNPCKHWD Z3, Z2, Z5 \
	VPDPWSSD   OFF(R9), Z4, Z0 \
	VPDPWSSD   OFF+64(R9), Z5, Z1

// DWZ_BODY is DW3_BODY with 32-channel blocks. The last block may be
// partial: K4 (the tail mask at 112(AX) there, all ones elsewhere) limits
// its loads and its store to the channels that exist.
#define DWZ_BODY(EXT) \
	MOVQ         a+0(FP), AX \
	MOVQ         0(AX), DI \
	MOVQ         8(AX), SI \
	MOVQ         32(AX), CX \
	MOVQ         96(AX), DX \
	MOVQ         104(AX), BX \
	VPBROADCASTD 80(AX), Z13 \
	VPBROADCASTD 84(AX), Z14 \
	VPBROADCASTD 88(AX), Z15 \
	MOVQ         $-0x40000000, R13 \
	VPBROADCASTQ R13, Z20 \
	MOVL         $0xAAAA, R13 \
	KMOVW        R13, K1 \
	VPXORD       Z9, Z9, Z9 \
pixz: \
	MOVQ         56(AX), R8 \
	MOVQ         64(AX), R9 \
	MOVQ         72(AX), R10 \
	MOVQ         SI, R11 \
	MOVQ         DI, R12 \
blkz: \
	KXNORD       K4, K4, K4 \
	CMPQ         R8, $1 \
	JNE          fullz \
	KMOVD        112(AX), K4 \
fullz: \
	VMOVDQU32    0(R10), Z0 \
	VMOVDQU32    640(R10), Z1 \
	LEAQ         (R11)(DX*1), R13 \
	EXT          (R11), K4, Z2 \
	EXT          (R11)(BX*1), K4, Z3 \
	DWZ_PAIR(0) \
	EXT          (R11)(BX*2), K4, Z2 \
	EXT          (R13), K4, Z3 \
	DWZ_PAIR(128) \
	EXT          (R13)(BX*1), K4, Z2 \
	EXT          (R13)(BX*2), K4, Z3 \
	DWZ_PAIR(256) \
	ADDQ         DX, R13 \
	EXT          (R13), K4, Z2 \
	EXT          (R13)(BX*1), K4, Z3 \
	DWZ_PAIR(384) \
	EXT          (R13)(BX*2), K4, Z2 \
	VPUNPCKLWD   Z9, Z2, Z4 \
	VPUNPCKHWD   Z9, Z2, Z5 \
	VPDPWSSD     512(R9), Z4, Z0 \
	VPDPWSSD     576(R9), Z5, Z1 \
	ADDQ         $640, R9 \
	DWZ_REQUANT(Z0, 0) \
	DWZ_REQUANT(Z1, 640) \
	VPACKSSDW    Z1, Z0, Z0 \
	VPMOVWB      Z0, K4, (R12) \
	ADDQ         $1280, R10 \
	ADDQ         $32, R11 \
	ADDQ         $32, R12 \
	DECQ         R8 \
	JNZ          blkz \
	ADDQ         40(AX), SI \
	ADDQ         48(AX), DI \
	DECQ         CX \
	JNZ          pixz \
	VZEROUPPER \
	RET

// The clamped values fit the output type, so VPMOVWB's truncation is
// exact for uint8 and int8 alike; only the widening differs. Masked-out
// loads read nothing (and cannot fault) and load zeros.

// func dw3x3AVX512U8(a *dwArgs)
TEXT ·dw3x3AVX512U8(SB), NOSPLIT, $0-8
	DWZ_BODY(VPMOVZXBW.Z)

// func dw3x3AVX512S8(a *dwArgs)
TEXT ·dw3x3AVX512S8(SB), NOSPLIT, $0-8
	DWZ_BODY(VPMOVSXBW.Z)
