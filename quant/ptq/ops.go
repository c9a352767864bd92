package ptq

import (
	"fmt"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// kind is how an operator's output gets its quantisation parameters.
type kind int

const (
	// kindWeights: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED. Input 0
	// is an activation, input 1 constant weights (symmetric int8), input 2
	// an optional constant bias (int32, scale s_in × s_w); the output has
	// its own calibrated range.
	kindWeights kind = iota
	// kindFree: the output has its own calibrated range and the kernel
	// rescales (ADD, SUB, MUL, MEAN, RELU*, LEAKY_RELU, HARD_SWISH).
	kindFree
	// kindShare: the output must have its input's scale and zero point
	// (pooling and data movement: the int8 kernels copy or compare codes
	// without rescaling).
	kindShare
	// kindFixed: the output parameters are fixed by the kernel (SOFTMAX,
	// LOGISTIC, TANH).
	kindFixed
	// kindConcat: every input and the output share one scale and zero
	// point (TFLite 2.9's int8 CONCATENATION refuses anything else).
	kindConcat
)

// opRule is what the quantiser knows about one builtin operator.
type opRule struct {
	kind kind
	// data lists the input positions that carry real values; the others
	// (shapes, axes, paddings, permutations) are integer constants copied
	// as they are. nil means every input.
	data []int
	// fixed are the output parameters of a kindFixed operator.
	fixed quant.AffineParams
	// weightAxis is the per-channel axis of kindWeights weights, -1 for
	// per-tensor; weightRank their rank.
	weightAxis, weightRank int
}

// rules lists every operator the quantiser handles, with the spec's
// (quantization_spec.md) and TensorFlow's (operator_property.cc) int8
// constraints.
var rules = map[tfl.BuiltinOp]opRule{
	tfl.OpConv2D:         {kind: kindWeights, data: []int{0}, weightAxis: 0, weightRank: 4},
	tfl.OpDepthwiseConv:  {kind: kindWeights, data: []int{0}, weightAxis: 3, weightRank: 4},
	tfl.OpFullyConnected: {kind: kindWeights, data: []int{0}, weightAxis: -1, weightRank: 2},

	tfl.OpAdd:           {kind: kindFree, data: []int{0, 1}},
	tfl.OpSub:           {kind: kindFree, data: []int{0, 1}},
	tfl.OpMul:           {kind: kindFree, data: []int{0, 1}},
	tfl.OpMean:          {kind: kindFree, data: []int{0}},
	tfl.OpRelu:          {kind: kindFree, data: []int{0}},
	tfl.OpRelu6:         {kind: kindFree, data: []int{0}},
	tfl.OpReluN1To1:     {kind: kindFree, data: []int{0}},
	tfl.OpLeakyRelu:     {kind: kindFree, data: []int{0}},
	tfl.OpPrelu:         {kind: kindFree, data: []int{0, 1}}, // constant alpha quantised like ADD's constants (asymmetric, from its values)
	tfl.OpHardSwish:     {kind: kindFree, data: []int{0}},
	tfl.OpMaxPool2D:     {kind: kindShare, data: []int{0}},
	tfl.OpAveragePool2D: {kind: kindShare, data: []int{0}},
	tfl.OpReshape:       {kind: kindShare, data: []int{0}},
	tfl.OpSqueeze:       {kind: kindShare, data: []int{0}},
	tfl.OpPad:           {kind: kindShare, data: []int{0}},
	tfl.OpTranspose:     {kind: kindShare, data: []int{0}},

	tfl.OpSoftmax:  {kind: kindFixed, data: []int{0}, fixed: quant.AffineParams{Scale: 1.0 / 256, ZeroPoint: -128}},
	tfl.OpLogistic: {kind: kindFixed, data: []int{0}, fixed: quant.AffineParams{Scale: 1.0 / 256, ZeroPoint: -128}},
	tfl.OpTanh:     {kind: kindFixed, data: []int{0}, fixed: quant.AffineParams{Scale: 1.0 / 128, ZeroPoint: 0}},

	tfl.OpConcatenation: {kind: kindConcat},
}

// isData reports whether input position i of an operator with rule r
// carries real values.
func (r *opRule) isData(i int) bool {
	if r.data == nil {
		return true
	}
	for _, d := range r.data {
		if d == i {
			return true
		}
	}
	return false
}

// fusedActivation returns the fused activation of an operator, ActNone for
// operators without one.
func fusedActivation(opts any) tfl.Activation {
	switch o := opts.(type) {
	case *tfl.Conv2DOptions:
		return o.Activation
	case *tfl.DepthwiseConv2DOptions:
		return o.Activation
	case *tfl.FullyConnectedOptions:
		return o.Activation
	case *tfl.Pool2DOptions:
		return o.Activation
	case *tfl.ActivationOptions:
		return o.Activation
	case *tfl.ConcatenationOptions:
		return o.Activation
	}
	return tfl.ActNone
}

// clampToActivation narrows a range to what an activation lets through.
// Calibrated ranges are taken after the activation already, so this only
// matters where a range did not come from the activation's output (a
// percentile bound, say); it keeps ranges and kernels consistent.
func clampToActivation(lo, hi float32, act tfl.Activation) (float32, float32) {
	switch act {
	case tfl.ActRelu:
		lo, hi = max(lo, 0), max(hi, 0)
	case tfl.ActRelu6:
		lo, hi = min(max(lo, 0), 6), min(max(hi, 0), 6)
	case tfl.ActReluN1To1:
		lo, hi = min(max(lo, -1), 1), min(max(hi, -1), 1)
	}
	return lo, hi
}

// outputActivation is the activation applied to an operator's output:
// its fused one, or the operator itself for the standalone RELUs.
func outputActivation(code tfl.BuiltinOp, opts any) tfl.Activation {
	switch code {
	case tfl.OpRelu:
		return tfl.ActRelu
	case tfl.OpRelu6:
		return tfl.ActRelu6
	case tfl.OpReluN1To1:
		return tfl.ActReluN1To1
	}
	return fusedActivation(opts)
}

// checkOps validates every operator of subgraph 0 against the rules and
// returns each operator's rule.
func checkOps(m *tfl.Model) ([]*opRule, error) {
	sg := &m.Subgraphs[0]
	out := make([]*opRule, len(sg.Operators))
	for i := range sg.Operators {
		r, err := checkOp(m, i)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	if err := checkOrder(m); err != nil {
		return nil, err
	}
	return out, nil
}

// checkOrder requires a graph in execution order, as TFLite runs it: each
// tensor written once, by an operator that comes before every reader.
// The plan gives every tensor the parameters of its one producer.
func checkOrder(m *tfl.Model) error {
	sg := &m.Subgraphs[0]
	written := make([]int, len(sg.Tensors)) // writer + 1, 0 for none
	for _, t := range sg.Inputs {
		written[t] = -1
	}
	for i, op := range sg.Operators {
		name := m.OperatorCodes[op.OpcodeIndex].Name()
		for pos, t := range op.Inputs {
			if t >= 0 && written[t] == 0 && len(m.Buffer(sg.Tensors[t].Buffer)) == 0 {
				return fmt.Errorf("ptq: operator %d (%s) reads tensor %q (input %d) before any operator writes it: the graph is not in execution order",
					i, name, sg.Tensors[t].Name, pos)
			}
		}
		t := op.Outputs[0]
		switch {
		case written[t] < 0:
			return fmt.Errorf("ptq: operator %d (%s) writes the model input %q", i, name, sg.Tensors[t].Name)
		case written[t] > 0:
			return fmt.Errorf("ptq: operator %d (%s) writes tensor %q, which operator %d already wrote", i, name, sg.Tensors[t].Name, written[t]-1)
		}
		written[t] = i + 1
	}
	for k, t := range sg.Outputs {
		if written[t] == 0 || sg.Tensors[t].Type != tfl.Float32 {
			return &UnsupportedError{Index: -1, Reason: fmt.Sprintf(
				"model output %d (%q, %s) is not a float32 tensor computed by the model", k, sg.Tensors[t].Name, sg.Tensors[t].Type)}
		}
	}
	return nil
}

func checkOp(m *tfl.Model, i int) (*opRule, error) {
	sg := &m.Subgraphs[0]
	op := &sg.Operators[i]
	code := m.OperatorCodes[op.OpcodeIndex]
	fail := func(format string, a ...any) error {
		return &UnsupportedError{Index: i, Op: code.Name(), Reason: fmt.Sprintf(format, a...)}
	}
	r, ok := rules[code.Builtin]
	if !ok || code.Builtin == tfl.OpCustom {
		return nil, fail("no int8 quantisation rule for this operator (supported: CONV_2D, DEPTHWISE_CONV_2D, " +
			"FULLY_CONNECTED, ADD, SUB, MUL, MEAN, CONCATENATION, MAX_POOL_2D, AVERAGE_POOL_2D, RESHAPE, SQUEEZE, " +
			"PAD, TRANSPOSE, SOFTMAX, LOGISTIC, TANH, RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU, PRELU, HARD_SWISH)")
	}
	if len(op.Outputs) != 1 {
		return nil, fail("%d outputs, want 1", len(op.Outputs))
	}
	if t := &sg.Tensors[op.Outputs[0]]; t.Type != tfl.Float32 {
		return nil, fail("output %q is %s, want float32", t.Name, t.Type)
	}
	switch act := fusedActivation(op.Options); act {
	case tfl.ActNone, tfl.ActRelu, tfl.ActRelu6, tfl.ActReluN1To1:
		if act != tfl.ActNone && r.kind == kindConcat {
			// The int8 kernel copies codes; it has nowhere to apply an
			// activation.
			return nil, fail("fused %s on an int8 concatenation is not supported; use a separate activation", act)
		}
	default:
		return nil, fail("fused activation %s has no int8 kernel", act)
	}
	if len(op.Inputs) == 0 || op.Inputs[0] < 0 {
		return nil, fail("input 0 is missing")
	}
	for pos, ti := range op.Inputs {
		if ti < 0 {
			continue
		}
		t := &sg.Tensors[ti]
		isConst := len(m.Buffer(t.Buffer)) > 0
		switch {
		case r.kind == kindWeights && pos > 0:
			// Checked below.
		case r.isData(pos):
			if t.Type != tfl.Float32 {
				return nil, fail("input %d (%q) is %s, want float32", pos, t.Name, t.Type)
			}
		case !isConst:
			return nil, fail("input %d (%q) is computed at run time; int8 models need it constant (static shapes)", pos, t.Name)
		case t.Type == tfl.Float32:
			return nil, fail("input %d (%q) is a float32 constant where an integer one is expected", pos, t.Name)
		}
	}
	if r.kind == kindWeights {
		if err := checkWeights(m, i, &r); err != nil {
			return nil, err
		}
	}
	return &r, nil
}

// checkWeights validates the weights and bias of a CONV_2D,
// DEPTHWISE_CONV_2D or FULLY_CONNECTED.
func checkWeights(m *tfl.Model, i int, r *opRule) error {
	sg := &m.Subgraphs[0]
	op := &sg.Operators[i]
	code := m.OperatorCodes[op.OpcodeIndex]
	fail := func(format string, a ...any) error {
		return &UnsupportedError{Index: i, Op: code.Name(), Reason: fmt.Sprintf(format, a...)}
	}
	if len(op.Inputs) < 2 || op.Inputs[1] < 0 {
		return fail("weights (input 1) are missing")
	}
	if o, ok := op.Options.(*tfl.FullyConnectedOptions); ok && o.WeightsFormat != 0 {
		return fail("weights format %d (shuffled) is not supported; only the default [out, in] layout", o.WeightsFormat)
	}
	w := &sg.Tensors[op.Inputs[1]]
	if w.Type != tfl.Float32 || len(m.Buffer(w.Buffer)) == 0 {
		return fail("weights %q must be a float32 constant (%s, constant %v)", w.Name, w.Type, len(m.Buffer(w.Buffer)) > 0)
	}
	if len(w.Shape) != r.weightRank {
		return fail("weights %q have shape %v, want rank %d", w.Name, w.Shape, r.weightRank)
	}
	channels := w.Shape[0]
	if r.weightAxis > 0 {
		channels = w.Shape[r.weightAxis]
	}
	if len(op.Inputs) > 3 {
		return fail("%d inputs, want at most 3", len(op.Inputs))
	}
	if len(op.Inputs) == 3 && op.Inputs[2] >= 0 {
		b := &sg.Tensors[op.Inputs[2]]
		if b.Type != tfl.Float32 || len(m.Buffer(b.Buffer)) == 0 {
			return fail("bias %q must be a float32 constant (%s)", b.Name, b.Type)
		}
		if len(b.Shape) != 1 || b.Shape[0] != channels {
			return fail("bias %q has shape %v, want [%d]", b.Name, b.Shape, channels)
		}
	}
	return nil
}

// opVersion is the operator version TensorFlow's converter writes for the
// int8 form of an operator (tools/versioning/op_version.cc), given the
// quantised tensors: kernels registered for a lower version would refuse
// the int8 types.
func opVersion(code tfl.BuiltinOp, op *tfl.Operator, ts []tfl.Tensor) int32 {
	rank := func(pos int) int {
		if pos < len(op.Inputs) && op.Inputs[pos] >= 0 {
			return len(ts[op.Inputs[pos]].Shape)
		}
		return 0
	}
	switch code {
	case tfl.OpConv2D, tfl.OpDepthwiseConv:
		return 3
	case tfl.OpFullyConnected:
		if len(op.Inputs) < 3 {
			return 6 // no bias input at all
		}
		if o, ok := op.Options.(*tfl.FullyConnectedOptions); ok && o.KeepNumDims {
			return 5
		}
		return 4
	case tfl.OpMul:
		// Version 3 is the kernel that handles an effective multiplier
		// s1·s2/s_out of 1 or more.
		s := func(ti int) float32 { return ts[ti].Quant.Scale[0] }
		if s(op.Inputs[0])*s(op.Inputs[1])/s(op.Outputs[0]) >= 1 {
			return 3
		}
		return 2
	case tfl.OpSub:
		if rank(0) != rank(1) && max(rank(0), rank(1)) > 4 {
			return 3
		}
		return 2
	case tfl.OpTranspose, tfl.OpPad:
		if rank(0) > 4 {
			return 4
		}
		return 2
	case tfl.OpAdd, tfl.OpAveragePool2D, tfl.OpMaxPool2D, tfl.OpConcatenation, tfl.OpSoftmax, tfl.OpMean,
		tfl.OpRelu, tfl.OpRelu6, tfl.OpLogistic, tfl.OpTanh:
		return 2
	}
	// RESHAPE, SQUEEZE, LEAKY_RELU, PRELU, HARD_SWISH, RELU_N1_TO_1, QUANTIZE.
	return 1
}
