#include "textflag.h"

// Quantised micro-kernels for amd64. Each computes, for mr rows and
// t.cols columns of channels, the dot products of the rows with the packed
// weights (simd.go describes the layout), adds the per-channel and per-row
// constants, requantises with the epilogue table (kernels_amd64.go), clamps
// and stores bytes. tileArgs offsets: a 0, c 32, w 64, ep 72, tail 80,
// k4 88, cols 96, wStride 104, epStride 112, corr 120, xor 136, outZP 140,
// lo 144, hi 148.

// VNNI_GROUP multiplies one group of four k (weights at R13, 128 bytes:
// two panels) by four bytes of each row, in a0-a3 (four bytes broadcast
// to every lane, already XORed with Z31). VPDPBUSD adds, per int32 lane,
// four products of unsigned bytes (its second operand, the inputs) and
// signed bytes (the first, the weights), without saturation.
#define VNNI_GROUP(a0, a1, a2, a3) \
	VMOVDQU32 (R13), Z8; \
	VMOVDQU32 64(R13), Z9; \
	VPDPBUSD Z8, a0, Z0; \
	VPDPBUSD Z9, a0, Z1; \
	VPDPBUSD Z8, a1, Z2; \
	VPDPBUSD Z9, a1, Z3; \
	VPDPBUSD Z8, a2, Z4; \
	VPDPBUSD Z9, a2, Z5; \
	VPDPBUSD Z8, a3, Z6; \
	VPDPBUSD Z9, a3, Z7

// VNNI_GROUP1 is VNNI_GROUP for the first panel only (Z0, Z2, Z4, Z6).
#define VNNI_GROUP1(a0, a1, a2, a3) \
	VMOVDQU32 (R13), Z8; \
	VPDPBUSD Z8, a0, Z0; \
	VPDPBUSD Z8, a1, Z2; \
	VPDPBUSD Z8, a2, Z4; \
	VPDPBUSD Z8, a3, Z6

// VNNI_RAW broadcasts four input bytes of each row, at offset AX, into
// Z10, Z11, Z12, Z13; VNNI_LOADS also XORs them with Z31.
#define VNNI_RAW \
	VPBROADCASTD (R8)(AX*1), Z10; \
	VPBROADCASTD (R9)(AX*1), Z11; \
	VPBROADCASTD (R10)(AX*1), Z12; \
	VPBROADCASTD (R11)(AX*1), Z13

#define VNNI_LOADS \
	VNNI_RAW; \
	VPXORD Z31, Z10, Z10; \
	VPXORD Z31, Z11, Z11; \
	VPXORD Z31, Z12, Z12; \
	VPXORD Z31, Z13, Z13

// ROWPTR sets areg to input row min(R14+r, m−1) and the output row pointer
// in slot to the same row of C.
#define ROWPTR(r, areg, slot) \
	LEAQ r(R14), AX; \
	CMPQ AX, R15; \
	CMOVQGT R15, AX; \
	MOVQ AX, DX; \
	IMULQ 8(DI), AX; \
	ADDQ 0(DI), AX; \
	MOVQ AX, areg; \
	IMULQ 32(DI), DX; \
	ADDQ 24(DI), DX; \
	MOVQ DX, slot

// ROWSUM sets corr (every lane) to −zs·Σx for the row at areg: x is the
// input byte XOR Z31 (unsigned), summed 64 at a time by VPSADBW against
// zero (Z20); the last partial 64 are loaded under a mask, which reads
// nothing past the row.
#define ROWSUM(areg, corr, L, T, D) \
	MOVQ areg, SI; \
	MOVQ 64(DI), BX; \
	VPXORD Z18, Z18, Z18; \
L: \
	CMPQ BX, $64; \
	JB T; \
	VPXORD (SI), Z31, Z19; \
	VPSADBW Z20, Z19, Z19; \
	VPADDQ Z19, Z18, Z18; \
	ADDQ $64, SI; \
	SUBQ $64, BX; \
	JMP L; \
