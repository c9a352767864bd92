package ptq

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// Quantize writes the full-integer model from the ranges recorded so far.
// The result is a new model sharing nothing with the float one; the
// Calibrator may go on collecting samples and quantise again.
func (c *Calibrator) Quantize() (*tfl.Model, error) {
	if c.samples == 0 {
		return nil, ErrNoSamples
	}
	p, err := c.newPlan()
	if err != nil {
		return nil, err
	}
	b := &builder{m: c.model, sg: &c.model.Subgraphs[0], p: p, opts: c.opts,
		tmap: map[int]int{}, consts: map[constKey]int{}}
	out, err := b.build()
	if err != nil {
		return nil, err
	}
	// Every rule above targets kernels the native engine implements as
	// TFLite does; a model it cannot load would be a bug here, better
	// reported now than on the device.
	if _, err := native.New(out, native.Options{}); err != nil {
		return nil, fmt.Errorf("ptq: the quantised model does not load (a bug in the quantiser): %w", err)
	}
	return out, nil
}

// builder assembles the int8 model.
type builder struct {
	m    *tfl.Model
	sg   *tfl.Subgraph
	p    *plan
	opts Options

	buffers [][]byte
	tensors []tfl.Tensor
	ops     []tfl.Operator
	codes   []tfl.BuiltinOp // per op in ops

	tmap   map[int]int      // old tensor -> new, for activations and integer constants
	consts map[constKey]int // quantised copies of float constants
}

type constKey struct {
	t     int
	scale float32
	zp    int32
}

func (b *builder) build() (*tfl.Model, error) {
	b.buffers = [][]byte{nil}
	out := &tfl.Model{Version: b.m.Version, Description: b.m.Description}
	for _, md := range b.m.Metadata {
		out.Metadata = append(out.Metadata, tfl.Metadata{Name: md.Name, Buffer: b.buffer(slices.Clone(b.m.Buffer(md.Buffer)))})
	}
	for i := range b.sg.Operators {
		if err := b.op(i); err != nil {
			return nil, err
		}
	}
	var inputs, outputs []int
	for _, t := range b.sg.Inputs {
		nt, err := b.activation(t)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, nt)
	}
	for _, t := range b.sg.Outputs {
		nt, err := b.activation(t)
		if err != nil {
			return nil, err
		}
		outputs = append(outputs, nt)
	}
	if b.opts.IO == tfl.Uint8 {
		inputs, outputs = b.uint8IO(inputs, outputs)
	}

	// One operator code per builtin, at the highest version its operators
	// need (a kernel registered for version n also runs the lower ones).
	index := map[tfl.BuiltinOp]int{}
	for i := range b.ops {
		code := b.codes[i]
		v := opVersion(code, &b.ops[i], b.tensors)
		k, ok := index[code]
		if !ok {
			k = len(out.OperatorCodes)
			index[code] = k
			out.OperatorCodes = append(out.OperatorCodes, tfl.OperatorCode{Builtin: code, Version: v})
		}
		out.OperatorCodes[k].Version = max(out.OperatorCodes[k].Version, v)
		b.ops[i].OpcodeIndex = k
	}
	out.Subgraphs = []tfl.Subgraph{{Name: b.sg.Name, Tensors: b.tensors, Inputs: inputs, Outputs: outputs, Operators: b.ops}}
	out.Buffers = b.buffers
	return out, nil
}

func (b *builder) buffer(data []byte) int {
	if len(data) == 0 {
		return 0
	}
	b.buffers = append(b.buffers, data)
	return len(b.buffers) - 1
}

func (b *builder) addTensor(t tfl.Tensor) int {
	b.tensors = append(b.tensors, t)
	return len(b.tensors) - 1
}

func (b *builder) addOp(code tfl.BuiltinOp, inputs, outputs []int, opts any) {
	b.ops = append(b.ops, tfl.Operator{Inputs: inputs, Outputs: outputs, Options: opts})
	b.codes = append(b.codes, code)
}

// int8Quant is the per-tensor quantisation of an activation.
func int8Quant(ap quant.AffineParams, rg [2]float32, ranged bool) *tfl.Quantization {
	q := &tfl.Quantization{Scale: []float32{ap.Scale}, ZeroPoint: []int64{int64(ap.ZeroPoint)}}
	if ranged {
		// TensorFlow keeps the calibrated range beside the parameters;
		// tools (and people) read it.
		q.Min, q.Max = []float32{rg[0]}, []float32{rg[1]}
	}
	return q
}

