// Package texttable writes rows of text in aligned columns, for the
// reports of `convert inspect` and `convert verify`.
package texttable

import (
	"fmt"
	"io"
	"strings"
)

// Write writes rows in columns as wide as their widest cell, each line
// indented by two spaces and without trailing blanks. Columns whose index
// is in right are right-aligned (numbers), the others left-aligned. Cells
// are measured in bytes: keep them ASCII.
func Write(w io.Writer, rows [][]string, right map[int]bool) {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		b.WriteString(" ")
		for i, c := range r {
			b.WriteByte(' ')
			pad := strings.Repeat(" ", widths[i]-len(c))
			if right[i] {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