T: \
	TESTQ BX, BX; \
	JZ D; \
	MOVQ $-1, AX; \
	BZHIQ BX, AX, AX; \
	KMOVQ AX, K2; \
	VMOVDQU8.Z (SI), K2, Z19; \
	VPXORD Z31, Z19, Z19; \
	VMOVDQU8.Z Z19, K2, Z19; \
	VPSADBW Z20, Z19, Z19; \
	VPADDQ Z19, Z18, Z18; \
D: \
	VEXTRACTI64X4 $1, Z18, Y19; \
	VPADDQ Y19, Y18, Y18; \
	VEXTRACTI32X4 $1, Y18, X19; \
	VPADDQ X19, X18, X18; \
	VPSHUFD $0x4e, X18, X19; \
	VPADDQ X19, X18, X18; \
	VMOVQ X18, AX; \
	IMULL 96(DI), AX; \
	VPBROADCASTD AX, corr

// ROWTAIL loads the row's last K%4 bytes (K3 masks them; the others read
// as zero and meet zero weights) into every lane of z, XORed with Z31.
#define ROWTAIL(areg, z, x) \
	MOVQ areg, SI; \
	ADDQ BX, SI; \
	VMOVDQU8.Z (SI), K3, x; \
	VPBROADCASTD x, z; \
	VPXORD Z31, z, z

// EPI512M requantises 16 channels of one row (acc, Z lanes, which started
// at the row's correction) with the epilogue panel at off(DX) and stores
// the 16 bytes at dst under the byte mask k. The even and odd channels'
// 64-bit results are merged by VPERMT2D (index in Z21). Z18 and Z19 are
// scratch; Z28 and Z29 hold hi and lo.
#define EPI512M(acc, off, dst, k) \
	VPADDD off+0(DX), acc, acc; \
	VPSLLVD off+64(DX), acc, acc; \
	VPMULDQ off+128(DX), acc, Z18; \
	VPSRLQ $32, acc, Z19; \
	VPMULDQ off+192(DX), Z19, Z19; \
	VPADDQ off+256(DX), Z18, Z18; \
	VPADDQ off+320(DX), Z19, Z19; \
	VPSRLVQ off+384(DX), Z18, Z18; \
	VPSRLVQ off+448(DX), Z19, Z19; \
	VPERMT2D Z19, Z21, Z18; \
	VPADDD off+512(DX), Z18, Z18; \
	VPMAXSD Z29, Z18, Z18; \
	VPMINSD Z28, Z18, Z18; \
	VPMOVDB Z18, k, dst

// gemmArgs offsets: a 0, lda 8, m 16, c 24, ldc 32, w 40, ep 48, cols 56,
// k 64, wStride 72, epStride 80, lastMask 88, negZs 96, xor 100, outZP 104,
// lo 108, hi 112.

// func gemmVNNI(t *gemmArgs)
// The whole block: rows [0, m) four at a time (a last partial group
// repeats the last row, writing the same bytes to the same place) against
// t.cols columns of 32 channels (two 16-channel panels); accumulators
// Z0-Z7 (row r, panel p in Z(2r+p)). The frame holds the four output row
// pointers. Registers: R8-R11 input rows, R12 the column's byte offset in
// the output rows, R13 the weights cursor, R14 the first row of the group,
// R15 m−1, SI the column's weights, DX its epilogue table, CX columns left.
TEXT ·gemmVNNI(SB), NOSPLIT, $32-8
	VMOVDQU32 evenOdd<>(SB), Z21
	MOVQ t+0(FP), DI
	VPBROADCASTD 100(DI), Z31
	VPBROADCASTD 108(DI), Z29
	VPBROADCASTD 112(DI), Z28
	VPXORD Z20, Z20, Z20
	MOVL $0xAAAA, AX
	KMOVW AX, K1
	MOVQ 64(DI), BX
	ANDQ $3, BX
	MOVQ $-1, AX
	BZHIQ BX, AX, AX
	KMOVW AX, K3 // the K%4 tail bytes
	MOVQ 88(DI), AX
	KMOVW AX, K6 // the last column's channels, first panel
	SHRQ $16, AX
	KMOVW AX, K7 // second panel
	MOVL $0xffff, AX
	KMOVW AX, K5 // all 16
	MOVQ 16(DI), R15
	DECQ R15
	XORQ R14, R14

