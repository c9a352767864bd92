package verify

import (
	"reflect"
	"testing"
)

func TestConfusion(t *testing.T) {
	classes := []string{"apple", "banana", "kiwi"}
	tests := []struct {
		name       string
		classLabel []int // class -> label
		truth      []int
		pred       []int
		withOther  bool
		rows, cols []string
		counts     [][]int
		diagonal   int
	}{
		{
			name:       "labels in folder order",
			classLabel: []int{0, 1, 2},
			truth:      []int{0, 0, 1, 1, 2, 2},
			pred:       []int{0, 1, 1, 1, 2, 0},
			rows:       classes, cols: classes,
			counts:   [][]int{{1, 1, 0}, {0, 2, 0}, {1, 0, 1}},
			diagonal: 4,
		},
		{
			// The model's labels are ordered differently from the folders:
			// columns follow the rows, not the label indices.
			name:       "labels in another order",
			classLabel: []int{2, 0, 1}, // apple is label 2, banana 0, kiwi 1
			truth:      []int{0, 1, 2, 2},
			pred:       []int{2, 0, 0, 1},
			rows:       classes, cols: classes,
			counts:   [][]int{{1, 0, 0}, {0, 1, 0}, {0, 1, 1}},
			diagonal: 3,
		},
		{
			name:       "a folder without a label is left out",
			classLabel: []int{0, -1, 1},
			truth:      []int{0, 1, 1, 2},
			pred:       []int{0, 0, 1, 0},
			rows:       []string{"apple", "kiwi"}, cols: []string{"apple", "kiwi"},
			counts:   [][]int{{1, 0}, {1, 0}},
			diagonal: 1,
		},
		{
			name:       "predictions of labels without a folder go to Other",
			classLabel: []int{0, 1, 2},
			truth:      []int{0, 1, 2},
			pred:       []int{7, 1, 9},
			withOther:  true,
			rows:       classes, cols: []string{"apple", "banana", "kiwi", Other},
			counts:   [][]int{{0, 0, 0, 1}, {0, 1, 0, 0}, {0, 0, 0, 1}},
			diagonal: 1,
		},
		{
			name:       "unlabelled images are skipped",
			classLabel: []int{0, 1, 2},
			truth:      []int{-1, 0},
			pred:       []int{1, 0},
			rows:       classes, cols: classes,
			counts:   [][]int{{1, 0, 0}, {0, 0, 0}, {0, 0, 0}},
			diagonal: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := needsOther(tc.classLabel, tc.truth, tc.pred); got != tc.withOther {
				t.Errorf("needsOther = %v, want %v", got, tc.withOther)
			}
			m := confusion(classes, tc.classLabel, tc.truth, tc.pred, tc.withOther)
			if !reflect.DeepEqual(m.Rows, tc.rows) || !reflect.DeepEqual(m.Cols, tc.cols) {
				t.Errorf("rows %q cols %q, want %q %q", m.Rows, m.Cols, tc.rows, tc.cols)
			}
			if !reflect.DeepEqual(m.Counts, tc.counts) {
				t.Errorf("counts %v, want %v", m.Counts, tc.counts)
			}
			if got := m.Diagonal(); got != tc.diagonal {
				t.Errorf("diagonal %d, want %d", got, tc.diagonal)
			}
		})
	}
}

func TestScore(t *testing.T) {
	classes := []string{"apple", "banana", "kiwi", "plum"}
	classLabel := []int{0, 1, 2, -1}
	truth := []int{0, 0, 0, 0, 1, 1, 2, 3, 3}
	a := []int{0, 0, 0, 1, 1, 1, 2, 0, 1}
	b := []int{0, 0, 1, 1, 1, 5, 2, 0, 1}
	acc := score(classes, classLabel, truth, [2][]int{a, b})
	// Plum has no label: 7 images scored. a: 3+2+1 = 6 right; b: 2+1+1 = 4.
	if acc.Scored != 7 || acc.Correct != [2]int{6, 4} {
		t.Fatalf("scored %d correct %v, want 7 and [6 4]", acc.Scored, acc.Correct)
	}
	if want := [2]float64{6.0 / 7, 4.0 / 7}; acc.Top1 != want {
		t.Errorf("top-1 %v, want %v", acc.Top1, want)
	}
	if !reflect.DeepEqual(acc.Unmatched, []string{"plum"}) {
		t.Errorf("unmatched %q, want [plum]", acc.Unmatched)
	}
	want := []ClassResult{
		{"apple", 4, [2]int{3, 2}, [2]float64{0.75, 0.5}},
		{"banana", 2, [2]int{2, 1}, [2]float64{1, 0.5}},
		{"kiwi", 1, [2]int{1, 1}, [2]float64{1, 1}},
	}
	if !reflect.DeepEqual(acc.PerClass, want) {
		t.Errorf("per class %+v, want %+v", acc.PerClass, want)
	}
	// b predicted label 5, which no folder has: both matrices get an
	// Other column so they line up.
	for m, cm := range acc.Confusion {
		if len(cm.Cols) != 4 || cm.Cols[3] != Other {
			t.Errorf("model %d columns %q, want the three classes and %s", m, cm.Cols, Other)
		}
	}
	if acc.Confusion[1].Counts[1][3] != 1 {
		t.Errorf("model 1 banana row %v, want one prediction in Other", acc.Confusion[1].Counts[1])
	}
}

func TestAgreementMatrix(t *testing.T) {
	labels := []string{"l0", "l1", "l2", "l3", "l4"}
	tests := []struct {
		name   string
		a, b   []int
		limit  int
		rows   []string
		counts [][]int
	}{
		{
			name: "labels either model predicted", a: []int{0, 0, 3, 3}, b: []int{0, 3, 3, 0}, limit: 10,
			rows: []string{"l0", "l3"}, counts: [][]int{{1, 1}, {1, 1}},
		},
		{
			name: "a label only one model predicted", a: []int{1, 1}, b: []int{1, 4}, limit: 10,
			rows: []string{"l1", "l4"}, counts: [][]int{{1, 1}, {0, 0}},
		},
		{
			// l0 appears 4 times, l2 twice, l1 and l3 once each: with a
			// limit of 3, l0 and l2 stay and the rest is Other.
			name: "rare labels gathered in Other", a: []int{0, 0, 2, 1}, b: []int{0, 0, 2, 3}, limit: 3,
			rows: []string{"l0", "l2", Other}, counts: [][]int{{2, 0, 0}, {0, 1, 0}, {0, 0, 1}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := agreementMatrix(labels, tc.a, tc.b, tc.limit)
			if !reflect.DeepEqual(m.Rows, tc.rows) || !reflect.DeepEqual(m.Cols, tc.rows) || !reflect.DeepEqual(m.Counts, tc.counts) {
				t.Errorf("got rows %q cols %q counts %v, want %q and %v", m.Rows, m.Cols, m.Counts, tc.rows, tc.counts)
			}
			if m.Total() != len(tc.a) {
				t.Errorf("total %d, want %d", m.Total(), len(tc.a))
			}
		})
	}
}
