package inspect

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// Edge TPU verdicts.
const (
	// Compatible: every operator of the graph can map to the Edge TPU.
	Compatible = "compatible"
	// Partial: the leading operators can map; from the first offending
	// one on, the compiler leaves the graph to the CPU.
	Partial = "partial"
	// Incompatible: nothing maps (the first operator offends, or the
	// model as a whole does).
	Incompatible = "incompatible"
	// Compiled: the model already went through the Edge TPU compiler.
	Compiled = "compiled"
)

// EdgeTPUCustomOp is the custom operator the Edge TPU compiler replaces
// the mapped part of a graph with.
const EdgeTPUCustomOp = "edgetpu-custom-op"

// EdgeTPU is the Edge TPU compatibility verdict of a model.
type EdgeTPU struct {
	Verdict  string    `json:"verdict"`
	Summary  string    `json:"summary"`
	Offences []Offence `json:"offences"`
	Notes    []string  `json:"notes,omitempty"`
}

// Offence is one reason an operator (or, with Op -1, the whole model)
// cannot run on the Edge TPU. An operator can have several.
type Offence struct {
	Op     int    `json:"op"`
	Name   string `json:"name,omitempty"`
	Reason string `json:"reason"`
}

// edgeTPUOps is the supported-operations table of Coral's "TensorFlow
// models on the Edge TPU" (compiler version 16), by TFLite builtin name.
// The table's "LSTM (unidirectional only)" is UNIDIRECTIONAL_SEQUENCE_LSTM.
var edgeTPUOps = map[string]bool{
	"ADD": true, "AVERAGE_POOL_2D": true, "CONCATENATION": true, "CONV_2D": true,
	"DEPTHWISE_CONV_2D": true, "EXPAND_DIMS": true, "FULLY_CONNECTED": true,
	"L2_NORMALIZATION": true, "LOGISTIC": true, "UNIDIRECTIONAL_SEQUENCE_LSTM": true,
	"MAXIMUM": true, "MAX_POOL_2D": true, "MEAN": true, "MINIMUM": true, "MUL": true,
	"PACK": true, "PAD": true, "PRELU": true, "QUANTIZE": true, "REDUCE_MAX": true,
	"REDUCE_MIN": true, "RELU": true, "RELU6": true, "RELU_N1_TO_1": true, "RESHAPE": true,
	"RESIZE_BILINEAR": true, "RESIZE_NEAREST_NEIGHBOR": true, "RSQRT": true, "SLICE": true,
	"SOFTMAX": true, "SPACE_TO_DEPTH": true, "SPLIT": true, "SQUEEZE": true,
	"SQUARED_DIFFERENCE": true, "STRIDED_SLICE": true, "SUB": true, "SUM": true,
	"TANH": true, "TRANSPOSE": true, "TRANSPOSE_CONV": true,
}

// paramInputs lists, per operator, the input positions that hold
// parameters rather than data: biases and shape, axis, padding or slice
// constants. Only these may be int32, and they must be constants.
var paramInputs = map[string][]int{
	"CONV_2D": {2}, "DEPTHWISE_CONV_2D": {2}, "FULLY_CONNECTED": {2}, "TRANSPOSE_CONV": {0, 3},
	"RESHAPE": {1}, "PAD": {1}, "PADV2": {1}, "MEAN": {1}, "SUM": {1}, "REDUCE_MAX": {1},
	"REDUCE_MIN": {1}, "REDUCE_PROD": {1}, "STRIDED_SLICE": {1, 2, 3}, "SLICE": {1, 2},
	"TRANSPOSE": {1}, "RESIZE_BILINEAR": {1}, "RESIZE_NEAREST_NEIGHBOR": {1},
	"EXPAND_DIMS": {1}, "SPLIT": {0}, "SPLIT_V": {1, 2}, "MIRROR_PAD": {1},
	// The four gate biases and the projection bias.
	"UNIDIRECTIONAL_SEQUENCE_LSTM": {12, 13, 14, 15, 17},
}

// weightInputs lists the inputs that are model parameters (weights and
// biases), which the compiler needs as compile-time constants.
var weightInputs = map[string][]int{
	"CONV_2D": {1, 2}, "DEPTHWISE_CONV_2D": {1, 2}, "FULLY_CONNECTED": {1, 2}, "TRANSPOSE_CONV": {1, 3},
}