vnniRow:
	ROWPTR(0, R8, 0(SP))
	ROWPTR(1, R9, 8(SP))
	ROWPTR(2, R10, 16(SP))
	ROWPTR(3, R11, 24(SP))
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VPXORD Z26, Z26, Z26
	VPXORD Z27, Z27, Z27
	CMPL 96(DI), $0
	JEQ vnniNoSums
	ROWSUM(R8, Z24, vs0l, vs0t, vs0d)
	ROWSUM(R9, Z25, vs1l, vs1t, vs1d)
	ROWSUM(R10, Z26, vs2l, vs2t, vs2d)
	ROWSUM(R11, Z27, vs3l, vs3t, vs3d)

vnniNoSums:
	MOVQ 64(DI), BX
	ANDQ $-4, BX
	ROWTAIL(R8, Z14, X14)
	ROWTAIL(R9, Z15, X15)
	ROWTAIL(R10, Z16, X16)
	ROWTAIL(R11, Z17, X17)
	MOVQ 40(DI), SI
	MOVQ 48(DI), DX
	MOVQ 56(DI), CX
	XORQ R12, R12

vnniCol:
	VMOVDQA64 Z24, Z0
	VMOVDQA64 Z24, Z1
	VMOVDQA64 Z25, Z2
	VMOVDQA64 Z25, Z3
	VMOVDQA64 Z26, Z4
	VMOVDQA64 Z26, Z5
	VMOVDQA64 Z27, Z6
	VMOVDQA64 Z27, Z7
	MOVQ SI, R13
	XORQ AX, AX
	MOVQ 64(DI), BX
	SHRQ $2, BX
	CMPQ CX, $1
	JNE vnniK2
	KTESTW K7, K7
	JZ vnniHalf // the last column has no channel in its second panel

vnniK2:
	TESTQ BX, BX
	JZ vnniTail
	CMPL 100(DI), $0
	JEQ vnniKRaw

vnniK:
	VNNI_LOADS
	VNNI_GROUP(Z10, Z11, Z12, Z13)
	ADDQ $4, AX
	ADDQ $128, R13
	DECQ BX
	JNZ vnniK
	JMP vnniTail

vnniKRaw: // uint8 inputs: nothing to XOR
	VNNI_RAW
	VNNI_GROUP(Z10, Z11, Z12, Z13)
	ADDQ $4, AX
	ADDQ $128, R13
	DECQ BX
	JNZ vnniKRaw

vnniTail:
	TESTQ $3, 64(DI)
	JZ vnniEpi
	VNNI_GROUP(Z14, Z15, Z16, Z17)

vnniEpi:
	KMOVW K5, K2
	KMOVW K5, K4
	CMPQ CX, $1
	JNE vnniStore
	KMOVW K6, K2
	KMOVW K7, K4

vnniStore:
	MOVQ 0(SP), BX
	EPI512M(Z0, 0, (BX)(R12*1), K2)
	EPI512M(Z1, 576, 16(BX)(R12*1), K4)
	MOVQ 8(SP), BX
	EPI512M(Z2, 0, (BX)(R12*1), K2)
	EPI512M(Z3, 576, 16(BX)(R12*1), K4)
	MOVQ 16(SP), BX
	EPI512M(Z4, 0, (BX)(R12*1), K2)
	EPI512M(Z5, 576, 16(BX)(R12*1), K4)
	MOVQ 24(SP), BX
	EPI512M(Z6, 0, (BX)(R12*1), K2)
	EPI512M(Z7, 576, 16(BX)(R12*1), K4)
	ADDQ 72(DI), SI
	ADDQ 80(DI), DX
	ADDQ $32, R12
	DECQ CX
	JNZ vnniCol
	JMP vnniNextRow