// activation returns the new index of a non-constant tensor, creating its
// int8 form on first use. Shapes are written without a signature: the
// int8 model has static shapes, which the Edge TPU delegate requires.
func (b *builder) activation(t int) (int, error) {
	if nt, ok := b.tmap[t]; ok {
		return nt, nil
	}
	old := &b.sg.Tensors[t]
	ap, rg, ranged := b.p.paramsOf(t)
	if ap.Scale == 0 {
		return 0, fmt.Errorf("ptq: tensor %q has no quantisation parameters (a bug in the quantiser)", old.Name)
	}
	nt := b.addTensor(tfl.Tensor{Name: old.Name, Type: tfl.Int8, Shape: slices.Clone(old.Shape), Quant: int8Quant(ap, rg, ranged)})
	b.tmap[t] = nt
	return nt, nil
}

// intConst copies an integer constant (a shape, axis, padding or
// permutation) once.
func (b *builder) intConst(t int) int {
	if nt, ok := b.tmap[t]; ok {
		return nt
	}
	old := &b.sg.Tensors[t]
	nt := b.addTensor(tfl.Tensor{Name: old.Name, Type: old.Type, Shape: slices.Clone(old.Shape),
		Buffer: b.buffer(slices.Clone(b.m.Buffer(old.Buffer)))})
	b.tmap[t] = nt
	return nt
}

// floatConst quantises a float constant used as a data input with the
// parameters of its group, once per distinct parameters.
func (b *builder) floatConst(t int, ap quant.AffineParams) int {
	key := constKey{t, ap.Scale, ap.ZeroPoint}
	if nt, ok := b.consts[key]; ok {
		return nt
	}
	old := &b.sg.Tensors[t]
	vals := floats(b.m.Buffer(old.Buffer))
	data := make([]byte, len(vals))
	for i, v := range vals {
		data[i] = byte(int8(ap.Quantize(v, qmin, qmax)))
	}
	lo, hi, _ := quant.MinMax(vals)
	nt := b.addTensor(tfl.Tensor{Name: old.Name, Type: tfl.Int8, Shape: slices.Clone(old.Shape),
		Buffer: b.buffer(data), Quant: int8Quant(ap, [2]float32{lo, hi}, true)})
	b.consts[key] = nt
	return nt
}

// dataInput returns the new tensor for real-valued input pos of
// operator i, inserting a requantising QUANTIZE when the plan asks.
func (b *builder) dataInput(i, pos int) (int, error) {
	t := b.sg.Operators[i].Inputs[pos]
	n := b.p.node(i, pos)
	var nt int
	if _, isConst := b.p.constUse[use{i, pos}]; isConst {
		ap, _, _ := b.p.paramsOf(n)
		nt = b.floatConst(t, ap)
	} else {
		var err error
		if nt, err = b.activation(t); err != nil {
			return 0, err
		}
	}
	if !b.p.requant[use{i, pos}] {
		return nt, nil
	}
	// The concatenation's parameters: those of its output's group.
	ap, rg, ranged := b.p.paramsOf(b.sg.Operators[i].Outputs[0])
	old := &b.sg.Tensors[t]
	rq := b.addTensor(tfl.Tensor{Name: old.Name + "_requantized", Type: tfl.Int8, Shape: slices.Clone(old.Shape),
		Quant: int8Quant(ap, rg, ranged)})
	b.addOp(tfl.OpQuantize, []int{nt}, []int{rq}, nil)
	return rq, nil
}

// op writes the int8 form of operator i.
func (b *builder) op(i int) error {
	op := &b.sg.Operators[i]
	r := b.p.rules[i]
	code := b.m.OperatorCodes[op.OpcodeIndex].Builtin
	inputs := make([]int, len(op.Inputs))
	for pos, t := range op.Inputs {
		switch {
		case t < 0:
			inputs[pos] = -1
		case r.kind == kindWeights && pos > 0:
			// Below, once input 0's scale is known.
		case r.isData(pos):
			nt, err := b.dataInput(i, pos)
			if err != nil {
				return err
			}
			inputs[pos] = nt
		default:
			inputs[pos] = b.intConst(t)
		}
	}
	if r.kind == kindWeights {
		if err := b.weights(i, r, inputs); err != nil {
			return err
		}
	}
	outT, err := b.activation(op.Outputs[0])
	if err != nil {
		return err
	}
	b.addOp(code, inputs, []int{outT}, op.Options)
	return nil
}

