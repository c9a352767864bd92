package lime

import (
	"math"
	"math/rand/v2"
	"testing"
)

// oracleRidge solves the same problem as design.ridge the obvious way:
// the weighted normal equations of [1 X] with the intercept unpenalised,
// by Gaussian elimination with partial pivoting (no centring).
func oracleRidge(d *design, cols []int, alpha float64) (coef []float64, intercept float64) {
	m := len(cols) + 1
	a := make([][]float64, m)
	for i := range a {
		a[i] = make([]float64, m+1)
	}
	for i := range d.rows {
		z := make([]float64, m)
		z[0] = 1
		for j, c := range cols {
			z[j+1] = float64(d.x[i*d.cols+c])
		}
		for r := range m {
			for c := range m {
				a[r][c] += d.w[i] * z[r] * z[c]
			}
			a[r][m] += d.w[i] * z[r] * d.y[i]
		}
	}
	for j := 1; j < m; j++ {
		a[j][j] += alpha
	}
	for c := range m {
		p := c
		for r := c + 1; r < m; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		a[c], a[p] = a[p], a[c]
		for r := range m {
			if r == c {
				continue
			}
			f := a[r][c] / a[c][c]
			for k := c; k <= m; k++ {
				a[r][k] -= f * a[c][k]
			}
		}
	}
	sol := make([]float64, m)
	for i := range m {
		sol[i] = a[i][m] / a[i][i]
	}
	return sol[1:], sol[0]
}

func randomDesign(rows, cols int, seed uint64) *design {
	r := rand.New(rand.NewPCG(seed, 7))
	d := &design{x: make([]uint8, rows*cols), rows: rows, cols: cols, w: make([]float64, rows), y: make([]float64, rows)}
	truth := make([]float64, cols)
	for j := range truth {
		truth[j] = r.NormFloat64()
	}
	for i := range rows {
		d.w[i] = r.Float64()
		d.y[i] = 0.3 + 0.1*r.NormFloat64()
		for j := range cols {
			v := uint8(r.IntN(2))
			d.x[i*cols+j] = v
			d.y[i] += truth[j] * float64(v)
		}
	}
	return d
}

func TestRidgeMatchesOracle(t *testing.T) {
	tests := []struct {
		name       string
		rows, cols int
		alpha      float64
	}{
		{"lime alpha 1", 200, 12, 1},
		{"highest weights alpha 0.01", 300, 30, 0.01},
		{"forward selection alpha 0", 100, 3, 0},
		{"one feature", 50, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := randomDesign(tt.rows, tt.cols, 3)
			cols := make([]int, tt.cols)
			for i := range cols {
				cols[i] = i
			}
			got := d.ridge(cols, tt.alpha)
			want, wantB := oracleRidge(d, cols, tt.alpha)
			for j := range want {
				if math.Abs(got.coef[j]-want[j]) > 1e-9 {
					t.Errorf("coef[%d] = %.12g, want %.12g", j, got.coef[j], want[j])
				}
			}
			if math.Abs(got.intercept-wantB) > 1e-9 {
				t.Errorf("intercept = %.12g, want %.12g", got.intercept, wantB)
			}
			if got.r2 <= 0.5 || got.r2 > 1 {
				t.Errorf("R² = %g, want a good fit in (0.5, 1]", got.r2)
			}
		})
	}
}

// TestRidgeSingular: alpha 0 with a constant column (every sample keeps
// superpixel 0) still gives a finite fit, the constant column weighing
// nothing.
func TestRidgeSingular(t *testing.T) {
	d := randomDesign(100, 3, 5)
	for i := range d.rows {
		d.x[i*d.cols] = 1
	}
	f := d.ridge([]int{0, 1, 2}, 0)
	for j, c := range f.coef {
		if math.IsNaN(c) || math.IsInf(c, 0) {
			t.Fatalf("coef[%d] = %g", j, c)
		}
	}
	if math.Abs(f.coef[0]) > 1e-6 {
		t.Errorf("constant column's weight = %g, want 0", f.coef[0])
	}
}

func TestR2ConstantTarget(t *testing.T) {
	d := &design{x: []uint8{0, 1, 1, 0}, rows: 4, cols: 1, w: []float64{1, 1, 1, 1}, y: []float64{2, 2, 2, 2}}
	if f := d.ridge([]int{0}, 1); f.r2 != 1 || f.intercept != 2 {
		t.Errorf("constant y: R² %g intercept %g, want 1 and 2", f.r2, f.intercept)
	}
}

// TestForwardSelection: the target depends on features 4 and 1 only
// (4 more); forward selection picks them in that order.
func TestForwardSelection(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	d := &design{x: make([]uint8, 400*8), rows: 400, cols: 8, w: make([]float64, 400), y: make([]float64, 400)}
	for i := range d.rows {
		d.w[i] = 1
		for j := range d.cols {
			d.x[i*8+j] = uint8(r.IntN(2))
		}
		d.y[i] = 3*float64(d.x[i*8+4]) + float64(d.x[i*8+1]) + 0.01*r.NormFloat64()
	}
	tests := []struct {
		method string
		num    int
		want   []int
	}{
		{SelectForward, 2, []int{4, 1}},
		{SelectAuto, 2, []int{4, 1}},
		{SelectHighestWeights, 2, []int{4, 1}},
		{SelectAuto, 100, []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{SelectNone, 2, []int{0, 1, 2, 3, 4, 5, 6, 7}},
	}
	for _, tt := range tests {
		got := d.selectFeatures(tt.method, tt.num)
		if len(got) != len(tt.want) {
			t.Errorf("%s %d: got %v, want %v", tt.method, tt.num, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s %d: got %v, want %v", tt.method, tt.num, got, tt.want)
				break
			}
		}
	}
}
