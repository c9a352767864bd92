package gemm

func (portableF32) segments() bool { return true }

// segBlock is block for the rows r describes (see ComputeSegments): the
// same products and sums in the same order as block on those rows laid
// end to end.
func (portableF32) segBlock(g *Float32, dst []float32, ldc int, a []float32, lda, m int, r Runs, p0, p1 int) {
	k, n := g.w.k, g.w.n
	nseg := k / r.Len
	panelLen := k * nr
	for grp := range r.Groups {
		for i := range m {
			o := grp*r.CStep + i*ldc
			out := dst[o : o+n : o+n]
			for p := p0; p < p1; p++ {
				panel := g.w.data[p*panelLen : (p+1)*panelLen : (p+1)*panelLen]
				var acc [nr]float32
				for s := range nseg {
					off := grp*r.AStep + i*lda + s*r.Stride
					dotF1x4Add(&acc, a[off:off+r.Len:off+r.Len], panel[s*r.Len*nr:(s+1)*r.Len*nr])
				}
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
}

// dotF1x4Add is dotF1x4 continuing from the sums in acc.
func dotF1x4Add(acc *[nr]float32, row []float32, panel []float32) {
	c0, c1, c2, c3 := acc[0], acc[1], acc[2], acc[3]
	panel = panel[:len(row)*nr]
	for kk, a := range row {
		b := panel[kk*nr : kk*nr+nr : kk*nr+nr]
		c0 += a * b[0]
		c1 += a * b[1]
		c2 += a * b[2]
		c3 += a * b[3]
	}
	*acc = [nr]float32{c0, c1, c2, c3}
}
