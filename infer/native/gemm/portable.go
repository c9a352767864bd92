package gemm

// The portable quantised kernel holds each group of lanes (3) channels in
// one int64 word, lane l (21 bits wide) holding channel l's negated
// weight, so that one 64-bit multiply by an activation produces three
// products at once (see the package documentation for why that is exact).
// A panel is qnr = 2 words = 6 channels, the width of the micro-kernel.
const (
	lanes    = 3
	laneBits = 21
	words    = 2             // words per panel
	qnr      = lanes * words // channels per panel
	// chunk is the number of k values summed in the lanes before they are
	// taken apart: 64 products a·(−b), each in [−16384, 16256], sum to
	// [−2²⁰, 2²⁰), exactly the range of a signed 21-bit lane.
	chunk = 64
)

// word2 is the two words of one panel for one k.
type word2 [words]int64

type portableInt8 struct{}

func (portableInt8) name() string               { return "go" }
func (portableInt8) domain(bool) domain         { return signedX }
func (portableInt8) unit() int                  { return qnr }
func (portableInt8) prepare(g *Int8, _ Requant) {}

// pack lays the matrix out as panels of qnr channels; inside a panel, each
// k has two words, word w holding channels w·lanes … w·lanes+2 of the
// panel, negated, in its lanes:
//
//	words[p*k+kk][w] = Σₗ −B[p*qnr+w*lanes+l][kk] · 2^(21·l)
//
// Channels past n are zero.
func (portableInt8) pack(w *Int8Weights, at func(int) int8) {
	n, k := w.n, w.k
	w.words = make([]word2, (n+qnr-1)/qnr*k)
	for row := range n {
		p, j := row/qnr, row%qnr
		wd, l := j/lanes, j%lanes
		for col := range k {
			w.words[p*k+col][wd] += -int64(at(row*k+col)) << (laneBits * l)
		}
	}
}

// block computes rows [0, m) and channel panels [p0, p1) of C.
func (portableInt8) block(g *Int8, dst []byte, ldc int, a []byte, lda, m, p0, p1 int) {
	w := g.w
	k, n := w.k, w.n
	i := 0
	for ; i+1 < m; i += 2 {
		row0 := a[i*lda : i*lda+k : i*lda+k]
		row1 := a[(i+1)*lda : (i+1)*lda+k : (i+1)*lda+k]
		corr0, corr1 := g.rowCorr(row0), g.rowCorr(row1)
		out0 := dst[i*ldc : i*ldc+n : i*ldc+n]
		out1 := dst[(i+1)*ldc : (i+1)*ldc+n : (i+1)*ldc+n]
		for p := p0; p < p1; p++ {
			acc := dot2(row0, row1, g.xor, w.words[p*k:(p+1)*k:(p+1)*k])
			g.store(out0, p, &acc[0], corr0)
			g.store(out1, p, &acc[1], corr1)
		}
	}
	if i < m {
		row := a[i*lda : i*lda+k : i*lda+k]
		corr := g.rowCorr(row)
		out := dst[i*ldc : i*ldc+n : i*ldc+n]
		for p := p0; p < p1; p++ {
			acc := dot1(row, g.xor, w.words[p*k:(p+1)*k:(p+1)*k])
			g.store(out, p, &acc, corr)
		}
	}
}

// store requantises the sums of panel p into out.
func (g *Int8) store(out []byte, p int, acc *[qnr]int32, corr int32) {
	c0 := p * qnr
	if c0+qnr <= len(out) {
		o := out[c0 : c0+qnr : c0+qnr]
		colC := g.colC[c0 : c0+qnr : c0+qnr]
		for j := range qnr {
			o[j] = g.requant(acc[j]+colC[j]+corr, c0+j)
		}
		return
	}
	for j := range len(out) - c0 {
		out[c0+j] = g.requant(acc[j]+g.colC[c0+j]+corr, c0+j)
	}
}

// lanesOf splits a chunk's word sum into its three signed lanes.
func lanesOf(t int64) (s0, s1, s2 int32) {
	x0 := t << (64 - laneBits) >> (64 - laneBits)
	t = (t - x0) >> laneBits
	x1 := t << (64 - laneBits) >> (64 - laneBits)
	return int32(x0), int32(x1), int32((t - x1) >> laneBits)
}

// dot2 returns Σₖ x·B[j] for two rows (x = row byte XOR xor, as int8) and
// the qnr channels j of one panel, chunk k values at a time. The words
// hold −B, so lane sums are subtracted.
func dot2(row0, row1 []byte, xor byte, panel []word2) (acc [2][qnr]int32) {
	row1 = row1[:len(row0)]
	panel = panel[:len(row0)]
	for k0 := 0; k0 < len(row0); k0 += chunk {
		end := min(k0+chunk, len(row0))
		s00, s01, s10, s11 := sums2(row0[k0:end:end], row1[k0:end:end], xor, panel[k0:end:end])
		sub(&acc[0], s00, s01)
		sub(&acc[1], s10, s11)
	}
	return acc
}

// sums2 is the portable micro-kernel: it returns, for two rows, the sums
// over one chunk of the activations times the panel's two words. It is a
// separate leaf function so that its loop keeps everything in registers
// (inlined, its loop spills to the stack).
//
//go:noinline
func sums2(r0, r1 []byte, xor byte, pw []word2) (s00, s01, s10, s11 int64) {
	r1 = r1[:len(r0)]
	pw = pw[:len(r0)]
	for i, v := range r0 {
		w := &pw[i]
		a0, a1 := int64(int8(v^xor)), int64(int8(r1[i]^xor))
		s00 += a0 * w[0]
		s01 += a0 * w[1]
		s10 += a1 * w[0]
		s11 += a1 * w[1]
	}
	return
}

// dot1 is dot2 for a single row.
func dot1(row []byte, xor byte, panel []word2) (acc [qnr]int32) {
	panel = panel[:len(row)]
	for k0 := 0; k0 < len(row); k0 += chunk {
		end := min(k0+chunk, len(row))
		s0, s1 := sums1(row[k0:end:end], xor, panel[k0:end:end])
		sub(&acc, s0, s1)
	}
	return acc
}

// sums1 is sums2 for a single row.
//
//go:noinline
func sums1(r []byte, xor byte, pw []word2) (s0, s1 int64) {
	pw = pw[:len(r)]
	for i, v := range r {
		a := int64(int8(v ^ xor))
		s0 += a * pw[i][0]
		s1 += a * pw[i][1]
	}
	return
}

// sub subtracts the lanes of the two word sums of a panel from acc.
func sub(acc *[qnr]int32, t0, t1 int64) {
	x0, x1, x2 := lanesOf(t0)
	y0, y1, y2 := lanesOf(t1)
	acc[0] -= x0
	acc[1] -= x1
	acc[2] -= x2
	acc[3] -= y0
	acc[4] -= y1
	acc[5] -= y2
}

// portableF32 is the portable float kernel: panels of nr channels, for
// each k the nr channels' values adjacent, data[(p*k+kk)*nr+j] =
// B[p*nr+j][kk], channels past n zero.
type portableF32 struct{}

// nr is the number of output channels a portable float panel holds.
const nr = 4

func (portableF32) name() string { return "go" }
func (portableF32) unit() int    { return nr }

func (portableF32) pack(w *Float32Weights, b []float32) { packPanels(w, b, nr) }

func (portableF32) block(g *Float32, dst []float32, ldc int, a []float32, lda, m, p0, p1 int) {
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