// CheckEdgeTPU judges whether the Edge TPU compiler can map m's
// operators; see the package documentation for the rules and sources.
func CheckEdgeTPU(m *tfl.Model) EdgeTPU {
	v := EdgeTPU{Offences: []Offence{}}
	if len(m.Subgraphs) == 0 {
		// tfl.Parse refuses such files; a model built in code may not.
		v.Verdict, v.Summary = Incompatible, "not compatible: the model has no graph"
		v.Offences = append(v.Offences, Offence{Op: -1, Reason: "the model has no subgraph"})
		return v
	}
	sg := &m.Subgraphs[0]
	compiled, cpu := 0, 0
	for _, op := range sg.Operators {
		if c := m.OperatorCodes[op.OpcodeIndex]; c.Builtin == tfl.OpCustom && c.Custom == EdgeTPUCustomOp {
			compiled++
		} else {
			cpu++
		}
	}
	if compiled > 0 {
		v.Verdict = Compiled
		v.Summary = fmt.Sprintf("already compiled for the Edge TPU: %d %s operator(s) hold the mapped graph, %d other operator(s) run on the CPU",
			compiled, EdgeTPUCustomOp, cpu)
		return v
	}
	if n := len(m.Subgraphs); n > 1 {
		v.Offences = append(v.Offences, Offence{Op: -1, Reason: fmt.Sprintf(
			"the model has %d subgraphs (control flow); the Edge TPU compiler supports one", n)})
	}
	dynBatch := 0
	countedBatch := map[int]bool{}
	for i := range sg.Operators {
		op := &sg.Operators[i]
		name := m.OperatorCodes[op.OpcodeIndex].Name()
		bad := func(format string, a ...any) {
			v.Offences = append(v.Offences, Offence{Op: i, Name: name, Reason: fmt.Sprintf(format, a...)})
		}
		if !edgeTPUOps[name] {
			bad("%s is not among the Edge TPU's supported operations", name)
		}
		// Tensor offences are grouped per kind so a float model gives one
		// line per operator, not one per tensor.
		var byType = map[string][]string{}
		var types, int32s, runtimeParams, runtimeWeights, dynamic, rank []string
		for pos, ti := range slices.Concat(op.Inputs, op.Outputs) {
			if ti < 0 {
				continue
			}
			t := &sg.Tensors[ti]
			isInput := pos < len(op.Inputs)
			constant := len(m.Buffer(t.Buffer)) > 0
			ref := fmt.Sprintf("t%d %s%s", ti, t.Type, dims(t.Shape))
			switch {
			case t.Type == tfl.Int8 || t.Type == tfl.Uint8:
			case t.Type == tfl.Int32 && isInput && slices.Contains(paramInputs[name], pos):
				if !constant {
					runtimeParams = append(runtimeParams, ref)
				}
			case t.Type == tfl.Int32:
				int32s = append(int32s, ref)
			default:
				k := t.Type.String()
				if byType[k] == nil {
					types = append(types, k)
				}
				byType[k] = append(byType[k], ref)
			}
			if isInput && !constant && slices.Contains(weightInputs[name], pos) {
				runtimeWeights = append(runtimeWeights, ref)
			}
			for d, s := range t.ShapeSignature {
				if s >= 0 {
					continue
				}
				if d > 0 {
					dynamic = append(dynamic, fmt.Sprintf("%s (signature %s)", ref, dims(t.ShapeSignature)))
					break
				}
				if !countedBatch[ti] {
					countedBatch[ti] = true
					dynBatch++
				}
			}
			if !constant && len(t.Shape) > 3 && slices.ContainsFunc(t.Shape[:len(t.Shape)-3], func(d int) bool { return d != 1 }) {
				rank = append(rank, ref)
			}
		}
		for _, k := range types {
			bad("%s %s; the Edge TPU needs every tensor int8 or uint8 (full-integer quantisation)", list(byType[k]), k)
		}
		if len(int32s) > 0 {
			bad("%s int32; the Edge TPU takes int32 only for biases and constant shape, axis and padding parameters", list(int32s))
		}
		if len(runtimeParams) > 0 {
			bad("%s computed at run time; the Edge TPU needs bias and shape parameters to be constants", list(runtimeParams))
		}
		if len(runtimeWeights) > 0 {
			bad("%s computed at run time but holds weights; the Edge TPU needs model parameters to be constants", list(runtimeWeights))
		}
		if len(dynamic) > 0 {
			bad("%s dynamic in a dimension other than the batch; the Edge TPU needs static sizes", list(dynamic))
		}
		if len(rank) > 0 {
			bad("%s larger than 1 outside its 3 innermost dimensions (a batch above 1?); the Edge TPU maps only those 3", list(rank))
		}
		checkOpLimits(m, sg, op, name, bad)
	}
	if dynBatch > 0 {
		v.Notes = append(v.Notes, fmt.Sprintf(
			"%d tensor(s) have a dynamic batch dimension (-1 in the shape signature, as TensorFlow writes for Keras models); "+
				"this is accepted: the compiler compiles for the batch of the stored shape, which must be 1", dynBatch))
	}
	first := -2
	ops := map[int]bool{}
	for _, o := range v.Offences {
		if first == -2 || o.Op < first {
			first = o.Op
		}
		ops[o.Op] = true
	}
	n := len(sg.Operators)
	switch {
	case first == -2:
		v.Verdict = Compatible
		v.Summary = fmt.Sprintf("all %d operators can map to the Edge TPU", n)
	case first <= 0:
		v.Verdict = Incompatible
		v.Summary = fmt.Sprintf("not compatible: %d of %d operators offend", len(ops)-boolInt(ops[-1]), n)
		if ops[-1] {
			v.Summary += ", and the model as a whole does"
		} else {
			v.Summary += "; the first one does, so nothing maps (the compiler cuts the graph at the first unsupported operator)"
		}
	default:
		v.Verdict = Partial
		mapped := "operator 0 can map"
		if first > 1 {
			mapped = fmt.Sprintf("operators 0 to %d can map", first-1)
		}
		v.Summary = fmt.Sprintf("partly compatible: %d of %d operators offend; %s, from operator %d on the graph runs on the CPU (the compiler cuts it at the first unsupported operator)",
			len(ops), n, mapped, first)
	}
	return v
}

