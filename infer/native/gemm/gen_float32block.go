//go:build ignore

// gen_float32block writes float32block_amd64.s, the AVX-512 whole-block
// float kernel: go generate (or go run gen_float32block.go) in this
// directory. The kernel repeats one tile body per row count (16, 12, 8, 4,
// 1) and width (32 or 16 channels) and one epilogue per clamp; writing
// them out by program keeps the registers and offsets of all of them in
// step.
package main

import (
	"fmt"
	"os"
	"strings"
)

var b strings.Builder

func p(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

// addrs returns the operands of the rows held three to a base register
// (base, base+lda, base+2·lda, with DX = lda).
func addrs(bases []string) []string {
	var a []string
	for _, r := range bases {
		a = append(a, "("+r+")", "("+r+")(DX*1)", "("+r+")(DX*2)")
	}
	return a
}

// rowBases returns the base registers of rows rows.
func rowBases(rows int) []string {
	return []string{"SI", "R8", "R9", "R10", "R12", "R13"}[:(rows+2)/3]
}

// setRows points the base registers at rows 0, 3, 6, … from AX.
func setRows(bases []string) {
	p("\tMOVQ 8(DI), DX")
	p("\tMOVQ AX, SI")
	for i := 1; i < len(bases); i++ {
		p("\tLEAQ (%s)(DX*2), %s", bases[i-1], bases[i])
		p("\tADDQ DX, %s", bases[i])
	}
}

// tile computes rows rows by 16·v channels of column CX from AX into BX.
func tile(rows, v int, lab string) {
	bases := rowBases(rows)
	a := addrs(bases)
	p("\t// %d rows x %d channels", rows, 16*v)
	setRows(bases)
	p("\tMOVQ 48(DI), R11")
	p("\tIMULQ CX, R11")
	p("\tADDQ 40(DI), R11")
	for i := range rows * v {
		p("\tVPXORD Z%d, Z%d, Z%d", i, i, i)
	}
	p("\tMOVQ 72(DI), R12")
	p("%sSeg:", lab)
	p("\tMOVQ 80(DI), R13")
	p("%sK:", lab)
	p("\tVMOVUPS (R11), Z24")
	if v == 2 {
		p("\tVMOVUPS 64(R11), Z25")
	}
	for r := range rows {
		if v == 2 {
			p("\tROW2(%s, Z%d, Z%d)", a[r], 2*r, 2*r+1)
		} else {
			p("\tROW1(%s, Z%d)", a[r], r)
		}
	}
	for _, r := range bases {
		p("\tADDQ $4, %s", r)
	}
	p("\tADDQ $128, R11")
	p("\tDECQ R13")
	p("\tJNZ %sK", lab)
	p("\tMOVQ 88(DI), R13")
	for _, r := range bases {
		p("\tADDQ R13, %s", r)
	}
	p("\tDECQ R12")
	p("\tJNZ %sSeg", lab)
	p("\tMOVQ CX, R13")
	p("\tSHLQ $7, R13")
	p("\tMOVQ 56(DI), R12")
	p("\tADDQ R13, R12")
	p("\tADDQ BX, R13")
	p("\tMOVQ 32(DI), DX")
	epilogue(rows, v, lab)
}

// epilogue finishes and stores the accumulators: bias at R12, output
// rows from R13, DX = ldc apart.
func epilogue(rows, v int, lab string) {
	p("\tCMPL 108(DI), $0")
	p("\tJNE %sOpen", lab)
	for _, ep := range []string{"EPIM", "EPIL"} {
		if ep == "EPIL" {
			p("\tJMP %sEnd", lab)
			p("%sOpen:", lab)
		}
		for r := range rows {
			if r > 0 {
				p("\tADDQ DX, R13")
			}
			if v == 2 {
				p("\t%s(Z%d, (R12), (R13), K4)", ep, 2*r)
				p("\t%s(Z%d, 64(R12), 64(R13), K5)", ep, 2*r+1)
			} else {
				p("\t%s(Z%d, (R12), (R13), K4)", ep, r)
			}
		}
	}
	p("%sEnd:", lab)
}

// tile16 computes sixteen rows of the block's only column, of at most 16
// channels: six base registers, so the counters live in the frame
// (16(SP) runs left, 8(SP) the end of a run's weights).
func tile16(lab string) {
	bases := rowBases(16)
	a := addrs(bases)
	setRows(bases)
	p("\tMOVQ 40(DI), R11")
	for i := range 16 {
		p("\tVPXORD Z%d, Z%d, Z%d", i, i, i)
	}
	p("\tMOVQ 72(DI), CX")
	p("\tMOVQ CX, 16(SP)")
	p("%sSeg:", lab)
	p("\tMOVQ 80(DI), CX")
	p("\tSHLQ $7, CX")
	p("\tADDQ R11, CX")
	p("\tMOVQ CX, 8(SP)")
	p("%sK:", lab)
	p("\tVMOVUPS (R11), Z24")
	for r := range 16 {
		p("\tROW1(%s, Z%d)", a[r], r)
	}
	for _, r := range bases {
		p("\tADDQ $4, %s", r)
	}
	p("\tADDQ $128, R11")
	p("\tCMPQ R11, 8(SP)")
	p("\tJNE %sK", lab)
	p("\tMOVQ 88(DI), CX")
	for _, r := range bases {
		p("\tADDQ CX, %s", r)
	}
	p("\tDECQ 16(SP)")
	p("\tJNZ %sSeg", lab)
	p("\tXORQ CX, CX")
	p("\tMOVQ 56(DI), R12")
	p("\tMOVQ BX, R13")
	p("\tMOVQ 32(DI), DX")
	epilogue(16, 1, lab)
}

func main() {
	b.WriteString(header + "\n")
	b.WriteString(prologue + "\n")
	tile16("r16h")
	b.WriteString(`	SUBQ $16, 0(SP)
	MOVQ 8(DI), DX
	SHLQ $4, DX
	ADDQ DX, AX
	MOVQ 32(DI), DX
	SHLQ $4, DX
	ADDQ DX, BX
	JMP r16Rows

`)
	groups := []struct {
		rows int
		next string
	}{{12, "r8"}, {8, "r4"}, {4, "r1"}, {1, "done"}}
	for _, g := range groups {
		lab := fmt.Sprintf("r%d", g.rows)
		p("%sRows:", lab)
		p("\tMOVQ 0(SP), CX")
		if g.rows == 1 {
			p("\tTESTQ CX, CX")
			p("\tJZ done")
		} else {
			p("\tCMPQ CX, $%d", g.rows)
			p("\tJLT %sRows", g.next)
			if g.rows == 12 {
				// Sixteen rows as two groups of eight, not twelve and four.
				p("\tCMPQ CX, $16")
				p("\tJEQ %sRows", g.next)
			}
		}
		p("\tXORQ CX, CX")
		p("%sCol:", lab)
		p("\tKXNORW K4, K4, K4")
		p("\tKXNORW K5, K5, K5")
		p("\tMOVQ 64(DI), R12")
		p("\tDECQ R12")
		p("\tCMPQ CX, R12")
		p("\tJNE %sFull", lab)
		p("\tKMOVW K1, K4")
		p("\tKMOVW K2, K5")
		p("\tKORTESTW K2, K2")
		p("\tJZ %sHalf", lab)
		p("%sFull:", lab)
		tile(g.rows, 2, lab+"f")
		p("\tJMP %sNext", lab)
		p("%sHalf:", lab)
		tile(g.rows, 1, lab+"h")
		p("%sNext:", lab)
		p("\tINCQ CX")
		p("\tCMPQ CX, 64(DI)")
		p("\tJLT %sCol", lab)
		p("\tSUBQ $%d, 0(SP)", g.rows)
		p("\tMOVQ 8(DI), DX")
		p("\tIMULQ $%d, DX", g.rows)
		p("\tADDQ DX, AX")
		p("\tMOVQ 32(DI), DX")
		p("\tIMULQ $%d, DX", g.rows)
		p("\tADDQ DX, BX")
		p("\tJMP %sRows", lab)
		p("")
	}
	b.WriteString(epilogueText)
	if err := os.WriteFile("float32block_amd64.s", []byte(b.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

const epilogueText = `done:
	DECQ 40(SP)
	JZ finish
	MOVQ 24(SP), AX
	ADDQ 120(DI), AX
	MOVQ AX, 24(SP)
	MOVQ 32(SP), BX
	ADDQ 128(DI), BX
	MOVQ BX, 32(SP)
	JMP group

finish:
	VZEROUPPER
	RET
`

const header = `// Code generated by go run gen_float32block.go; DO NOT EDIT.

#include "textflag.h"

// blockF32AVX512 computes a whole block of the float GEMM in one call:
// t.groups blocks of t.m rows, by t.cols columns of 32 channels, bias and
// clamp fused, the last column stored under the mask t.lastMask (so no Go
// code runs per row and nothing goes through a buffer). Every value gets
// the same products, sums and epilogue as the portable kernel compiled for
// amd64: VMULPS then VADDPS in increasing k from +0, then Go's max and min
// (see EPIF512 in float32_amd64.s).
//
// Rows are taken twelve at a time (sixteen as two eights), then eight,
// four, one; a column whose channels from 16 on are all past N runs on
// one vector, and a block that is just such a column sixteen rows at a
// time. Row i's K values are t.nseg runs of t.segLen values, t.segSkip
// bytes from the end of one run to the start of the next (a convolution's
// filter rows in a padded image; one run for a plain matrix); block g
// starts g·t.aGroup input bytes and g·t.cGroup output bytes after the
// first (a convolution's output rows).
//
// blockArgsF offsets: a 0, lda 8, m 16, c 24, ldc 32, w 40, wStride 48,
// bias 56, cols 64, nseg 72, segLen 80, segSkip 88, lastMask 96, lo 100,
// hi 104, hiInf 108 (non-zero: hi is +Inf, and the clamp is one VMAXPS),
// groups 112, aGroup 120, cGroup 128.
//
// Registers: AX, BX the row group's first input and output rows; CX the
// column; SI, R8, R9, R10 (and R12, R13 for sixteen rows) input row
// pointers, three rows each with DX = lda; R11 weights; R12, R13 counters.
// Z0-Z23 accumulators, Z24, Z25 weights (then epilogue scratch), Z26 the
// broadcast input, Z27, Z28 products, Z30 = lo, Z31 = hi. K1, K2 the last
// column's masks, K4, K5 the current column's, K3 scratch. Frame: 0(SP)
// rows left; 8(SP), 16(SP) the sixteen-row tile's counters; 24(SP),
// 32(SP) the block's first input and output rows; 40(SP) blocks left.

// EPIL is EPIM for hi = +Inf, where min(x, hi) is x (NaN included).
#define EPIL(acc, bias, dst, mask) \
	VADDPS bias, acc, acc; \
	VMAXPS acc, Z30, Z24; \
	VMOVUPS Z24, mask, dst

// EPIM finishes 16 channels (acc): bias, clamp as EPIF512, store under mask.
#define EPIM(acc, bias, dst, mask) \
	VADDPS bias, acc, acc; \
	VMAXPS acc, Z30, Z24; \
	VMINPS Z24, Z31, Z25; \
	VCMPPS $0, Z24, Z31, K3; \
	VPORD Z24, Z31, K3, Z25; \
	VMOVUPS Z25, mask, dst

// ROW2 adds one input value times 32 weights (Z24, Z25) to acc0, acc1.
#define ROW2(addr, acc0, acc1) \
	VBROADCASTSS addr, Z26; \
	VMULPS Z24, Z26, Z27; \
	VADDPS Z27, acc0, acc0; \
	VMULPS Z25, Z26, Z28; \
	VADDPS Z28, acc1, acc1

// ROW1 adds one input value times 16 weights (Z24) to acc, the input
// broadcast by the multiply (the same product).
#define ROW1(addr, acc) \
	VMULPS.BCST addr, Z24, Z27; \
	VADDPS Z27, acc, acc
`

const prologue = `// func blockF32AVX512(t *blockArgsF)
TEXT ·blockF32AVX512(SB), NOSPLIT, $48-8
	MOVQ t+0(FP), DI
	VBROADCASTSS 100(DI), Z30
	VBROADCASTSS 104(DI), Z31
	MOVL 96(DI), AX
	KMOVW AX, K1
	SHRL $16, AX
	KMOVW AX, K2
	MOVQ 0(DI), AX
	MOVQ 24(DI), BX
	MOVQ AX, 24(SP)
	MOVQ BX, 32(SP)
	MOVQ 112(DI), CX
	MOVQ CX, 40(SP)

group:
	MOVQ 16(DI), CX
	MOVQ CX, 0(SP)
	// A single column of at most 16 channels: sixteen rows at a time.
	CMPQ 64(DI), $1
	JNE r12Rows
	KORTESTW K2, K2
	JNZ r12Rows
	KMOVW K1, K4
r16Rows:
	MOVQ 0(SP), CX
	CMPQ CX, $16
	JLT r12Rows
`
