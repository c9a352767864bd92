package gemm

import (
	"fmt"
	"testing"
)

// TestDotExtremeSums fills whole chunks with the extreme products
// (−128·−128 and −128·127 in every lane) that bound the 21-bit lanes, and
// checks the raw sums of both micro-kernels against the plain int32 loop.
func TestDotExtremeSums(t *testing.T) {
	for _, k := range []int{1, 63, 64, 65, 128, 200} {
		for _, tc := range []struct{ a0, a1, b0, b1 int8 }{
			{-128, -128, -128, -128},
			{-128, 127, 127, -128},
			{127, -128, -128, 127},
			{127, 127, 127, 127},
			{-128, -128, 127, -128},
		} {
			t.Run(fmt.Sprintf("k=%d/%v", k, tc), func(t *testing.T) {
				row0, row1 := make([]byte, k), make([]byte, k)
				b := make([]int8, qnr*k)
				for i := range k {
					row0[i], row1[i] = byte(tc.a0), byte(tc.a1)
				}
				for j := range qnr {
					for i := range k {
						b[j*k+i] = tc.b0
						if j%2 == 1 {
							b[j*k+i] = tc.b1
						}
					}
				}
				w := packWith(portableInt8{}, qnr, k, 0, func(i int) int8 { return b[i] })
				want := func(row []byte, j int) int32 {
					var s int32
					for i, v := range row {
						s += int32(int8(v)) * int32(b[j*k+i])
					}
					return s
				}
				got2 := dot2(row0, row1, 0, w.words)
				got1 := dot1(row1, 0, w.words)
				for j := range qnr {
					if got2[0][j] != want(row0, j) || got2[1][j] != want(row1, j) {
						t.Errorf("dot2 channel %d = %d, %d, want %d, %d", j, got2[0][j], got2[1][j], want(row0, j), want(row1, j))
					}
					if got1[j] != want(row1, j) {
						t.Errorf("dot1 channel %d = %d, want %d", j, got1[j], want(row1, j))
					}
				}
			})
		}
	}
}