// list prints tensor references with the verb agreeing: "t0 float32[1,2]
// is", "t0 ..., t3 ... are".
func list(refs []string) string {
	if len(refs) == 1 {
		return "tensor " + refs[0] + " is"
	}
	return "tensors " + strings.Join(refs, ", ") + " are"
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkOpLimits applies the "known limitations" column of Coral's table
// that a model file lets us check.
func checkOpLimits(m *tfl.Model, sg *tfl.Subgraph, op *tfl.Operator, name string, bad func(string, ...any)) {
	switch o := op.Options.(type) {
	case *tfl.Pool2DOptions:
		if o.Activation != tfl.ActNone {
			bad("fused activation %s: the Edge TPU's %s takes none", o.Activation, name)
		}
	case *tfl.ConcatenationOptions:
		if o.Activation != tfl.ActNone {
			bad("fused activation %s: the Edge TPU's %s takes none", o.Activation, name)
		}
	case *tfl.Conv2DOptions:
		if o.DilationH != o.DilationW {
			bad("dilation %s differs in x and y; the Edge TPU needs the same in both", hw(o.DilationH, o.DilationW))
		}
	case *tfl.DepthwiseConv2DOptions:
		if o.DilationH != o.DilationW {
			bad("dilation %s differs in x and y; the Edge TPU needs the same in both", hw(o.DilationH, o.DilationW))
		}
	case *tfl.FullyConnectedOptions:
		if o.WeightsFormat != 0 {
			bad("weights format %d: the Edge TPU supports only the default format", o.WeightsFormat)
		}
		if len(op.Outputs) > 0 {
			out := sg.Tensors[op.Outputs[0]].Shape
			if nonUnit(out) > 1 {
				bad("output %s is not one-dimensional (a batch above 1?); the Edge TPU's FULLY_CONNECTED needs a 1-D output", dims(out))
			}
		}
	}
	switch name {
	case "MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN":
		if len(op.Inputs) < 2 || op.Inputs[0] < 0 || op.Inputs[1] < 0 {
			return
		}
		in := sg.Tensors[op.Inputs[0]].Shape
		axes, ok := constInts(m, &sg.Tensors[op.Inputs[1]])
		if !ok {
			return
		}
		for _, a := range axes {
			if a < 0 {
				a += len(in)
			}
			if a == 0 && len(in) > 1 {
				bad("reduces the batch dimension; the Edge TPU cannot")
			}
			if len(in) == 4 && a == 3 && in[3]%4 != 0 {
				bad("reduces the channel (z) dimension of size %d; the Edge TPU needs it a multiple of 4", in[3])
			}
		}
	case "PAD":
		if len(op.Inputs) < 2 || op.Inputs[1] < 0 {
			return
		}
		pads, ok := constInts(m, &sg.Tensors[op.Inputs[1]])
		if ok && len(pads) >= 2 && (pads[0] != 0 || pads[1] != 0) {
			bad("pads the batch dimension; the Edge TPU cannot")
		}
	}
}

func nonUnit(shape []int) int {
	n := 0
	for _, d := range shape {
		if d != 1 {
			n++
		}
	}
	return n
}

// constInts reads a constant int32 tensor (axes, paddings).
func constInts(m *tfl.Model, t *tfl.Tensor) ([]int, bool) {
	data := m.Buffer(t.Buffer)
	if t.Type != tfl.Int32 || len(data) == 0 || len(data)%4 != 0 {
		return nil, false
	}
	out := make([]int, len(data)/4)
	for i := range out {
		out[i] = int(int32(binary.LittleEndian.Uint32(data[4*i:])))
	}
	return out, true
}