vnniHalf:
	TESTQ BX, BX
	JZ vnniHalfTail

vnniHalfK:
	VNNI_LOADS
	VNNI_GROUP1(Z10, Z11, Z12, Z13)
	ADDQ $4, AX
	ADDQ $128, R13
	DECQ BX
	JNZ vnniHalfK

vnniHalfTail:
	TESTQ $3, 64(DI)
	JZ vnniHalfEpi
	VNNI_GROUP1(Z14, Z15, Z16, Z17)

vnniHalfEpi:
	MOVQ 0(SP), BX
	EPI512M(Z0, 0, (BX)(R12*1), K6)
	MOVQ 8(SP), BX
	EPI512M(Z2, 0, (BX)(R12*1), K6)
	MOVQ 16(SP), BX
	EPI512M(Z4, 0, (BX)(R12*1), K6)
	MOVQ 24(SP), BX
	EPI512M(Z6, 0, (BX)(R12*1), K6)

vnniNextRow:
	ADDQ $4, R14
	CMPQ R14, 16(DI)
	JLT vnniRow
	VZEROUPPER
	RET

// GEMV_GROUP adds one group of four k of the row (Z10, already XORed)
// times the two panels of the column at (base)(R12*1) to acc0, acc1.
#define GEMV_GROUP(base, src, acc0, acc1) \
	VPDPBUSD (base)(R12*1), src, acc0; \
	VPDPBUSD 64(base)(R12*1), src, acc1

// GEMV_EPI requantises and stores one column (acc0, acc1) under the masks
// k0, k1 at (R15), with the epilogue table at DX; then moves DX and R15 to
// the next column.
#define GEMV_EPI(acc0, acc1, k0, k1) \
	EPI512M(acc0, 0, (R15), k0); \
	EPI512M(acc1, 576, 16(R15), k1); \
	ADDQ 80(DI), DX; \
	ADDQ $32, R15

// func gemvVNNI(t *gemmArgs)
// gemmVNNI for one row (t.m = 1): four columns at a time (eight
// accumulators, Z0-Z7, so that consecutive VPDPBUSD do not wait on each
// other) while more than four remain, then one at a time, the last under
// its channel masks. The same products and sums as gemmVNNI. Registers:
// R8 the row, AX its offset, R12 the weights' offset in the columns, SI
// and R9-R11 the columns' weights, R13 wStride, DX the epilogue table,
// R15 the output, CX columns left, BX groups left.
TEXT ·gemvVNNI(SB), NOSPLIT, $0-8
	VMOVDQU32 evenOdd<>(SB), Z21
	MOVQ t+0(FP), DI
	VPBROADCASTD 100(DI), Z31
	VPBROADCASTD 108(DI), Z29
	VPBROADCASTD 112(DI), Z28
	VPXORD Z20, Z20, Z20
	MOVQ 64(DI), BX
	ANDQ $3, BX
	MOVQ $-1, AX
	BZHIQ BX, AX, AX
	KMOVW AX, K3 // the K%4 tail bytes
	MOVQ 88(DI), AX
	KMOVW AX, K6 // the last column's channels, first panel
	SHRQ $16, AX
	KMOVW AX, K7 // second panel
	MOVL $0xffff, AX
	KMOVW AX, K5 // all 16
	MOVQ 0(DI), R8
	VPXORD Z24, Z24, Z24
	CMPL 96(DI), $0
	JEQ gvNoSums
	ROWSUM(R8, Z24, gvs0l, gvs0t, gvs0d)

gvNoSums:
	MOVQ 64(DI), BX
	ANDQ $-4, BX
	ROWTAIL(R8, Z14, X14)
	MOVQ 40(DI), SI
	MOVQ 48(DI), DX
	MOVQ 56(DI), CX
	MOVQ 24(DI), R15
	MOVQ 72(DI), R13

