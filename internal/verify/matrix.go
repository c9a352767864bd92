package verify

import (
	"cmp"
	"slices"
)

// Other names the column (or row) that gathers labels outside a matrix's
// own: predictions of labels no class folder has, or the rarer labels of
// an agreement matrix.
const Other = "(other)"

// Matrix is a table of counts: Counts[r][c] images fell in row r and
// column c. Rows and Cols name them.
type Matrix struct {
	Rows   []string `json:"rows"`
	Cols   []string `json:"cols"`
	Counts [][]int  `json:"counts"`
}

func newMatrix(rows, cols []string) *Matrix {
	m := &Matrix{Rows: rows, Cols: cols, Counts: make([][]int, len(rows))}
	for i := range m.Counts {
		m.Counts[i] = make([]int, len(cols))
	}
	return m
}

// Total is the sum of all counts.
func (m *Matrix) Total() int {
	n := 0
	for r := range m.Counts {
		n += m.RowTotal(r)
	}
	return n
}

// RowTotal is the sum of row r.
func (m *Matrix) RowTotal(r int) int {
	n := 0
	for _, v := range m.Counts[r] {
		n += v
	}
	return n
}

// Diagonal is the sum of Counts[i][i]: the correct predictions of a
// confusion matrix, the agreements of an agreement matrix.
func (m *Matrix) Diagonal() int {
	n := 0
	for i := range min(len(m.Rows), len(m.Cols)) {
		n += m.Counts[i][i]
	}
	return n
}

// confusion counts, for each image i whose class truth[i] has a label
// (classLabel[truth[i]] >= 0), its true class (row) against the predicted
// label pred[i] (column). Rows are the classes with a label, in class
// order; column j < len(Rows) is row j's label, so the diagonal holds the
// correct predictions. With withOther, a last Other column gathers the
// predictions of labels no row has; callers set it when needsOther finds
// one for either model, so that both models' matrices share columns.
func confusion(classes []string, classLabel []int, truth, pred []int, withOther bool) *Matrix {
	var rows []string
	rowOf := make([]int, len(classes)) // class -> row, -1 when unmatched
	colOf := map[int]int{}             // label -> column
	for c, name := range classes {
		rowOf[c] = -1
		if classLabel[c] < 0 {
			continue
		}
		rowOf[c] = len(rows)
		colOf[classLabel[c]] = len(rows)
		rows = append(rows, name)
	}
	cols := slices.Clone(rows)
	if withOther {
		cols = append(cols, Other)
	}
	m := newMatrix(rows, cols)
	for i, c := range truth {
		if c < 0 || rowOf[c] < 0 {
			continue
		}
		col, ok := colOf[pred[i]]
		if !ok {
			if !withOther {
				panic("verify: confusion: a prediction outside the classes needs withOther (see needsOther)")
			}
			col = len(cols) - 1
		}
		m.Counts[rowOf[c]][col]++
	}
	return m
}

// needsOther reports whether any scored image was predicted as a label
// that no class folder has.
func needsOther(classLabel []int, truth []int, preds ...[]int) bool {
	have := map[int]bool{}
	for _, l := range classLabel {
		if l >= 0 {
			have[l] = true
		}
	}
	for i, c := range truth {
		if c < 0 || classLabel[c] < 0 {
			continue
		}
		for _, p := range preds {
			if !have[p[i]] {
				return true
			}
		}
	}
	return false
}

// agreementMatrix counts model a's top-1 label (row) against model b's
// (column) over the images both classified. It shows the labels either
// model predicted, in label order; past limit labels it keeps the
// limit-1 most frequent and gathers the rest in an Other row and column,
// so a 1001-class model still gives a readable table.
func agreementMatrix(labels []string, a, b []int, limit int) *Matrix {
	freq := map[int]int{}
	for i := range a {
		freq[a[i]]++
		freq[b[i]]++
	}
	shown := make([]int, 0, len(freq))
	for l := range freq {
		shown = append(shown, l)
	}
	other := false
	if len(shown) > limit {
		slices.SortFunc(shown, func(x, y int) int {
			return cmp.Or(cmp.Compare(freq[y], freq[x]), cmp.Compare(x, y))
		})
		shown, other = shown[:limit-1], true
	}
	slices.Sort(shown)
	idx := make(map[int]int, len(shown))
	names := make([]string, 0, len(shown)+1)
	for i, l := range shown {
		idx[l] = i
		names = append(names, labels[l])
	}
	if other {
		names = append(names, Other)
	}
	m := newMatrix(names, slices.Clone(names))
	at := func(l int) int {
		if i, ok := idx[l]; ok {
			return i
		}
		return len(names) - 1
	}
	for i := range a {
		m.Counts[at(a[i])][at(b[i])]++
	}
	return m
}