// weights quantises the weights (input 1) and bias (input 2) of
// operator i: symmetric int8 weights, per channel along r.weightAxis or
// per tensor, and int32 biases with scale s_in × s_w.
func (b *builder) weights(i int, r *opRule, inputs []int) error {
	op := &b.sg.Operators[i]
	fail := func(err error) error { return b.p.fail(i, "%v", err) }
	inAP, _, _ := b.p.paramsOf(b.p.node(i, 0))

	wt := &b.sg.Tensors[op.Inputs[1]]
	w := floats(b.m.Buffer(wt.Buffer))
	scales, err := quant.SymmetricScales(w, wt.Shape, r.weightAxis)
	if err != nil {
		return fail(fmt.Errorf("weights %q: %w", wt.Name, err))
	}
	var bias []float32
	var bt *tfl.Tensor
	if len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
		bt = &b.sg.Tensors[op.Inputs[2]]
		bias = floats(b.m.Buffer(bt.Buffer))
		if _, err := quant.FitBiasScales(scales, bias, inAP.Scale); err != nil {
			return fail(fmt.Errorf("bias %q: %w", bt.Name, err))
		}
	}
	codes := make([]int8, len(w))
	if err := quant.QuantizeSymmetric(codes, w, wt.Shape, r.weightAxis, scales); err != nil {
		return fail(fmt.Errorf("weights %q: %w", wt.Name, err))
	}
	data := make([]byte, len(codes))
	for k, q := range codes {
		data[k] = byte(q)
	}
	wq := &tfl.Quantization{Scale: scales, ZeroPoint: make([]int64, len(scales)), Dim: max(r.weightAxis, 0)}
	inputs[1] = b.addTensor(tfl.Tensor{Name: wt.Name, Type: tfl.Int8, Shape: slices.Clone(wt.Shape),
		Buffer: b.buffer(data), Quant: wq})

	if bt == nil {
		return nil
	}
	q32 := make([]int32, len(bias))
	bscales, saturated, err := quant.QuantizeBias(q32, bias, inAP.Scale, scales)
	if err != nil {
		return fail(fmt.Errorf("bias %q: %w", bt.Name, err))
	}
	if saturated > 0 {
		// FitBiasScales leaves room for every bias; this cannot happen.
		return fail(fmt.Errorf("bias %q: %d values saturate int32 after fitting the weight scales", bt.Name, saturated))
	}
	bdata := make([]byte, 4*len(q32))
	for k, q := range q32 {
		binary.LittleEndian.PutUint32(bdata[4*k:], uint32(q))
	}
	inputs[2] = b.addTensor(tfl.Tensor{Name: bt.Name, Type: tfl.Int32, Shape: slices.Clone(bt.Shape),
		Buffer: b.buffer(bdata), Quant: &tfl.Quantization{Scale: bscales, ZeroPoint: make([]int64, len(bscales))}})
	return nil
}

// uint8IO gives the model uint8 inputs and outputs, as TensorFlow's
// converter does for inference_input_type/inference_output_type uint8: a
// QUANTIZE (uint8 -> int8) after each input and one (int8 -> uint8) before
// each output. The uint8 tensors have the same scale and the zero point
// moved by +128, so the QUANTIZE is exact (a code shift), and take the
// original names; the int8 ones get the suffix "_int8".
func (b *builder) uint8IO(inputs, outputs []int) ([]int, []int) {
	shift := func(t int) tfl.Tensor {
		old := &b.tensors[t]
		q := *old.Quant
		q.ZeroPoint = []int64{q.ZeroPoint[0] + 128}
		u := tfl.Tensor{Name: old.Name, Type: tfl.Uint8, Shape: slices.Clone(old.Shape), Quant: &q}
		old.Name += "_int8"
		return u
	}
	var pre []tfl.Operator
	var preCodes []tfl.BuiltinOp
	newIn := make([]int, len(inputs))
	for k, t := range inputs {
		u := b.addTensor(shift(t))
		pre = append(pre, tfl.Operator{Inputs: []int{u}, Outputs: []int{t}})
		preCodes = append(preCodes, tfl.OpQuantize)
		newIn[k] = u
	}
	b.ops = append(pre, b.ops...)
	b.codes = append(preCodes, b.codes...)
	newOut := make([]int, len(outputs))
	for k, t := range outputs {
		u := b.addTensor(shift(t))
		b.addOp(tfl.OpQuantize, []int{t}, []int{u}, nil)
		newOut[k] = u
	}
	return newIn, newOut
}