gv4Col:
	CMPQ CX, $4
	JLE gv1Col
	LEAQ (SI)(R13*1), R9
	LEAQ (R9)(R13*1), R10
	LEAQ (R10)(R13*1), R11
	VMOVDQA64 Z24, Z0
	VMOVDQA64 Z24, Z1
	VMOVDQA64 Z24, Z2
	VMOVDQA64 Z24, Z3
	VMOVDQA64 Z24, Z4
	VMOVDQA64 Z24, Z5
	VMOVDQA64 Z24, Z6
	VMOVDQA64 Z24, Z7
	XORQ AX, AX
	XORQ R12, R12
	MOVQ 64(DI), BX
	SHRQ $2, BX
	TESTQ BX, BX
	JZ gv4Tail

gv4K:
	VPBROADCASTD (R8)(AX*1), Z10
	VPXORD Z31, Z10, Z10
	GEMV_GROUP(SI, Z10, Z0, Z1)
	GEMV_GROUP(R9, Z10, Z2, Z3)
	GEMV_GROUP(R10, Z10, Z4, Z5)
	GEMV_GROUP(R11, Z10, Z6, Z7)
	ADDQ $4, AX
	ADDQ $128, R12
	DECQ BX
	JNZ gv4K

gv4Tail:
	TESTQ $3, 64(DI)
	JZ gv4Epi
	GEMV_GROUP(SI, Z14, Z0, Z1)
	GEMV_GROUP(R9, Z14, Z2, Z3)
	GEMV_GROUP(R10, Z14, Z4, Z5)
	GEMV_GROUP(R11, Z14, Z6, Z7)

gv4Epi:
	GEMV_EPI(Z0, Z1, K5, K5)
	GEMV_EPI(Z2, Z3, K5, K5)
	GEMV_EPI(Z4, Z5, K5, K5)
	GEMV_EPI(Z6, Z7, K5, K5)
	LEAQ (R11)(R13*1), SI
	SUBQ $4, CX
	JMP gv4Col

gv1Col:
	VMOVDQA64 Z24, Z0
	VMOVDQA64 Z24, Z1
	XORQ AX, AX
	XORQ R12, R12
	MOVQ 64(DI), BX
	SHRQ $2, BX
	TESTQ BX, BX
	JZ gv1Tail

gv1K:
	VPBROADCASTD (R8)(AX*1), Z10
	VPXORD Z31, Z10, Z10
	GEMV_GROUP(SI, Z10, Z0, Z1)
	ADDQ $4, AX
	ADDQ $128, R12
	DECQ BX
	JNZ gv1K

gv1Tail:
	TESTQ $3, 64(DI)
	JZ gv1Epi
	GEMV_GROUP(SI, Z14, Z0, Z1)

gv1Epi:
	CMPQ CX, $1
	JEQ gv1Last
	GEMV_EPI(Z0, Z1, K5, K5)
	ADDQ R13, SI
	DECQ CX
	JMP gv1Col

gv1Last:
	GEMV_EPI(Z0, Z1, K6, K7)
	VZEROUPPER
	RET

// AVX2_GROUP multiplies one group of four k (weights at R13, 64 bytes: 16
// channels × 4) by four inputs of each of two rows. The weights are
// sign-extended to 16 bits, four channels per register; the four inputs
// are widened by EXT (zero- or sign-extension, as the input type is) and
// repeated four times; VPMADDWD then leaves, per channel, two partial sums
// (k0+k1 and k2+k3) in adjacent int32 lanes. All products and pair sums
// are exact in 32 bits.
#define AVX2_GROUP(EXT, a0, a1) \
	VPMOVSXBW (R13), Y8; \
	VPMOVSXBW 16(R13), Y9; \
	VPMOVSXBW 32(R13), Y10; \
	VPMOVSXBW 48(R13), Y11; \
	VPBROADCASTD a0, X12; \
	EXT X12, Y12; \
	VPBROADCASTD a1, X13; \
	EXT X13, Y13; \
	VPMADDWD Y8, Y12, Y14; \
	VPADDD Y14, Y0, Y0; \
	VPMADDWD Y9, Y12, Y15; \
	VPADDD Y15, Y1, Y1; \
	VPMADDWD Y10, Y12, Y14; \
	VPADDD Y14, Y2, Y2; \
	VPMADDWD Y11, Y12, Y15; \
	VPADDD Y15, Y3, Y3; \
	VPMADDWD Y8, Y13, Y14; \
	VPADDD Y14, Y4, Y4; \
	VPMADDWD Y9, Y13, Y15; \
	VPADDD Y15, Y5, Y5; \
	VPMADDWD Y10, Y13, Y14; \
	VPADDD Y14, Y6, Y6; \
	VPMADDWD Y11, Y13, Y15; \
	VPADDD Y15, Y7, Y7

