package lime

import (
	"cmp"
	"math"
	"slices"
)

// design is the regression problem of one explained class: rows of
// binary features (superpixel kept = 1), their kernel weights, and the
// model's score for the class on each row.
type design struct {
	x    []uint8 // rows × cols, row-major
	rows int
	cols int
	w    []float64 // kernel weight per row
	y    []float64 // target per row
}

// fit is a weighted ridge regression on a subset of the features.
type fit struct {
	coef      []float64 // per used feature, in the order asked
	intercept float64
	r2        float64 // weighted R² on the data it was fitted to
}

// ridge fits y ≈ intercept + x[:, cols]·coef minimising
// Σ w_i (y_i − ŷ_i)² + alpha·|coef|², as scikit-learn's Ridge(alpha,
// fit_intercept=True).fit(X, y, sample_weight=w): the columns and y are
// centred on their weighted means, the normal equations
// (Xcᵀ W Xc + alpha I) coef = Xcᵀ W yc are solved by Cholesky, and the
// intercept is ȳ − x̄·coef. A singular system (alpha 0 with a constant or
// duplicated column, which scikit-learn answers by least squares) is
// solved with a ridge of 1e-10 times the mean diagonal instead: the
// minimum-norm solution's limit.
func (d *design) ridge(cols []int, alpha float64) fit {
	m := len(cols)
	var sw, ybar float64
	xbar := make([]float64, m)
	for i := range d.rows {
		wi := d.w[i]
		sw += wi
		ybar += wi * d.y[i]
		row := d.x[i*d.cols:]
		for j, c := range cols {
			xbar[j] += wi * float64(row[c])
		}
	}
	if sw <= 0 {
		return fit{coef: make([]float64, m)}
	}
	ybar /= sw
	for j := range xbar {
		xbar[j] /= sw
	}
	a := make([]float64, m*m)
	b := make([]float64, m)
	xc := make([]float64, m)
	for i := range d.rows {
		wi := d.w[i]
		if wi == 0 {
			continue
		}
		row := d.x[i*d.cols:]
		for j, c := range cols {
			xc[j] = float64(row[c]) - xbar[j]
		}
		yc := d.y[i] - ybar
		for j := range m {
			v := wi * xc[j]
			b[j] += v * yc
			aj := a[j*m:]
			for k := 0; k <= j; k++ {
				aj[k] += v * xc[k]
			}
		}
	}
	for j := range m {
		for k := 0; k < j; k++ {
			a[k*m+j] = a[j*m+k]
		}
		a[j*m+j] += alpha
	}
	coef, ok := solveSPD(a, b, m)
	if !ok {
		var tr float64
		for j := range m {
			tr += a[j*m+j]
		}
		jitter := 1e-10 * max(tr/float64(m), 1)
		for j := range m {
			a[j*m+j] += jitter
		}
		if coef, ok = solveSPD(a, b, m); !ok {
			coef = make([]float64, m)
		}
	}
	f := fit{coef: coef, intercept: ybar}
	for j := range m {
		f.intercept -= xbar[j] * coef[j]
	}
	f.r2 = d.r2(cols, f, ybar)
	return f
}

// r2 is scikit-learn's r2_score with sample weights: 1 − Σw(y−ŷ)² /
// Σw(y−ȳ)², and for constant y 1 when the fit is exact, else 0.
func (d *design) r2(cols []int, f fit, ybar float64) float64 {
	var num, den float64
	for i := range d.rows {
		row := d.x[i*d.cols:]
		pred := f.intercept
		for j, c := range cols {
			pred += f.coef[j] * float64(row[c])
		}
		r := d.y[i] - pred
		t := d.y[i] - ybar
		num += d.w[i] * r * r
		den += d.w[i] * t * t
	}
	if den == 0 {
		if num == 0 {
			return 1
		}
		return 0
	}
	return 1 - num/den
}

// solveSPD solves a·x = b for a symmetric positive definite m×m matrix
// by Cholesky (a = L Lᵀ, then two triangular solves). It reports false
// when a is not positive definite to working precision. a is overwritten
// with L.
func solveSPD(a, b []float64, m int) ([]float64, bool) {
	for j := range m {
		s := a[j*m+j]
		for k := range j {
			s -= a[j*m+k] * a[j*m+k]
		}
		if !(s > 1e-300) {
			return nil, false
		}
		d := math.Sqrt(s)
		a[j*m+j] = d
		for i := j + 1; i < m; i++ {
			s := a[i*m+j]
			for k := range j {
				s -= a[i*m+k] * a[j*m+k]
			}
			a[i*m+j] = s / d
		}
	}
	x := make([]float64, m)
	for i := range m { // L z = b
		s := b[i]
		for k := range i {
			s -= a[i*m+k] * x[k]
		}
		x[i] = s / a[i*m+i]
	}
	for i := m - 1; i >= 0; i-- { // Lᵀ x = z
		s := x[i]
		for k := i + 1; k < m; k++ {
			s -= a[k*m+i] * x[k]
		}
		x[i] = s / a[i*m+i]
	}
	return x, true
}

// Feature selection methods, lime_base.LimeBase.feature_selection's.
const (
	SelectAuto             = "auto"
	SelectForward          = "forward_selection"
	SelectHighestWeights   = "highest_weights"
	SelectNone             = "none"
	maxForwardAutoFeatures = 6 // auto: forward selection up to this many
)

// selectFeatures returns the features the explanation's model uses, as
// lime does: "none" all of them; "forward_selection" adds, num times, the
// feature whose unregularised weighted least-squares fit together with
// those chosen scores the best R²; "highest_weights" the num features
// with the largest |weight| in a Ridge(alpha=0.01) on all of them (times
// the instance's value, 1 for every superpixel); "auto" forward
// selection for num ≤ 6, else highest weights.
func (d *design) selectFeatures(method string, num int) []int {
	all := make([]int, d.cols)
	for i := range all {
		all[i] = i
	}
	if method == SelectAuto {
		method = SelectHighestWeights
		if num <= maxForwardAutoFeatures {
			method = SelectForward
		}
	}
	switch method {
	case SelectForward:
		var used []int
		for range min(num, d.cols) {
			best, bestScore := 0, math.Inf(-1)
			for _, f := range all {
				if slices.Contains(used, f) {
					continue
				}
				s := d.ridge(append(slices.Clip(used), f), 0).r2
				if s > bestScore {
					best, bestScore = f, s
				}
			}
			used = append(used, best)
		}
		return used
	case SelectHighestWeights:
		if num >= d.cols {
			// Every feature is kept: the order does not change the fit.
			return all
		}
		f := d.ridge(all, 0.01)
		order := slices.Clone(all)
		slices.SortStableFunc(order, func(a, b int) int {
			return cmp.Compare(math.Abs(f.coef[b]), math.Abs(f.coef[a]))
		})
		return order[:num]
	}
	return all
}
