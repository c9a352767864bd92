package board

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// maxNameWidth caps the name column, so that one long name does not push
// every detail off the screen.
const maxNameWidth = 28

// WriteText prints the checklist: the results under their groups, one line
// each (mark, name, detail), the fix on the line below, then a summary.
//
//	board
//	  ✓ model        Raspberry Pi 4 Model B Rev 1.4
//	  ! throttling   since boot: under-voltage (0x10000)
//	                 fix: use a power supply that holds 5 V under load ...
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for i := 0; i < len(r.Results); {
		// A group's names are aligned among themselves: one long library
		// name should not push the board's details to the right.
		group := r.Results[i].Group
		j, width := i, 0
		for ; j < len(r.Results) && r.Results[j].Group == group; j++ {
			width = max(width, min(utf8.RuneCountInString(r.Results[j].Name), maxNameWidth))
		}
		b.WriteString(group + "\n")
		for _, res := range r.Results[i:j] {
			pad := max(width-utf8.RuneCountInString(res.Name), 0)
			line := fmt.Sprintf("  %s %s%s  %s", res.Status.Symbol(), res.Name, strings.Repeat(" ", pad), res.Detail)
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			if res.Fix != "" {
				fmt.Fprintf(&b, "    %s  fix: %s\n", strings.Repeat(" ", width), res.Fix)
			}
		}
		i = j
	}
	b.WriteString("\n" + r.Summary() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Summary is the last line of the checklist: "all good", "2 warnings",
// "1 failed, 2 warnings".
func (r *Report) Summary() string {
	failed, warned := r.Count(Fail), r.Count(Warn)
	var parts []string
	if failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", failed))
	}
	switch warned {
	case 0:
	case 1:
		parts = append(parts, "1 warning")
	default:
		parts = append(parts, fmt.Sprintf("%d warnings", warned))
	}
	if len(parts) == 0 {
		return "all good"
	}
	return strings.Join(parts, ", ")
}

// JSONReport is the shape of `agent doctor --json`: ok is false when any
// check failed; checks are in the order of the text output.
type JSONReport struct {
	OK       bool     `json:"ok"`
	Failed   int      `json:"failed"`
	Warnings int      `json:"warnings"`
	Checks   []Result `json:"checks"`
}

// WriteJSON writes the report as one indented JSON object (JSONReport).
func (r *Report) WriteJSON(w io.Writer) error {
	checks := r.Results
	if checks == nil {
		checks = []Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(JSONReport{OK: r.OK(), Failed: r.Count(Fail), Warnings: r.Count(Warn), Checks: checks})
}
