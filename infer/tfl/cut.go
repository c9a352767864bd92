package tfl

import (
	"fmt"
	"slices"
)

// WithOutputs returns a model that computes the given tensors of subgraph 0
// as its outputs: a feature extractor cut out of a classifier, say. The
// result has the same inputs (in the same order, so callers feed it the
// same data) and keeps only the operators needed for the requested
// tensors, in their original order; tensors, buffers and operator codes no
// longer used are dropped and the rest renumbered. Only subgraph 0 is
// kept.
//
// Constant data, options and quantisation parameters are shared with m,
// not copied; neither model may be modified afterwards. The TFLite support
// metadata entry (TFLITE_METADATA) is dropped because it describes the
// original outputs; other metadata is kept.
func (m *Model) WithOutputs(outputs ...int) (*Model, error) {
	if len(m.Subgraphs) == 0 {
		return nil, fmt.Errorf("tflite: with outputs: model has no subgraph")
	}
	if len(outputs) == 0 {
		return nil, fmt.Errorf("tflite: with outputs: no output tensor given")
	}
	sg := &m.Subgraphs[0]
	nt := len(sg.Tensors)
	needed := make([]bool, nt)
	for i, t := range outputs {
		if t < 0 || t >= nt {
			return nil, fmt.Errorf("tflite: with outputs: output %d is tensor %d of %d", i, t, nt)
		}
		if slices.Contains(outputs[:i], t) {
			return nil, fmt.Errorf("tflite: with outputs: tensor %d (%q) is given twice", t, sg.Tensors[t].Name)
		}
		needed[t] = true
	}
	for _, t := range sg.Inputs {
		if t < 0 || t >= nt {
			return nil, fmt.Errorf("tflite: with outputs: subgraph input refers to tensor %d of %d", t, nt)
		}
	}

	// Walk the operators backwards marking producers of needed tensors and
	// their inputs. Operators are stored in execution order, so one pass
	// suffices; repeating until nothing changes also copes with a file
	// that lists them out of order.
	keep := make([]bool, len(sg.Operators))
	for changed := true; changed; {
		changed = false
		for i := len(sg.Operators) - 1; i >= 0; i-- {
			op := &sg.Operators[i]
			if keep[i] || !slices.ContainsFunc(op.Outputs, func(t int) bool { return t >= 0 && t < nt && needed[t] }) {
				continue
			}
			keep[i] = true
			changed = true
			for _, t := range slices.Concat(op.Inputs, op.Outputs) {
				if t == -1 {
					continue
				}
				if t < 0 || t >= nt {
					return nil, fmt.Errorf("tflite: with outputs: operator %d refers to tensor %d of %d", i, t, nt)
				}
				needed[t] = true
			}
			if op.OpcodeIndex < 0 || op.OpcodeIndex >= len(m.OperatorCodes) {
				return nil, fmt.Errorf("tflite: with outputs: operator %d has opcode index %d of %d", i, op.OpcodeIndex, len(m.OperatorCodes))
			}
		}
	}
	for _, t := range sg.Inputs {
		needed[t] = true
	}

	// Renumber what is kept, preserving order. Buffer 0 stays first: it is
	// the conventional empty buffer every non-constant tensor points at.
	tensorIdx := renumber(needed)
	usedBuf := make([]bool, max(len(m.Buffers), 1))
	usedBuf[0] = true
	for i, t := range sg.Tensors {
		if needed[i] && t.Buffer > 0 && t.Buffer < len(m.Buffers) {
			usedBuf[t.Buffer] = true
		}
	}
	var metadata []Metadata
	for _, md := range m.Metadata {
		if md.Name == "TFLITE_METADATA" || md.Buffer < 0 || md.Buffer >= len(m.Buffers) {
			continue
		}
		usedBuf[md.Buffer] = true
		metadata = append(metadata, md)
	}
	bufIdx := renumber(usedBuf)
	usedCode := make([]bool, len(m.OperatorCodes))
	for i, op := range sg.Operators {
		if keep[i] {
			usedCode[op.OpcodeIndex] = true
		}
	}
	codeIdx := renumber(usedCode)

	out := &Model{Version: m.Version, Description: m.Description}
	for i, c := range m.OperatorCodes {
		if usedCode[i] {
			out.OperatorCodes = append(out.OperatorCodes, c)
		}
	}
	out.Buffers = make([][]byte, 0, len(usedBuf))
	for i, u := range usedBuf {
		if u {
			out.Buffers = append(out.Buffers, m.Buffer(i))
		}
	}
	for _, md := range metadata {
		out.Metadata = append(out.Metadata, Metadata{Name: md.Name, Buffer: bufIdx[md.Buffer]})
	}
	mapTensors := func(ts []int) []int {
		r := make([]int, len(ts))
		for i, t := range ts {
			r[i] = -1
			if t >= 0 {
				r[i] = tensorIdx[t]
			}
		}
		return r
	}
	nsg := Subgraph{Name: sg.Name, Inputs: mapTensors(sg.Inputs), Outputs: mapTensors(outputs)}
	for i, t := range sg.Tensors {
		if !needed[i] {
			continue
		}
		if t.Buffer > 0 && t.Buffer < len(m.Buffers) {
			t.Buffer = bufIdx[t.Buffer]
		}
		nsg.Tensors = append(nsg.Tensors, t)
	}
	for i, op := range sg.Operators {
		if !keep[i] {
			continue
		}
		op.OpcodeIndex = codeIdx[op.OpcodeIndex]
		op.Inputs = mapTensors(op.Inputs)
		op.Outputs = mapTensors(op.Outputs)
		nsg.Operators = append(nsg.Operators, op)
	}
	out.Subgraphs = []Subgraph{nsg}
	return out, nil
}

// renumber maps each kept index to its position among the kept ones; the
// entries of dropped indices are -1.
func renumber(kept []bool) []int {
	idx := make([]int, len(kept))
	n := 0
	for i, k := range kept {
		idx[i] = -1
		if k {
			idx[i] = n
			n++
		}
	}
	return idx
}
