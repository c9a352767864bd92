package infer

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"
)

// Background is the label of class 0 in ImageNet models with 1001
// outputs (TF-slim and Coral MobileNets).
const Background = "background"

// ReadLabels reads a sidecar labels file; see ParseLabels.
func ReadLabels(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("infer: labels: %w", err)
	}
	labels, err := ParseLabels(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("infer: labels %s: %w", path, err)
	}
	return labels, nil
}

// ParseLabels reads one label per line, in class order. Two forms are
// accepted:
//
//   - plain: line i (from 0) is the label of class i;
//   - indexed: every line is "N label" (or "N: label"), as Coral's label
//     files are written; N must cover 0..n-1 exactly once, in any order.
//
// Surrounding spaces, a UTF-8 byte-order mark, CRLF line ends and blank
// lines at the end of the file are ignored. A blank line anywhere else is
// an error: it would silently shift every later class, or give a class an
// empty name.
func ParseLabels(r io.Reader) ([]string, error) {
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if len(lines) == 0 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		line = strings.TrimSpace(line)
		if strings.ContainsRune(line, '\r') {
			return nil, fmt.Errorf("line %d contains a carriage return: save the file with Unix (LF) or Windows (CRLF) line ends", len(lines)+1)
		}
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("no labels")
	}
	for i, l := range lines {
		if l == "" {
			return nil, fmt.Errorf("line %d is blank: every class needs a label (remove the line if it is not a class)", i+1)
		}
	}
	if labels, ok, err := indexed(lines); ok || err != nil {
		return labels, err
	}
	return lines, nil
}

// indexed parses the "N label" form when every line has it.
func indexed(lines []string) ([]string, bool, error) {
	idx := make([]int, len(lines))
	names := make([]string, len(lines))
	for i, l := range lines {
		end := strings.IndexFunc(l, func(r rune) bool { return !('0' <= r && r <= '9') })
		if end <= 0 {
			return nil, false, nil
		}
		rest := strings.TrimPrefix(l[end:], ":")
		name := strings.TrimSpace(rest)
		if rest == "" || name == "" || !unicode.IsSpace(rune(rest[0])) {
			return nil, false, nil
		}
		n, err := strconv.Atoi(l[:end])
		if err != nil {
			return nil, false, nil
		}
		idx[i], names[i] = n, name
	}
	out := make([]string, len(lines))
	for i, n := range idx {
		if n >= len(out) {
			return nil, true, fmt.Errorf("line %d: index %d, but there are only %d labels: indices must run from 0 to %d", i+1, n, len(out), len(out)-1)
		}
		if out[n] != "" {
			return nil, true, fmt.Errorf("line %d: index %d appears twice", i+1, n)
		}
		out[n] = names[i]
	}
	return out, true, nil
}

// FitLabels matches labels to a model's number of classes. An exact
// match is returned as is. One label short is the ImageNet case: a
// 1000-class list for a model with a "background" class 0, which is
// prepended. Anything else is an error.
func FitLabels(labels []string, classes int) ([]string, error) {
	switch len(labels) {
	case classes:
		return labels, nil
	case classes - 1:
		return append([]string{Background}, labels...), nil
	}
	return nil, fmt.Errorf("infer: %d labels for a model with %d classes", len(labels), classes)
}
