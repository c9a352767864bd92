package gemm

import (
	"fmt"
	"math"
)

// Float32Weights is an N×K float32 weight matrix packed for Float32.
type Float32Weights struct {
	n, k int
	// data holds panels of nr channels; inside a panel, for each k the nr
	// channels' values are adjacent (the broadcast-A, vector-B layout of
	// FMA kernels): data[(p*k+kk)*nr+j] = B[p*nr+j][kk]. Channels past n
	// are zero.
	data []float32
}

// PackFloat32 packs the row-major N×K matrix b. It panics if b is shorter
// than n*k (a programming error: callers validate shapes first).
func PackFloat32(b []float32, n, k int) *Float32Weights {
	if n <= 0 || k <= 0 || len(b) < n*k {
		panic(fmt.Sprintf("gemm: pack %dx%d matrix from %d values", n, k, len(b)))
	}
	panels := (n + nr - 1) / nr
	w := &Float32Weights{n: n, k: k, data: make([]float32, panels*k*nr)}
	for row := range n {
		p, j := row/nr, row%nr
		for kk := range k {
			w.data[(p*k+kk)*nr+j] = b[row*k+kk]
		}
	}
	return w
}

// N is the number of output channels (rows of B).
func (w *Float32Weights) N() int { return w.n }

// K is the reduction length (columns of B).
func (w *Float32Weights) K() int { return w.k }

// Float32 is a float GEMM with bias and clamp (the fused activation).
type Float32 struct {
	w      *Float32Weights
	bias   []float32 // N values, zero without bias
	lo, hi float32

	run                    runArgsF
	byRowsFn, byChannelsFn func(lo, hi int)
}

type runArgsF struct {
	dst    []float32
	ldc    int
	a      []float32
	lda, m int
}

// NewFloat32 sets up a float GEMM over w. bias is nil or holds N values;
// outputs are clamped to [lo, hi] (use ±Inf for no activation).
func NewFloat32(w *Float32Weights, bias []float32, lo, hi float32) (*Float32, error) {
	if bias != nil && len(bias) != w.n {
		return nil, fmt.Errorf("gemm: %d bias values for %d output channels", len(bias), w.n)
	}
	if !(lo <= hi) || math.IsNaN(float64(lo)) {
		return nil, fmt.Errorf("gemm: invalid clamp bounds [%g, %g]", lo, hi)
	}
	g := &Float32{w: w, bias: make([]float32, w.n), lo: lo, hi: hi}
	copy(g.bias, bias)
	g.byRowsFn = g.byRows
	g.byChannelsFn = g.byChannels
	return g, nil
}

// N is the number of output channels.
func (g *Float32) N() int { return g.w.n }

// K is the reduction length.
func (g *Float32) K() int { return g.w.k }

// Run computes m rows of C: dst[i*ldc+n] for i < m, n < N, from the rows
// a[i*lda : i*lda+K], using up to threads goroutines. Run is not safe for
// concurrent use on the same Float32; with threads <= 1 it does not
// allocate.
func (g *Float32) Run(threads int, dst []float32, ldc int, a []float32, lda, m int) {
	g.run = runArgsF{dst: dst, ldc: ldc, a: a, lda: lda, m: m}
	panels := (g.w.n + nr - 1) / nr
	split(threads, m, panels, g.byRowsFn, g.byChannelsFn)
	g.run = runArgsF{}
}

func (g *Float32) byRows(lo, hi int) {
	r := &g.run
	g.block(r.dst[lo*r.ldc:], r.ldc, r.a[lo*r.lda:], r.lda, hi-lo, 0, (g.w.n+nr-1)/nr)
}

func (g *Float32) byChannels(lo, hi int) {
	r := &g.run
	g.block(r.dst, r.ldc, r.a, r.lda, r.m, lo, hi)
}

// Compute is Run on the calling goroutine. It is safe for concurrent use
// on disjoint rows and does not allocate.
func (g *Float32) Compute(dst []float32, ldc int, a []float32, lda, m int) {
	g.block(dst, ldc, a, lda, m, 0, (g.w.n+nr-1)/nr)
}

func (g *Float32) block(dst []float32, ldc int, a []float32, lda, m, p0, p1 int) {
	k, n := g.w.k, g.w.n
	panelLen := k * nr
	for i := range m {
		row := a[i*lda : i*lda+k : i*lda+k]
		out := dst[i*ldc : i*ldc+n : i*ldc+n]
		for p := p0; p < p1; p++ {
			acc := dotF1x4(row, g.w.data[p*panelLen:(p+1)*panelLen:(p+1)*panelLen])
			for j := range nr {
				c := p*nr + j
				if c >= n {
					break
				}
				out[c] = min(max(acc[j]+g.bias[c], g.lo), g.hi)
			}
		}
	}
}

// dotF1x4 returns Σₖ row[k]·B[j][k] for the nr channels of one panel,
// summing in increasing k.
func dotF1x4(row []float32, panel []float32) [nr]float32 {
	var c0, c1, c2, c3 float32
	panel = panel[:len(row)*nr]
	for kk, a := range row {
		b := panel[kk*nr : kk*nr+nr : kk*nr+nr]
		c0 += a * b[0]
		c1 += a * b[1]
		c2 += a * b[2]
		c3 += a * b[3]
	}
	return [nr]float32{c0, c1, c2, c3}
}
