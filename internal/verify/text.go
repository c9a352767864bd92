package verify

import (
	"bufio"
	"fmt"
	"github.com/fruitcam/fruitcam/internal/texttable"
	"io"
	"path/filepath"
	"strconv"
)

// WriteText prints r for people: what was compared, agreement, accuracy
// per model and per class, the confusion matrices (or, without accuracy,
// the agreement matrix), notes and the unreadable images.
func WriteText(w io.Writer, r *Report) error {
	b := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	classes := "no class folders"
	if len(r.Classes) > 0 {
		classes = fmt.Sprintf("%d class folders", len(r.Classes))
	}
	p("verify: %d images in %s (%s): %d classified by both models, %d unreadable, %.1f s\n",
		r.Images, r.Root, classes, r.Classified, len(r.Unreadable), r.Seconds)
	width := max(len(r.Models[0].Name), len(r.Models[1].Name))
	for _, m := range r.Models {
		guess := ""
		if m.NormalizeGuessed {
			guess = " (guessed)"
		}
		p("  %-*s  %s: %s, %d classes, labels from %s, normalize %s%s, resize %s\n",
			width, m.Name, filepath.Base(m.Path), m.Input, m.Classes, m.LabelsFrom, m.Normalize, guess, m.Resize)
	}
	p("\ntop-1 agreement: %s (%d of %d images)\n", pct(r.Agreement), r.Agree, r.Classified)
	if a := r.Accuracy; a != nil {
		p("top-1 accuracy:  ")
		for m, info := range r.Models {
			if m > 0 {
				p("   ")
			}
			p("%s %s (%d of %d)", info.Name, pct(a.Top1[m]), a.Correct[m], a.Scored)
		}
		p("\n\nper-class accuracy:\n")
		rows := [][]string{{"class", "images", r.Models[0].Name, r.Models[1].Name}}
		for _, c := range a.PerClass {
			rows = append(rows, []string{c.Class, strconv.Itoa(c.Images), pct(c.Accuracy[0]), pct(c.Accuracy[1])})
		}
		texttable.Write(b, rows, map[int]bool{1: true, 2: true, 3: true})
		for m, cm := range a.Confusion {
			p("\nconfusion matrix, %s (rows: true class; columns: predicted label, numbered as the rows):\n", r.Models[m].Name)
			writeMatrix(b, cm)
		}
	}
	p("\nagreement matrix (rows: %s top-1; columns: %s top-1, numbered as the rows):\n", r.Models[0].Name, r.Models[1].Name)
	writeMatrix(b, r.AgreementMatrix)
	if len(r.Notes) > 0 {
		p("\nnotes:\n")
		for _, n := range r.Notes {
			p("  - %s\n", n)
		}
	}
	if len(r.Unreadable) > 0 {
		p("\nunreadable images (%d, skipped):\n", len(r.Unreadable))
		for _, u := range r.Unreadable {
			p("  %s: %s\n", u.Path, u.Error)
		}
	}
	return b.Flush()
}

// pct prints a fraction as a percentage with two decimals.
func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', 2, 64) + "%" }

// writeMatrix prints m with numbered rows ("3 Banana") and columns
// numbered the same way; an Other column is headed "oth".
func writeMatrix(w io.Writer, m *Matrix) {
	head := []string{"", ""}
	for j, c := range m.Cols {
		head = append(head, colHead(j, c))
	}
	head = append(head, "total")
	rows := [][]string{head}
	right := map[int]bool{0: true}
	for j := range m.Cols {
		right[2+j] = true
	}
	right[2+len(m.Cols)] = true
	for i, name := range m.Rows {
		row := []string{strconv.Itoa(i), name}
		if name == Other {
			row[0] = "oth"
		}
		for _, v := range m.Counts[i] {
			cell := "."
			if v > 0 {
				cell = strconv.Itoa(v)
			}
			row = append(row, cell)
		}
		row = append(row, strconv.Itoa(m.RowTotal(i)))
		rows = append(rows, row)
	}
	texttable.Write(w, rows, right)
}

func colHead(j int, name string) string {
	if name == Other {
		return "oth"
	}
	return strconv.Itoa(j)
}
