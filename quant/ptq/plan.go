package ptq

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// A plan gives every real-valued tensor use of the model its int8
// parameters. Tensors that must share parameters (an operator's input and
// output for pooling and data movement, all inputs and the output of a
// concatenation) are joined into groups with a union-find; a group's
// parameters come from the union of its members' ranges, or are fixed
// (SOFTMAX, LOGISTIC and TANH outputs, input 0 with Options.InputRange).
//
// The nodes of the union-find are the non-constant tensors (node = tensor
// index) and, after them, every use of a float constant as a data input
// (node per use, so one constant feeding two operators never ties their
// groups together; each use gets its own quantised copy).
type plan struct {
	m     *tfl.Model
	sg    *tfl.Subgraph
	rules []*opRule

	parent   []int
	lo, hi   []float32 // range of each node, when hasRange
	hasRange []bool
	fixed    []*fixedParams // per node; meaningful at roots

	constUse  map[use]int  // node of each float constant data input
	requant   map[use]bool // concatenation inputs that get a QUANTIZE in front
	consumers [][]int      // per tensor: operators reading it as data

	// Filled by finish, per root node.
	params map[int]quant.AffineParams
	ranges map[int][2]float32 // the range the parameters were chosen from
}

// use is one input of one operator.
type use struct{ op, pos int }

// fixedParams are parameters a group must take, and where they come from
// (for messages).
type fixedParams struct {
	p      quant.AffineParams
	what   string
	lo, hi float32 // the real range they stand for, when hasRange
	ranged bool
}

const qmin, qmax = -128, 127

