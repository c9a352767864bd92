package gemm

import (
	"fmt"
	"math"
)

// Float32Weights is an N×K float32 weight matrix packed for one float
// kernel (the one selected when it was packed).
type Float32Weights struct {
	n, k int
	kern f32Kernel
	// data holds panels of the kernel's width in channels; inside a
	// panel, for each k the channels' values are adjacent (the
	// broadcast-A, vector-B layout): data[(p*k+kk)*width+j] =
	// B[p*width+j][kk]. Channels past n are zero.
	data []float32
}

// PackFloat32 packs the row-major N×K matrix b. It panics if b is shorter
// than n*k (a programming error: callers validate shapes first).
func PackFloat32(b []float32, n, k int) *Float32Weights {
	return packFloat32With(f32Impl, b, n, k)
}

func packFloat32With(kern f32Kernel, b []float32, n, k int) *Float32Weights {
	checkPack(n, k, len(b))
	w := &Float32Weights{n: n, k: k, kern: kern}
	kern.pack(w, b)
	return w
}

// packPanels is the layout of every float kernel, for panels of width
// channels.
func packPanels(w *Float32Weights, b []float32, width int) {
	n, k := w.n, w.k
	w.data = make([]float32, (n+width-1)/width*k*width)
	for row := range n {
		p, j := row/width, row%width
		for kk := range k {
			w.data[(p*k+kk)*width+j] = b[row*k+kk]
		}
	}
}

// N is the number of output channels (rows of B).
func (w *Float32Weights) N() int { return w.n }

// K is the reduction length (columns of B).
func (w *Float32Weights) K() int { return w.k }

// Float32 is a float GEMM with bias and clamp (the fused activation).
type Float32 struct {
	w      *Float32Weights
	bias   []float32 // N values (padded to whole panels), zero without bias
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
	u := w.kern.unit()
	g := &Float32{w: w, bias: make([]float32, (w.n+u-1)/u*u), lo: lo, hi: hi}
	copy(g.bias, bias)
	g.byRowsFn = g.byRows
	g.byChannelsFn = g.byChannels
	return g, nil
}

// N is the number of output channels.
func (g *Float32) N() int { return g.w.n }

// K is the reduction length.
func (g *Float32) K() int { return g.w.k }

// Kernel names the micro-kernel the weights were packed for.
func (g *Float32) Kernel() string { return g.w.kern.name() }

func (g *Float32) units() int {
	u := g.w.kern.unit()
	return (g.w.n + u - 1) / u
}

// Run computes m rows of C: dst[i*ldc+n] for i < m, n < N, from the rows
// a[i*lda : i*lda+K], using up to threads goroutines. Run is not safe for
// concurrent use on the same Float32; with threads <= 1 it does not
// allocate.
func (g *Float32) Run(threads int, dst []float32, ldc int, a []float32, lda, m int) {
	g.run = runArgsF{dst: dst, ldc: ldc, a: a, lda: lda, m: m}
	split(threads, m, g.units(), m*g.w.n*g.w.k, g.byRowsFn, g.byChannelsFn)
	g.run = runArgsF{}
}

func (g *Float32) byRows(lo, hi int) {
	r := &g.run
	g.w.kern.block(g, r.dst[lo*r.ldc:], r.ldc, r.a[lo*r.lda:], r.lda, hi-lo, 0, g.units())
}

func (g *Float32) byChannels(lo, hi int) {
	r := &g.run
	g.w.kern.block(g, r.dst, r.ldc, r.a, r.lda, r.m, lo, hi)
}

// Compute is Run on the calling goroutine. It is safe for concurrent use
// on disjoint rows and does not allocate.
func (g *Float32) Compute(dst []float32, ldc int, a []float32, lda, m int) {
	g.w.kern.block(g, dst, ldc, a, lda, m, 0, g.units())
}

// Segmented reports whether ComputeSegments runs on the kernel the
// weights were packed for (the portable one and those with a whole-block
// form); callers gather rows into plain matrices otherwise.
func (g *Float32) Segmented() bool {
	s, ok := g.w.kern.(segKernel)
	return ok && s.segments()
}

// Runs describes the rows ComputeSegments reads: each row of A is K/Len
// runs of Len values, Stride values apart, and the rows come in Groups
// blocks of m rows, the first rows of consecutive blocks AStep values
// apart in A and CStep apart in C. A convolution's receptive fields in a
// padded image are such rows: one run per filter row, one block per
// output row.
type Runs struct {
	Len, Stride  int
	Groups       int
	AStep, CStep int
}

// ComputeSegments is Compute for the Groups·m rows r describes: row i of
// block b is a[b*AStep+i*lda+s*Stride+j] for s < K/Len and j < Len, in
// that order, and its results go to dst[b*CStep+i*ldc:]. It reads the rows
// in place. It panics unless Segmented, Len divides K and Groups ≥ 1
// (programming errors).
func (g *Float32) ComputeSegments(dst []float32, ldc int, a []float32, lda, m int, r Runs) {
	s, ok := g.w.kern.(segKernel)
	if !ok || !s.segments() || r.Len <= 0 || g.w.k%r.Len != 0 || r.Groups < 1 {
		panic(fmt.Sprintf("gemm: ComputeSegments with %d groups of runs of %d values for K = %d on kernel %s", r.Groups, r.Len, g.w.k, g.w.kern.name()))
	}
	if m <= 0 {
		return
	}
	s.segBlock(g, dst, ldc, a, lda, m, r, 0, g.units())
}

// segKernel is a float kernel that reads rows made of runs.
type segKernel interface {
	segments() bool
	segBlock(g *Float32, dst []float32, ldc int, a []float32, lda, m int, r Runs, u0, u1 int)
}

// Float32Segmented reports whether float GEMMs packed now (with this CPU's
// kernel) have ComputeSegments.
func Float32Segmented() bool {
	s, ok := f32Impl.(segKernel)
	return ok && s.segments()
}
