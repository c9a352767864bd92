package native

import (
	"fmt"
	"math"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// maxTensorBytes and maxArenaBytes bound what a model may ask for. A model
// file is untrusted input: shapes are just numbers in it, and a corrupt or
// hostile one would otherwise make New allocate gigabytes (or overflow int
// on 32-bit boards). No image classifier needs more.
const (
	maxTensorBytes = 1 << 30
	maxArenaBytes  = math.MaxInt32
)

// checkDataflow checks that operators run in the order the file lists
// them: every tensor an operator reads already holds data (a model input,
// a constant, a variable, or the output of an earlier operator), and every
// non-constant tensor is written once. The kernels rely on this; a graph
// that breaks it would read stale memory or write a tensor twice.
func checkDataflow(m *tfl.Model, sg *tfl.Subgraph) error {
	const (
		empty = iota
		ready // model input, constant or variable
		written
	)
	state := make([]uint8, len(sg.Tensors))
	writer := make([]int, len(sg.Tensors))
	for i, t := range sg.Tensors {
		if t.IsVariable || len(m.Buffer(t.Buffer)) > 0 {
			state[i] = ready
		}
	}
	for _, i := range sg.Inputs {
		state[i] = ready
	}
	name := func(op int) string {
		return m.OperatorCodes[sg.Operators[op].OpcodeIndex].Name()
	}
	for k, op := range sg.Operators {
		for _, ti := range op.Inputs {
			if ti >= 0 && state[ti] == empty {
				return fmt.Errorf("native: operator %d (%s) reads tensor %q before any operator writes it: the graph is not in execution order",
					k, name(k), sg.Tensors[ti].Name)
			}
		}
		for _, ti := range op.Outputs {
			switch state[ti] {
			case written:
				return fmt.Errorf("native: tensor %q is written by operator %d (%s) and again by operator %d (%s)",
					sg.Tensors[ti].Name, writer[ti], name(writer[ti]), k, name(k))
			case ready:
				if !sg.Tensors[ti].IsVariable {
					return fmt.Errorf("native: operator %d (%s) writes to model input or constant %q", k, name(k), sg.Tensors[ti].Name)
				}
			}
			state[ti], writer[ti] = written, k
		}
	}
	for _, ti := range sg.Outputs {
		if state[ti] == empty {
			return fmt.Errorf("native: model output %q is never written", sg.Tensors[ti].Name)
		}
	}
	return nil
}

// checkSize refuses a tensor whose shape needs more than maxTensorBytes,
// computing the size without overflow.
func checkSize(t *Tensor) error {
	n := t.Type.Size()
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("tensor %q has negative dimension in shape %v", t.Name, t.Shape)
		}
		if d > 0 && n > maxTensorBytes/d {
			return fmt.Errorf("tensor %q of shape %v needs more than %d MiB: a malformed model, or far too big for a board",
				t.Name, t.Shape, maxTensorBytes>>20)
		}
		n *= d
	}
	return nil
}