// newPlan builds the plan from the calibrated ranges.
func (c *Calibrator) newPlan() (*plan, error) {
	m := c.model
	sg := &m.Subgraphs[0]
	nt := len(sg.Tensors)
	p := &plan{m: m, sg: sg, rules: c.rules, constUse: map[use]int{}, requant: map[use]bool{},
		consumers: make([][]int, nt)}
	p.grow(nt)

	producer := make([]int, nt)
	for i := range producer {
		producer[i] = -1
	}
	for i := range sg.Operators {
		producer[sg.Operators[i].Outputs[0]] = i
	}
	// Calibrated ranges of the activations.
	for t, s := range c.stats {
		if s == nil {
			continue
		}
		lo, hi, err := c.rangeOf(t)
		if err != nil {
			return nil, err
		}
		if j := producer[t]; j >= 0 {
			op := &sg.Operators[j]
			lo, hi = clampToActivation(lo, hi, outputActivation(m.OperatorCodes[op.OpcodeIndex].Builtin, op.Options))
		}
		p.lo[t], p.hi[t], p.hasRange[t] = lo, hi, true
	}
	if r := c.opts.InputRange; r != nil {
		in := sg.Inputs[0]
		lo, hi := float32(r[0]), float32(r[1])
		ap, err := quant.ChooseAffine(lo, hi, qmin, qmax)
		if err != nil {
			return nil, fmt.Errorf("ptq: input range: %w", err)
		}
		p.fixed[in] = &fixedParams{p: ap, what: "input range", lo: lo, hi: hi, ranged: true}
	}

	// Constant data inputs get a node of their own, ranged by their values.
	for i := range sg.Operators {
		op := &sg.Operators[i]
		r := p.rules[i]
		for pos, t := range op.Inputs {
			if t < 0 || !r.isData(pos) {
				continue
			}
			p.consumers[t] = append(p.consumers[t], i)
			data := m.Buffer(sg.Tensors[t].Buffer)
			if len(data) == 0 {
				continue
			}
			lo, hi, ok := quant.MinMax(floats(data))
			if !ok {
				return nil, p.fail(i, "constant input %d (%q) has no finite value", pos, sg.Tensors[t].Name)
			}
			n := p.grow(1)
			p.lo[n], p.hi[n], p.hasRange[n] = lo, hi, true
			p.constUse[use{i, pos}] = n
		}
	}

	// Fixed outputs, then the groups of operators whose output shares its
	// input's parameters.
	for i := range sg.Operators {
		op := &sg.Operators[i]
		r := p.rules[i]
		switch r.kind {
		case kindFixed:
			name := p.opName(i)
			p.fixed[op.Outputs[0]] = &fixedParams{p: r.fixed, what: name + " output"}
		case kindShare:
			if err := p.union(op.Outputs[0], p.node(i, 0)); err != nil {
				return nil, p.fail(i, "%v", err)
			}
		}
	}
	// Concatenations last, so that mergeable sees the complete sharing
	// groups.
	for i := range sg.Operators {
		if p.rules[i].kind != kindConcat {
			continue
		}
		op := &sg.Operators[i]
		target := op.Outputs[0]
		for pos := range op.Inputs {
			n := p.node(i, pos)
			if p.find(n) == p.find(target) {
				continue
			}
			_, isConst := p.constUse[use{i, pos}]
			if isConst || p.mergeable(n, i) {
				if err := p.union(target, n); err != nil {
					return nil, p.fail(i, "%v", err)
				}
				continue
			}
			p.requant[use{i, pos}] = true
		}
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return p, nil
}

// grow adds k nodes and returns the index of the first.
func (p *plan) grow(k int) int {
	first := len(p.parent)
	for i := range k {
		p.parent = append(p.parent, first+i)
	}
	p.lo = append(p.lo, make([]float32, k)...)
	p.hi = append(p.hi, make([]float32, k)...)
	p.hasRange = append(p.hasRange, make([]bool, k)...)
	p.fixed = append(p.fixed, make([]*fixedParams, k)...)
	return first
}

// node is the node of input pos of operator op.
func (p *plan) node(op, pos int) int {
	if n, ok := p.constUse[use{op, pos}]; ok {
		return n
	}
	return p.sg.Operators[op].Inputs[pos]
}

func (p *plan) find(n int) int {
	for p.parent[n] != n {
		p.parent[n] = p.parent[p.parent[n]]
		n = p.parent[n]
	}
	return n
}

// union joins the groups of a and b. Two different fixed parameter sets
// cannot be joined.
func (p *plan) union(a, b int) error {
	ra, rb := p.find(a), p.find(b)
	if ra == rb {
		return nil
	}
	fa, fb := p.fixed[ra], p.fixed[rb]
	if fa != nil && fb != nil && fa.p != fb.p {
		return fmt.Errorf("tensors need both the %s parameters (scale %g, zero point %d) and the %s ones (scale %g, zero point %d)",
			fa.what, fa.p.Scale, fa.p.ZeroPoint, fb.what, fb.p.Scale, fb.p.ZeroPoint)
	}
	p.parent[rb] = ra
	if fa == nil {
		p.fixed[ra] = fb
	}
	return nil
}

// mergeable reports whether the group of node n may take the parameters
// of concatenation op's output: it must not have fixed parameters, and
// every reader of its tensors must be op itself or an operator inside the
// group (so that the wider range costs nobody else resolution). Otherwise
// the input is requantised in front of the concatenation, as TensorFlow
// always does.
func (p *plan) mergeable(n, op int) bool {
	r := p.find(n)
	if p.fixed[r] != nil {
		return false
	}
	for t := range p.sg.Tensors {
		if p.find(t) != r {
			continue
		}
		for _, j := range p.consumers[t] {
			if j != op && p.find(p.sg.Operators[j].Outputs[0]) != r {
				return false
			}
		}
	}
	return true
}

// finish chooses each group's parameters.
func (p *plan) finish() error {
	p.params = map[int]quant.AffineParams{}
	p.ranges = map[int][2]float32{}
	type span struct {
		lo, hi float32
		ok     bool
	}
	spans := map[int]*span{}
	for n := range p.parent {
		if !p.hasRange[n] {
			continue
		}
		r := p.find(n)
		s := spans[r]
		if s == nil {
			s = &span{lo: p.lo[n], hi: p.hi[n], ok: true}
			spans[r] = s
		}
		s.lo, s.hi = min(s.lo, p.lo[n]), max(s.hi, p.hi[n])
	}
	for n := range p.parent {
		if p.find(n) != n {
			continue
		}
		if f := p.fixed[n]; f != nil {
			p.params[n] = f.p
			if f.ranged {
				p.ranges[n] = [2]float32{f.lo, f.hi}
			}
			continue
		}
		s := spans[n]
		if s == nil {
			continue // a node nobody reads or writes as real values
		}
		ap, err := quant.ChooseAffine(s.lo, s.hi, qmin, qmax)
		if err != nil {
			name := "a constant"
			if n < len(p.sg.Tensors) {
				name = fmt.Sprintf("tensor %q", p.sg.Tensors[n].Name)
			}
			return fmt.Errorf("ptq: %s: %w", name, err)
		}
		p.params[n] = ap
		p.ranges[n] = [2]float32{min(s.lo, 0), max(s.hi, 0)}
	}
	return nil
}

// paramsOf returns the parameters of node n's group, and the real range
// they were chosen from when there is one.
func (p *plan) paramsOf(n int) (quant.AffineParams, [2]float32, bool) {
	r := p.find(n)
	rg, ok := p.ranges[r]
	return p.params[r], rg, ok
}

func (p *plan) opName(i int) string {
	return p.m.OperatorCodes[p.sg.Operators[i].OpcodeIndex].Name()
}

func (p *plan) fail(i int, format string, a ...any) error {
	return &UnsupportedError{Index: i, Op: p.opName(i), Reason: fmt.Sprintf(format, a...)}
}

// floats decodes a little-endian float32 buffer.
func floats(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}