// EPI256 requantises 8 channels of one row (acc, Y lanes in channel order)
// with the half panel at off(DX) and stores 8 bytes at dst. Y8, Y9 are
// scratch; Y10 holds the byte-gather mask, Y11 and Y12 hi and lo.
// The clamped values fit 16 bits, so VPACKSSDW is exact and the gather
// of the low bytes truncates to the output type.
#define EPI256(acc, corr, off, dst) \
	VPADDD off+0(DX), acc, acc; \
	VPBROADCASTD corr, Y8; \
	VPADDD Y8, acc, acc; \
	VPSLLVD off+64(DX), acc, acc; \
	VPMULDQ off+128(DX), acc, Y8; \
	VPSRLQ $32, acc, Y9; \
	VPMULDQ off+192(DX), Y9, Y9; \
	VPADDQ off+256(DX), Y8, Y8; \
	VPADDQ off+320(DX), Y9, Y9; \
	VPSRLVQ off+384(DX), Y8, Y8; \
	VPSRLVQ off+448(DX), Y9, Y9; \
	VPSLLQ $32, Y9, Y9; \
	VPBLENDD $0xAA, Y9, Y8, Y8; \
	VPADDD off+512(DX), Y8, Y8; \
	VPMAXSD Y12, Y8, Y8; \
	VPMINSD Y11, Y8, Y8; \
	VEXTRACTI128 $1, Y8, X9; \
	VPACKSSDW X9, X8, X8; \
	VPSHUFB X10, X8, X8; \
	VMOVQ X8, dst

// AVX2_TILE is the body of a 2 rows × 16 channels AVX2 kernel; EXT widens
// the inputs. Accumulators: row 0 in Y0-Y3, row 1 in Y4-Y7, four channels
// (as two partial sums each) per register.
#define AVX2_TILE(EXT, COL, K, TAIL, EPI) \
	MOVQ t+0(FP), DI; \
	MOVQ 0(DI), R8; \
	MOVQ 8(DI), R9; \
	MOVQ 64(DI), SI; \
	MOVQ 72(DI), DX; \
	MOVQ 96(DI), CX; \
	XORQ R12, R12; \
COL: \
	VPXOR Y0, Y0, Y0; \
	VPXOR Y1, Y1, Y1; \
	VPXOR Y2, Y2, Y2; \
	VPXOR Y3, Y3, Y3; \
	VPXOR Y4, Y4, Y4; \
	VPXOR Y5, Y5, Y5; \
	VPXOR Y6, Y6, Y6; \
	VPXOR Y7, Y7, Y7; \
	MOVQ SI, R13; \
	XORQ AX, AX; \
	MOVQ 88(DI), BX; \
	TESTQ BX, BX; \
	JZ TAIL; \
K: \
	AVX2_GROUP(EXT, (R8)(AX*1), (R9)(AX*1)); \
	ADDQ $4, AX; \
	ADDQ $64, R13; \
	DECQ BX; \
	JNZ K; \
TAIL: \
	MOVQ 80(DI), BX; \
	TESTQ BX, BX; \
	JZ EPI; \
	AVX2_GROUP(EXT, 0(BX), 4(BX)); \
