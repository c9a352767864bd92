package inspect

import (
	"bufio"
	"fmt"
	"github.com/fruitcam/fruitcam/internal/texttable"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// maxLabels bounds how many labels the text report lists (an ImageNet
// model has 1001); the JSON report has them all.
const maxLabels = 12

// WriteText prints r for people: summary, inputs and outputs, metadata,
// the graph operator by operator, the tensor tables and the Edge TPU
// verdict. The layout is stable (golden files test it).
func WriteText(w io.Writer, r *Report) error {
	b := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }

	name := "model"
	if r.Path != "" {
		name = "model " + filepath.Base(r.Path)
	}
	p("%s\n", name)
	p("  file:        %s bytes, sha256 %s\n", group(r.FileBytes), r.SHA256)
	p("  schema:      version %d", r.SchemaVersion)
	if r.Description != "" {
		p(", description %q", r.Description)
	}
	p("\n")
	ops, tensors := 0, 0
	for _, g := range r.Subgraphs {
		ops += len(g.Operators)
		tensors += len(g.Tensors)
	}
	p("  graph:       %d subgraph(s), %d operators, %d tensors\n", len(r.Subgraphs), ops, tensors)
	p("  weights:     %s bytes in %d constant tensors\n", group(r.WeightsBytes), r.WeightsTensors)
	p("  shapes:      ? marks a dimension the shape signature leaves dynamic (-1)\n")

	p("\ninputs:\n")
	for _, t := range r.Inputs {
		p("  %s\n", refLine(t))
	}
	p("outputs:\n")
	for _, t := range r.Outputs {
		p("  %s\n", refLine(t))
	}

	p("\nmetadata:\n")
	switch {
	case r.MetadataError != "":
		p("  fruitcam:    unreadable: %s\n", r.MetadataError)
	case r.Metadata == nil:
		p("  fruitcam:    none (labels and preprocessing must be given to the agent)\n")
	default:
		md := r.Metadata
		p("  fruitcam:    schema %d\n", md.Schema)
		field := func(k, v string) {
			if v != "" {
				p("    %-11s %s\n", k+":", v)
			}
		}
		field("name", md.Name)
		field("version", md.Version)
		field("converter", md.Converter)
		field("normalize", md.Normalize)
		field("color order", md.ColorOrder)
		field("resize", md.Resize)
		field("fit", md.Fit)
		if len(md.Labels) > 0 {
			shown := md.Labels[:min(len(md.Labels), maxLabels)]
			more := ""
			if len(md.Labels) > len(shown) {
				more = fmt.Sprintf(", ... (%d more)", len(md.Labels)-len(shown))
			}
			p("    %-11s %d: %s%s\n", "labels:", len(md.Labels), strings.Join(shown, ", "), more)
		}
	}
	if len(r.OtherMetadata) == 0 {
		p("  other:       none\n")
	}
	for _, e := range r.OtherMetadata {
		p("  other:       %s (%s bytes", e.Name, group(e.Bytes))
		if e.Text != "" {
			p(": %q", e.Text)
		}
		p(")\n")
	}

	for _, g := range r.Subgraphs {
		p("\ngraph: subgraph %d", g.Index)
		if g.Name != "" {
			p(" %q", g.Name)
		}
		p(", %d operators\n", len(g.Operators))
		for _, op := range g.Operators {
			p("  #%-3d %s v%d", op.Index, op.Op, op.Version)
			if len(op.Options) > 0 {
				p("  %s", op.Options)
			}
			p("\n")
			for _, t := range op.Inputs {
				p("         in  %s\n", refLine(t))
			}
			for _, t := range op.Outputs {
				p("         out %s\n", refLine(t))
			}
		}
		p("\ntensors: subgraph %d, %d tensors\n", g.Index, len(g.Tensors))
		rows := [][]string{{"idx", "type", "shape", "bytes", "const", "quantisation", "name"}}
		for _, t := range g.Tensors {
			c := ""
			if t.Constant {
				c = "const"
			} else if t.Variable {
				c = "var"
			}
			rows = append(rows, []string{strconv.Itoa(t.Index), t.Type, shapeString(t.Shape, t.Signature),
				group(t.Bytes), c, quantString(t.Quant), t.Name})
		}
		texttable.Write(b, rows, map[int]bool{0: true, 3: true})
	}

	e := r.EdgeTPU
	p("\nedge tpu: %s\n  %s\n", e.Verdict, e.Summary)
	for _, o := range e.Offences {
		if o.Op < 0 {
			p("  - model: %s\n", o.Reason)
		} else {
			p("  - #%d %s: %s\n", o.Op, o.Name, o.Reason)
		}
	}
	for _, n := range e.Notes {
		p("  note: %s\n", n)
	}
	return b.Flush()
}

// refLine prints a tensor use: "t12 int8[1?,48,48,8] const scale=... name".
func refLine(t TensorRef) string {
	if t.Index < 0 {
		return "(none)"
	}
	s := fmt.Sprintf("t%d %s%s", t.Index, t.Type, shapeString(t.Shape, t.Signature))
	if t.Constant {
		s += " const"
	}
	if q := quantString(t.Quant); q != "" {
		s += " " + q
	}
	return s + "  " + strconv.Quote(t.Name)
}

// shapeString prints [1?,96,96,3]: "?" marks dimensions the signature
// leaves dynamic.
func shapeString(shape, sig []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range shape {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(d))
		if i < len(sig) && sig[i] < 0 {
			b.WriteByte('?')
		}
	}
	b.WriteByte(']')
	return b.String()
}

func quantString(q *Quant) string {
	if q == nil {
		return ""
	}
	if q.Channels == 0 {
		return fmt.Sprintf("scale=%.6g zp=%d", q.Scale, q.ZeroPoint)
	}
	zp := fmt.Sprintf("zp=%d", q.ZeroPoint)
	if q.ZeroPointMin != q.ZeroPointMax {
		zp = fmt.Sprintf("zp=%d..%d", q.ZeroPointMin, q.ZeroPointMax)
	}
	return fmt.Sprintf("per-channel dim=%d x%d scale=%.4g..%.4g %s", q.Dim, q.Channels, q.ScaleMin, q.ScaleMax, zp)
}

// group prints n with thousands separators: 1,234,567.
func group(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + group(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
