package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestFloat32StridesAndGuards runs every float kernel on rows and outputs
// with gaps between them (lda > K, ldc > N), row counts that leave every
// tail of the row groups (16, 12, 8, 4, 1), and columns ending at every width;
// the gaps and the values after the last row must stay untouched.
func TestFloat32StridesAndGuards(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for i, s := range []struct{ m, n, k int }{
		{1, 16, 9}, {8, 16, 144}, {13, 16, 27}, {15, 32, 5}, {31, 48, 17}, {7, 64, 64}, {12, 17, 3}, {21, 1, 2}, {9, 100, 33}, {40, 31, 8},
		{16, 16, 4}, {35, 8, 6}, {33, 16, 7}, {16, 32, 3}, {28, 40, 5},
	} {
		m, n, k := s.m, s.n, s.k
		lda, ldc := k+3, n+5
		// ReLU6, and ReLU (hi = +Inf, the kernels' shorter clamp).
		lo, hi := float32(0), float32(6)
		if i%2 == 1 {
			hi = float32(math.Inf(1))
		}
		a, b, bias := randF32(rng, (m-1)*lda+k), randF32(rng, n*k), randF32(rng, n)
		want := refFloat32(a, lda, b, bias, m, n, k, lo, hi, func(i, kk int) int { return i*lda + kk })
		eachF32(t, func(name string) {
			g, err := NewFloat32(PackFloat32(b, n, k), bias, lo, hi)
			if err != nil {
				t.Fatal(err)
			}
			got := guarded((m-1)*ldc + n + 16)
			g.Compute(got, ldc, a, lda, m)
			checkGuarded(t, fmt.Sprintf("%s %v", name, s), got, want, m, n, ldc)
		})
	}
}

// TestFloat32Segments checks ComputeSegments, on every kernel that has
// it, against the reference loop on the rows its runs make, as a
// convolution in a padded image reads them: runs overlapping between rows
// (lda smaller than K), and blocks of rows (output rows) AStep apart.
func TestFloat32Segments(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, s := range []struct{ m, n, segLen, nseg, lda, segStride, groups, aStep int }{
		{32, 16, 48, 3, 16, 34 * 16, 1, 0}, {16, 32, 96, 3, 64, 18 * 32, 3, 36 * 32}, {8, 64, 192, 3, 64, 10 * 64, 2, 20 * 64},
		{32, 16, 9, 3, 3, 34 * 3, 4, 34 * 3}, {13, 33, 6, 2, 4, 11, 2, 50}, {1, 16, 5, 1, 5, 5, 7, 5}, {9, 8, 4, 5, 2, 7, 3, 3},
		{20, 16, 96, 3, 32, 22 * 32, 5, 22 * 32}, {5, 40, 3, 1, 3, 3, 1, 0},
	} {
		m, n, k := s.m, s.n, s.segLen*s.nseg
		a := randF32(rng, (s.groups-1)*s.aStep+(m-1)*s.lda+(s.nseg-1)*s.segStride+s.segLen)
		b, bias := randF32(rng, n*k), randF32(rng, n)
		at := func(row, kk int) int {
			return row/m*s.aStep + row%m*s.lda + kk/s.segLen*s.segStride + kk%s.segLen
		}
		lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
		want := refFloat32(a, 0, b, bias, s.groups*m, n, k, lo, hi, at)
		ldc := n + 1
		r := Runs{Len: s.segLen, Stride: s.segStride, Groups: s.groups, AStep: s.aStep, CStep: m * ldc}
		ran := 0
		eachF32(t, func(name string) {
			g, err := NewFloat32(PackFloat32(b, n, k), bias, lo, hi)
			if err != nil {
				t.Fatal(err)
			}
			if !g.Segmented() {
				return
			}
			ran++
			got := guarded((s.groups*m-1)*ldc + n + 16)
			g.ComputeSegments(got, ldc, a, s.lda, m, r)
			checkGuarded(t, fmt.Sprintf("%s %+v", name, s), got, want, s.groups*m, n, ldc)
		})
		if ran == 0 {
			t.Fatal("no kernel has ComputeSegments (the portable one should)")
		}
	}
}

func randF32(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// refFloat32 is the reference loop with A[i][kk] = a[at(i, kk)]; the
// result is m rows of n.
func refFloat32(a []float32, _ int, b, bias []float32, m, n, k int, lo, hi float32, at func(i, kk int) int) []float32 {
	want := make([]float32, m*n)
	for i := range m {
		for j := range n {
			var acc float32
			for kk := range k {
				acc += a[at(i, kk)] * b[j*k+kk]
			}
			want[i*n+j] = min(max(acc+bias[j], lo), hi)
		}
	}
	return want
}

// guard is what guarded fills its slice with; no kernel computes it.
const guard = float32(-12345.5)

func guarded(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = guard
	}
	return s
}

func checkGuarded(t *testing.T, label string, got, want []float32, m, n, ldc int) {
	t.Helper()
	for i, v := range got {
		r, c := i/ldc, i%ldc
		if r < m && c < n {
			if w := want[r*n+c]; math.Float32bits(v) != math.Float32bits(w) {
				t.Fatalf("%s: C[%d][%d] = %g, want %g", label, r, c, v, w)
			}
		} else if v != guard {
			t.Fatalf("%s: wrote %g at %d (row %d, column %d) outside the output", label, v, i, r, c)
		}
	}
}