EPI: \
	VPHADDD Y1, Y0, Y0; \
	VPERMQ $0xD8, Y0, Y0; \
	VPHADDD Y3, Y2, Y2; \
	VPERMQ $0xD8, Y2, Y2; \
	VPHADDD Y5, Y4, Y4; \
	VPERMQ $0xD8, Y4, Y4; \
	VPHADDD Y7, Y6, Y6; \
	VPERMQ $0xD8, Y6, Y6; \
	VMOVDQU lowBytes<>(SB), X10; \
	VPBROADCASTD 148(DI), Y11; \
	VPBROADCASTD 144(DI), Y12; \
	MOVQ 32(DI), BX; \
	EPI256(Y0, 120(DI), 0, (BX)(R12*1)); \
	EPI256(Y2, 120(DI), 32, 8(BX)(R12*1)); \
	MOVQ 40(DI), BX; \
	EPI256(Y4, 124(DI), 0, (BX)(R12*1)); \
	EPI256(Y6, 124(DI), 32, 8(BX)(R12*1)); \
	ADDQ 104(DI), SI; \
	ADDQ 112(DI), DX; \
	ADDQ $16, R12; \
	DECQ CX; \
	JNZ COL; \
	VZEROUPPER; \
	RET

// func tileAVX2U2x16(t *tileArgs): uint8 inputs.
TEXT ·tileAVX2U2x16(SB), NOSPLIT, $0-8
	AVX2_TILE(VPMOVZXBW, avx2uCol, avx2uK, avx2uTail, avx2uEpi)

// func tileAVX2S2x16(t *tileArgs): int8 inputs.
TEXT ·tileAVX2S2x16(SB), NOSPLIT, $0-8
	AVX2_TILE(VPMOVSXBW, avx2sCol, avx2sK, avx2sTail, avx2sEpi)

// AVXVNNI_GROUP is VNNI_GROUP with the VEX-encoded (AVX-VNNI) VPDPBUSD on
// 256-bit registers, for CPUs that have it without AVX-512: weights at
// R13 (64 bytes: 16 channels), inputs XOR Y12, row r's channels 0-7 in
// Y(2r) and 8-15 in Y(2r+1). Go's assembler only knows the EVEX form, so
// each VPDPBUSD ymm_d, ymm_a, ymm_w (d += a·w, Intel operand order d, a, w)
// is spelled out as VEX.256.66.0F38.W0 50 /r: C4, then RXB̄ + map 00010
// (0xC2 for w in Y8-Y15 and d in Y0-Y7), then W0, the inverted a, L = 1,
// pp = 01 (0x2D for a = Y10, 0x25 for Y11), the opcode 0x50 and ModRM
// 11·d·(w mod 8). The comments give each one in Go's operand order.
#define AVXVNNI_GROUP(a0, a1, a2, a3) \
	VMOVDQU (R13), Y8; \
	VMOVDQU 32(R13), Y9; \
	VPBROADCASTD a0, Y10; \
	VPXOR Y12, Y10, Y10; \
	VPBROADCASTD a1, Y11; \
	VPXOR Y12, Y11, Y11; \
	BYTE $0xc4; BYTE $0xc2; BYTE $0x2d; BYTE $0x50; BYTE $0xc0 /* VPDPBUSD Y8, Y10, Y0 */; \
	BYTE $0xc4; BYTE $0xc2; BYTE $0x2d; BYTE $0x50; BYTE $0xc9 /* VPDPBUSD Y9, Y10, Y1 */; \
	BYTE $0xc4; BYTE $0xc2; BYTE $0x25; BYTE $0x50; BYTE $0xd0 /* VPDPBUSD Y8, Y11, Y2 */; \
	BYTE $0xc4; BYTE $0xc2; BYTE $0x25; BYTE $0x50; BYTE $0xd9 /* VPDPBUSD Y9, Y11, Y3 */; \
	VPBROADCASTD a2, Y10; \
	VPXOR Y12, Y10, Y10; \
	VPBROADCASTD a3, Y11; \
	VPXOR Y12, Y11, Y11; \
	BYTE $0xc4; BYTE $0xc2; BYTE $0x2d; BYTE $0x50; BYTE $0xe0 /* VPDPBUSD Y8, Y10, Y4 */; \
	BYTE $0xc4; BYTE $0xc2; BYTE $0x2d; BYTE $0x50; BYTE $0xe9 /* VPDPBUSD Y9, Y10, Y5 */; \
	BYTE $0xc4; BYTE $0xc2; BYTE $0x25; BYTE $0x50; BYTE $0xf0 /* VPDPBUSD Y8, Y11, Y6 */; \
	BYTE $0xc4; BYTE $0xc2; BYTE $0x25; BYTE $0x50; BYTE $0xf9 /* VPDPBUSD Y9, Y11, Y7 */

