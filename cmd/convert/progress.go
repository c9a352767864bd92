package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress draws a progress bar on a terminal, and stays silent elsewhere
// (a log file full of carriage returns helps nobody): there it prints
// only notes and the final count.
type progress struct {
	w          io.Writer
	label      string
	quiet, tty bool
	n, total   int
	last       time.Time
}

func newProgress(w io.Writer, label string, quiet bool) *progress {
	p := &progress{w: w, label: label, quiet: quiet}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) start(total int) { p.total, p.n = total, 0; p.draw(true) }

func (p *progress) step() {
	p.n++
	p.draw(p.n == p.total)
}

// draw redraws at most ten times a second.
func (p *progress) draw(force bool) {
	if p.quiet || !p.tty || (!force && time.Since(p.last) < 100*time.Millisecond) {
		return
	}
	p.last = time.Now()
	const width = 30
	fill := 0
	if p.total > 0 {
		fill = p.n * width / p.total
	}
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d", p.label, strings.Repeat("=", fill), strings.Repeat(" ", width-fill), p.n, p.total)
}

// note prints a line without breaking the bar.
func (p *progress) note(msg string) {
	if p.quiet {
		return
	}
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintln(p.w, msg)
	p.draw(true)
}

func (p *progress) done() {
	if p.quiet {
		return
	}
	if p.tty {
		fmt.Fprintln(p.w)
		return
	}
	fmt.Fprintf(p.w, "%s: %d/%d\n", p.label, p.n, p.total)
}