// func tileAVXVNNI4x16(t *tileArgs): 4 rows × 16 channels.
TEXT ·tileAVXVNNI4x16(SB), NOSPLIT, $0-8
	MOVQ t+0(FP), DI
	MOVQ 0(DI), R8
	MOVQ 8(DI), R9
	MOVQ 16(DI), R10
	MOVQ 24(DI), R11
	MOVQ 64(DI), SI
	MOVQ 72(DI), DX
	MOVQ 96(DI), CX
	XORQ R12, R12

avxvnniCol:
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	VPBROADCASTD 136(DI), Y12
	MOVQ SI, R13
	XORQ AX, AX
	MOVQ 88(DI), BX
	TESTQ BX, BX
	JZ avxvnniTail

avxvnniK:
	AVXVNNI_GROUP((R8)(AX*1), (R9)(AX*1), (R10)(AX*1), (R11)(AX*1))
	ADDQ $4, AX
	ADDQ $64, R13
	DECQ BX
	JNZ avxvnniK

avxvnniTail:
	MOVQ 80(DI), BX
	TESTQ BX, BX
	JZ avxvnniEpi
	AVXVNNI_GROUP(0(BX), 4(BX), 8(BX), 12(BX))

avxvnniEpi:
	VMOVDQU lowBytes<>(SB), X10
	VPBROADCASTD 148(DI), Y11
	VPBROADCASTD 144(DI), Y12
	MOVQ 32(DI), BX
	EPI256(Y0, 120(DI), 0, (BX)(R12*1))
	EPI256(Y1, 120(DI), 32, 8(BX)(R12*1))
	MOVQ 40(DI), BX
	EPI256(Y2, 124(DI), 0, (BX)(R12*1))
	EPI256(Y3, 124(DI), 32, 8(BX)(R12*1))
	MOVQ 48(DI), BX
	EPI256(Y4, 128(DI), 0, (BX)(R12*1))
	EPI256(Y5, 128(DI), 32, 8(BX)(R12*1))
	MOVQ 56(DI), BX
	EPI256(Y6, 132(DI), 0, (BX)(R12*1))
	EPI256(Y7, 132(DI), 32, 8(BX)(R12*1))
	ADDQ 104(DI), SI
	ADDQ 112(DI), DX
	ADDQ $16, R12
	DECQ CX
	JNZ avxvnniCol
	VZEROUPPER
	RET

// evenOdd interleaves two vectors' low dwords of each qword: result lane j
// is lane j of the first for even j, lane j−1 of the second (index 16+)
// for odd j.
DATA evenOdd<>+0(SB)/8, $0x0000001000000000
DATA evenOdd<>+8(SB)/8, $0x0000001200000002
DATA evenOdd<>+16(SB)/8, $0x0000001400000004
DATA evenOdd<>+24(SB)/8, $0x0000001600000006
DATA evenOdd<>+32(SB)/8, $0x0000001800000008
DATA evenOdd<>+40(SB)/8, $0x0000001a0000000a
DATA evenOdd<>+48(SB)/8, $0x0000001c0000000c
DATA evenOdd<>+56(SB)/8, $0x0000001e0000000e
GLOBL evenOdd<>(SB), RODATA|NOPTR, $64

// lowBytes gathers the low byte of each of eight 16-bit lanes.
DATA lowBytes<>+0(SB)/8, $0x0e0c0a0806040200
DATA lowBytes<>+8(SB)/8, $0x8080808080808080
GLOBL lowBytes<>(SB), RODATA|NOPTR, $16
