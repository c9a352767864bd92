package tfl

import (
	"fmt"
	"math"
)

// Field ids of the schema tables the writer emits (declaration order in
// tensorflow/lite/schema/schema.fbs). The reader uses the same numbers
// inline.
const (
	modelVersion, modelOperatorCodes, modelSubgraphs, modelDescription, modelBuffers = 0, 1, 2, 3, 4
	modelMetadata                                                                    = 6
	modelFields                                                                      = 7

	opcodeDeprecatedBuiltin, opcodeCustom, opcodeVersion, opcodeBuiltin = 0, 1, 2, 3
	opcodeFields                                                        = 4

	subgraphTensors, subgraphInputs, subgraphOutputs, subgraphOperators, subgraphName = 0, 1, 2, 3, 4
	subgraphFields                                                                    = 5

	tensorShape, tensorType, tensorBuffer, tensorName, tensorQuant, tensorIsVariable = 0, 1, 2, 3, 4, 5
	tensorShapeSignature                                                             = 7
	tensorFields                                                                     = 8

	quantMin, quantMax, quantScale, quantZeroPoint, quantDim = 0, 1, 2, 3, 6
	quantFields                                              = 7

	operatorOpcode, operatorInputs, operatorOutputs, operatorOptionsType, operatorOptions = 0, 1, 2, 3, 4
	operatorCustomOptions                                                                 = 5
	operatorFields                                                                        = 6

	bufferData   = 0
	bufferFields = 1

	metadataName, metadataBuffer = 0, 1
	metadataFields               = 2
)

// schemaVersion is the only TFLite schema version there is in practice.
const schemaVersion = 3

// bufferAlign is the schema's force_align on Buffer.data: kernels and
// delegates may map constant data in place and expect this alignment.
const bufferAlign = 16

// maxFileSize bounds what Write produces: FlatBuffer offsets are 32-bit
// and TFLite refuses buffers of 2 GiB or more. Larger models keep their
// weights outside the FlatBuffer, which this writer does not do.
const maxFileSize = math.MaxInt32

// Values of the schema's BuiltinOptions union (the union's declaration
// order, NONE = 0). Checked against schema.fbs and schema_generated.h.
const (
	optNone            = 0
	optConv2D          = 1
	optDepthwiseConv2D = 2
	optPool2D          = 5
	optFullyConnected  = 8
	optSoftmax         = 9
	optConcatenation   = 10
	optAdd             = 11
	optReshape         = 17
	optMul             = 21
	optPad             = 22
	optTranspose       = 26
	optReducer         = 27
	optSub             = 28
	optSqueeze         = 30
	optDequantize      = 38
	optPadV2           = 43
	optLeakyRelu       = 75
	optQuantize        = 89
	optHardSwish       = 91
)

// Builtin operators that have no options table at all in the schema.
var optionless = map[BuiltinOp]bool{
	8:          true, // FLOOR
	OpLogistic: true,
	OpRelu:     true,
	20:         true, // RELU_N1_TO_1
	OpRelu6:    true,
	OpPrelu:    true,
	28:         true, // TANH
	152:        true, // RELU_0_TO_1
}

// Builtin operators whose options table is empty in the schema. The
// converter still writes the (empty) table; so does Write, so its files
// look like the converter's.
var emptyOptions = map[BuiltinOp]uint8{
	OpPad:        optPad,
	OpPadV2:      optPadV2,
	OpTranspose:  optTranspose,
	OpDequantize: optDequantize,
	OpQuantize:   optQuantize,
	OpHardSwish:  optHardSwish,
}

// Write serialises m as a .tflite FlatBuffer (file identifier "TFL3",
// schema version 3). For a model Parse produced, Parse reads the result
// back as a model deep-equal to m; a hand-built one may come back with
// nil where it had empty slices.
//
// Write first checks m as Parse checks a file (index ranges, shapes,
// buffer sizes, quantisation parameters) and returns a *FormatError for a
// model Parse would refuse, so it never writes a file that cannot be read.
// Operators must be ones whose options this package models (see
// options.go), have no options, or be custom operators; others are an
// *UnsupportedError, because writing them without their options would
// silently change what they compute.
//
// Conventions of the written file: Version 0 is written as 3; each operator
// code carries both deprecated_builtin_code (the code, or 127 for codes
// above 127) and builtin_code; an operator with nil Options gets no options
// table, which readers take as the schema defaults; constant buffers are
// 16-byte aligned and stored inside the FlatBuffer. The output depends only
// on m, byte for byte.
func Write(m *Model) ([]byte, error) {
	if m == nil {
		return nil, fmt.Errorf("tflite: write: nil model")
	}
	size, err := m.checkWrite()
	if err != nil {
		return nil, fmt.Errorf("tflite: write: %w", err)
	}
	w := &writer{m: m, b: newBuilder(size)}
	root := w.model()
	return w.b.finish(root, "TFL3"), nil
}

type writer struct {
	m *Model
	b *builder
}

// checkWrite validates m and returns an upper bound of the file size.
func (m *Model) checkWrite() (int, error) {
	if m.Version != 0 && m.Version != schemaVersion {
		return 0, &UnsupportedError{Msg: fmt.Sprintf("schema version %d (only version 3 is written)", m.Version)}
	}
	if len(m.Subgraphs) == 0 {
		return 0, formatErrorf("model has no subgraph")
	}
	// The bound counts every variable-sized part with its padding and a
	// generous fixed cost per table (vtable, soffset, scalars).
	const perTable = 128
	size := 64 + len(m.Description) + 8
	for i, d := range m.Buffers {
		if len(d) > maxFileSize {
			return 0, &UnsupportedError{Msg: fmt.Sprintf("buffer %d of %d bytes (at most 2 GiB)", i, len(d))}
		}
		size += perTable + len(d) + 2*bufferAlign
	}
	for i, c := range m.OperatorCodes {
		if c.Builtin < 0 {
			return 0, formatErrorf("operator code %d: negative builtin code %d", i, c.Builtin)
		}
		size += perTable + len(c.Custom) + 8
	}
	for i, md := range m.Metadata {
		if md.Buffer < 0 || md.Buffer >= len(m.Buffers) {
			return 0, formatErrorf("metadata %d (%q) refers to buffer %d of %d", i, md.Name, md.Buffer, len(m.Buffers))
		}
		size += perTable + len(md.Name) + 8
	}
	for i := range m.Subgraphs {
		n, err := m.checkSubgraph(&m.Subgraphs[i])
		if err != nil {
			return 0, fmt.Errorf("subgraph %d: %w", i, err)
		}
		size += n
		if size > maxFileSize {
			break
		}
	}
	if size > maxFileSize {
		return 0, &UnsupportedError{Msg: "model of 2 GiB or more (external buffers are not written)"}
	}
	return size, nil
}

func (m *Model) checkSubgraph(sg *Subgraph) (int, error) {
	const perTable = 128
	size := perTable + len(sg.Name) + 8
	n := len(sg.Tensors)
	for i := range sg.Tensors {
		s, err := m.checkTensor(&sg.Tensors[i])
		if err != nil {
			return 0, fmt.Errorf("tensor %d: %w", i, err)
		}
		size += s
	}
	if err := checkRefs(sg.Inputs, n, false, "subgraph input"); err != nil {
		return 0, err
	}
	if err := checkRefs(sg.Outputs, n, false, "subgraph output"); err != nil {
		return 0, err
	}
	size += 4*len(sg.Inputs) + 4*len(sg.Outputs) + 16
	for i := range sg.Operators {
		op := &sg.Operators[i]
		if op.OpcodeIndex < 0 || op.OpcodeIndex >= len(m.OperatorCodes) {
			return 0, formatErrorf("operator %d: opcode index %d of %d", i, op.OpcodeIndex, len(m.OperatorCodes))
		}
		if err := checkRefs(op.Inputs, n, true, "input"); err != nil {
			return 0, fmt.Errorf("operator %d: %w", i, err)
		}
		if err := checkRefs(op.Outputs, n, false, "output"); err != nil {
			return 0, fmt.Errorf("operator %d: %w", i, err)
		}
		code := m.OperatorCodes[op.OpcodeIndex].Builtin
		if _, err := optionsType(code, op.Options); err != nil {
			return 0, fmt.Errorf("operator %d: %w", i, err)
		}
		if err := checkOptionInts(op.Options); err != nil {
			return 0, fmt.Errorf("operator %d (%s): %w", i, code, err)
		}
		size += 2*perTable + 4*len(op.Inputs) + 4*len(op.Outputs) + len(op.CustomOptions) + 4*optionInts(op.Options) + 16
	}
	return size, nil
}

// checkTensor applies Parse's tensor checks and returns the tensor's
// share of the size bound.
func (m *Model) checkTensor(t *Tensor) (int, error) {
	if len(t.Shape) > maxRank {
		return 0, &UnsupportedError{Msg: fmt.Sprintf("tensor %q has rank %d (at most %d)", t.Name, len(t.Shape), maxRank)}
	}
	elems := uint64(1)
	for _, d := range t.Shape {
		if d < 0 || d > math.MaxInt32 {
			return 0, formatErrorf("tensor %q has invalid dimension %d in shape %v", t.Name, d, t.Shape)
		}
		elems *= uint64(d)
		if elems > maxElements {
			return 0, formatErrorf("tensor %q shape %v is too large", t.Name, t.Shape)
		}
	}
	if t.ShapeSignature != nil {
		if len(t.ShapeSignature) != len(t.Shape) {
			return 0, formatErrorf("tensor %q: shape_signature %v and shape %v differ in rank", t.Name, t.ShapeSignature, t.Shape)
		}
		for _, d := range t.ShapeSignature {
			if !fitsInt32(d) {
				return 0, formatErrorf("tensor %q: shape_signature %v does not fit in int32", t.Name, t.ShapeSignature)
			}
		}
	}
	if t.Buffer < 0 || (t.Buffer >= len(m.Buffers) && t.Buffer != 0) {
		return 0, formatErrorf("tensor %q refers to buffer %d of %d", t.Name, t.Buffer, len(m.Buffers))
	}
	if data := m.Buffer(t.Buffer); len(data) > 0 {
		if sz := t.Type.Size(); sz > 0 && uint64(len(data)) != elems*uint64(sz) {
			return 0, formatErrorf("tensor %q (%s %v) needs %d bytes but its buffer %d has %d",
				t.Name, t.Type, t.Shape, elems*uint64(sz), t.Buffer, len(data))
		}
	}
	size := 2*128 + len(t.Name) + 8 + 4*(len(t.Shape)+len(t.ShapeSignature)) + 16
	if q := t.Quant; q != nil {
		if len(q.Scale) > 0 {
			if err := checkQuant(q, t); err != nil {
				return 0, fmt.Errorf("tensor %q: %w", t.Name, err)
			}
		}
		if !fitsInt32(q.Dim) {
			return 0, formatErrorf("tensor %q: quantized_dimension %d does not fit in int32", t.Name, q.Dim)
		}
		size += 4*(len(q.Min)+len(q.Max)+len(q.Scale)) + 8*len(q.ZeroPoint) + 64
	}
	return size, nil
}

// checkQuant mirrors readQuant's checks.
func checkQuant(q *Quantization, t *Tensor) error {
	if len(q.ZeroPoint) != len(q.Scale) {
		return formatErrorf("%d scales but %d zero points", len(q.Scale), len(q.ZeroPoint))
	}
	for i, s := range q.Scale {
		if math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) || s < 0 {
			return formatErrorf("scale %d is %v", i, s)
		}
	}
	if len(q.Scale) > 1 {
		if q.Dim < 0 || q.Dim >= len(t.Shape) {
			return formatErrorf("invalid quantized_dimension %d for a tensor of rank %d (%d per-channel scales)", q.Dim, len(t.Shape), len(q.Scale))
		}
		if t.Shape[q.Dim] != len(q.Scale) {
			return formatErrorf("invalid quantized_dimension %d: dimension has size %d but there are %d per-channel scales", q.Dim, t.Shape[q.Dim], len(q.Scale))
		}
	}
	return nil
}

func checkRefs(v []int, n int, optional bool, what string) error {
	for i, x := range v {
		if x == -1 && optional {
			continue
		}
		if x < 0 || x >= n {
			return formatErrorf("%s %d refers to tensor %d of %d", what, i, x, n)
		}
	}
	return nil
}

func fitsInt32(v int) bool { return v >= math.MinInt32 && v <= math.MaxInt32 }

// optionsType returns the BuiltinOptions union type for an operator of
// the given code with the given Options, or an error when the two do not
// go together. ADD, SUB and MUL share ActivationOptions in this package
// but are three distinct union members in the schema.
func optionsType(code BuiltinOp, opts any) (uint8, error) {
	switch code {
	case OpConv2D:
		return optionsOf[Conv2DOptions](code, opts, optConv2D)
	case OpDepthwiseConv:
		return optionsOf[DepthwiseConv2DOptions](code, opts, optDepthwiseConv2D)
	case OpAveragePool2D, OpMaxPool2D:
		return optionsOf[Pool2DOptions](code, opts, optPool2D)
	case OpFullyConnected:
		return optionsOf[FullyConnectedOptions](code, opts, optFullyConnected)
	case OpSoftmax:
		return optionsOf[SoftmaxOptions](code, opts, optSoftmax)
	case OpConcatenation:
		return optionsOf[ConcatenationOptions](code, opts, optConcatenation)
	case OpAdd:
		return optionsOf[ActivationOptions](code, opts, optAdd)
	case OpSub:
		return optionsOf[ActivationOptions](code, opts, optSub)
	case OpMul:
		return optionsOf[ActivationOptions](code, opts, optMul)
	case OpReshape:
		return optionsOf[ReshapeOptions](code, opts, optReshape)
	case OpMean:
		return optionsOf[ReducerOptions](code, opts, optReducer)
	case OpSqueeze:
		return optionsOf[SqueezeOptions](code, opts, optSqueeze)
	case OpLeakyRelu:
		return optionsOf[LeakyReluOptions](code, opts, optLeakyRelu)
	}
	if opts != nil {
		return 0, formatErrorf("%s takes no options, got %T", code, opts)
	}
	if t, ok := emptyOptions[code]; ok {
		return t, nil
	}
	if optionless[code] || code == OpCustom {
		return optNone, nil
	}
	return 0, &UnsupportedError{Msg: fmt.Sprintf("operator %s: its builtin options are not modelled, writing it would drop them", code)}
}

// optionsOf checks that opts is nil or a non-nil *T and returns the union
// type typ for the latter.
func optionsOf[T any](code BuiltinOp, opts any, typ uint8) (uint8, error) {
	if opts == nil {
		return optNone, nil
	}
	o, ok := opts.(*T)
	if !ok {
		return 0, formatErrorf("%s has options of type %T, want %T", code, opts, o)
	}
	if o == nil {
		return 0, formatErrorf("%s has nil %T options", code, o)
	}
	return typ, nil
}

// optionIntFields lists the int fields of opts that are written as int32.
func optionIntFields(opts any) []int {
	switch o := opts.(type) {
	case *Conv2DOptions:
		return []int{o.StrideW, o.StrideH, o.DilationW, o.DilationH}
	case *DepthwiseConv2DOptions:
		return []int{o.StrideW, o.StrideH, o.DepthMultiplier, o.DilationW, o.DilationH}
	case *Pool2DOptions:
		return []int{o.StrideW, o.StrideH, o.FilterWidth, o.FilterHeight}
	case *ConcatenationOptions:
		return []int{o.Axis}
	case *ReshapeOptions:
		return o.NewShape
	case *SqueezeOptions:
		return o.SqueezeDims
	}
	return nil
}

func optionInts(opts any) int { return len(optionIntFields(opts)) }

func checkOptionInts(opts any) error {
	for _, v := range optionIntFields(opts) {
		if !fitsInt32(v) {
			return formatErrorf("option value %d does not fit in int32", v)
		}
	}
	return nil
}

// model writes everything and returns the root table. Children are written
// before the tables that refer to them; buffers go first so the bulk data
// ends up at the end of the file, as the converter lays it out.
func (w *writer) model() int {
	m, b := w.m, w.b
	bufs := make([]int, len(m.Buffers))
	for i := len(m.Buffers) - 1; i >= 0; i-- {
		bufs[i] = w.buffer(m.Buffers[i])
	}
	bufVec := b.refVector(bufs)

	mds := make([]int, len(m.Metadata))
	for i, md := range m.Metadata {
		name := b.str(md.Name)
		b.startTable(metadataFields)
		b.addRef(metadataName, name)
		b.addI32(metadataBuffer, int32(uint32(md.Buffer)), 0)
		mds[i] = b.endTable()
	}
	mdVec := 0
	if len(m.Metadata) > 0 {
		mdVec = b.refVector(mds)
	}

	sgs := make([]int, len(m.Subgraphs))
	for i := range m.Subgraphs {
		sgs[i] = w.subgraph(&m.Subgraphs[i])
	}
	sgVec := b.refVector(sgs)

	codes := make([]int, len(m.OperatorCodes))
	for i, c := range m.OperatorCodes {
		codes[i] = w.opcode(c)
	}
	codeVec := b.refVector(codes)

	desc := 0
	if m.Description != "" {
		desc = b.str(m.Description)
	}

	b.startTable(modelFields)
	b.addI32(modelVersion, schemaVersion, 0)
	b.addRef(modelOperatorCodes, codeVec)
	b.addRef(modelSubgraphs, sgVec)
	b.addRef(modelDescription, desc)
	b.addRef(modelBuffers, bufVec)
	b.addRef(modelMetadata, mdVec)
	return b.endTable()
}

func (w *writer) buffer(data []byte) int {
	b := w.b
	vec := 0
	if len(data) > 0 {
		vec = b.byteVector(data, bufferAlign)
	}
	b.startTable(bufferFields)
	b.addRef(bufferData, vec)
	return b.endTable()
}

func (w *writer) opcode(c OperatorCode) int {
	b := w.b
	custom := 0
	if c.Custom != "" {
		custom = b.str(c.Custom)
	}
	// Readers before schema 3a only know the int8 deprecated code; 127
	// (PLACEHOLDER_FOR_GREATER_OP_CODES) tells newer ones to look at
	// builtin_code.
	dep := min(int32(c.Builtin), 127)
	b.startTable(opcodeFields)
	b.addU8(opcodeDeprecatedBuiltin, uint8(dep), 0)
	b.addRef(opcodeCustom, custom)
	b.addI32(opcodeVersion, c.Version, 1)
	b.addI32(opcodeBuiltin, int32(c.Builtin), 0)
	return b.endTable()
}

func (w *writer) subgraph(sg *Subgraph) int {
	b := w.b
	ops := make([]int, len(sg.Operators))
	for i := range sg.Operators {
		ops[i] = w.operator(&sg.Operators[i])
	}
	opVec := b.refVector(ops)
	tensors := make([]int, len(sg.Tensors))
	for i := range sg.Tensors {
		tensors[i] = w.tensor(&sg.Tensors[i])
	}
	tVec := b.refVector(tensors)
	in := b.i32Vector(sg.Inputs)
	out := b.i32Vector(sg.Outputs)
	name := 0
	if sg.Name != "" {
		name = b.str(sg.Name)
	}
	b.startTable(subgraphFields)
	b.addRef(subgraphTensors, tVec)
	b.addRef(subgraphInputs, in)
	b.addRef(subgraphOutputs, out)
	b.addRef(subgraphOperators, opVec)
	b.addRef(subgraphName, name)
	return b.endTable()
}

func (w *writer) tensor(t *Tensor) int {
	b := w.b
	quant := 0
	if t.Quant != nil {
		quant = w.quant(t.Quant)
	}
	sig := 0
	if t.ShapeSignature != nil {
		sig = b.i32Vector(t.ShapeSignature)
	}
	name := 0
	if t.Name != "" {
		name = b.str(t.Name)
	}
	shape := b.i32Vector(t.Shape)
	b.startTable(tensorFields)
	b.addRef(tensorShape, shape)
	b.addU8(tensorType, uint8(t.Type), 0)
	b.addI32(tensorBuffer, int32(uint32(t.Buffer)), 0)
	b.addRef(tensorName, name)
	b.addRef(tensorQuant, quant)
	b.addBool(tensorIsVariable, t.IsVariable)
	b.addRef(tensorShapeSignature, sig)
	return b.endTable()
}

func (w *writer) quant(q *Quantization) int {
	b := w.b
	vec32 := func(v []float32) int {
		if v == nil {
			return 0
		}
		return b.f32Vector(v)
	}
	mn, mx, sc := vec32(q.Min), vec32(q.Max), vec32(q.Scale)
	zp := 0
	if q.ZeroPoint != nil {
		zp = b.i64Vector(q.ZeroPoint)
	}
	b.startTable(quantFields)
	b.addRef(quantMin, mn)
	b.addRef(quantMax, mx)
	b.addRef(quantScale, sc)
	b.addRef(quantZeroPoint, zp)
	b.addI32(quantDim, int32(q.Dim), 0)
	return b.endTable()
}

func (w *writer) operator(op *Operator) int {
	b := w.b
	code := w.m.OperatorCodes[op.OpcodeIndex].Builtin
	// checkWrite accepted this pairing already.
	typ, _ := optionsType(code, op.Options)
	opts := 0
	if typ != optNone {
		opts = w.options(op.Options)
	}
	custom := 0
	if len(op.CustomOptions) > 0 {
		custom = b.byteVector(op.CustomOptions, 1)
	}
	in := b.i32Vector(op.Inputs)
	out := b.i32Vector(op.Outputs)
	b.startTable(operatorFields)
	b.addI32(operatorOpcode, int32(uint32(op.OpcodeIndex)), 0)
	b.addRef(operatorInputs, in)
	b.addRef(operatorOutputs, out)
	b.addU8(operatorOptionsType, typ, optNone)
	b.addRef(operatorOptions, opts)
	b.addRef(operatorCustomOptions, custom)
	return b.endTable()
}

// options writes an options table; field ids match readOptions. nil
// means one of the schema's empty tables.
func (w *writer) options(opts any) int {
	b := w.b
	i32 := func(v int) int32 { return int32(v) }
	switch o := opts.(type) {
	case *Conv2DOptions:
		b.startTable(6)
		b.addU8(0, uint8(o.Padding), 0)
		b.addI32(1, i32(o.StrideW), 0)
		b.addI32(2, i32(o.StrideH), 0)
		b.addU8(3, uint8(o.Activation), 0)
		b.addI32(4, i32(o.DilationW), 1)
		b.addI32(5, i32(o.DilationH), 1)
	case *DepthwiseConv2DOptions:
		b.startTable(7)
		b.addU8(0, uint8(o.Padding), 0)
		b.addI32(1, i32(o.StrideW), 0)
		b.addI32(2, i32(o.StrideH), 0)
		b.addI32(3, i32(o.DepthMultiplier), 0)
		b.addU8(4, uint8(o.Activation), 0)
		b.addI32(5, i32(o.DilationW), 1)
		b.addI32(6, i32(o.DilationH), 1)
	case *Pool2DOptions:
		b.startTable(6)
		b.addU8(0, uint8(o.Padding), 0)
		b.addI32(1, i32(o.StrideW), 0)
		b.addI32(2, i32(o.StrideH), 0)
		b.addI32(3, i32(o.FilterWidth), 0)
		b.addI32(4, i32(o.FilterHeight), 0)
		b.addU8(5, uint8(o.Activation), 0)
	case *FullyConnectedOptions:
		b.startTable(4)
		b.addU8(0, uint8(o.Activation), 0)
		b.addU8(1, o.WeightsFormat, 0)
		b.addBool(2, o.KeepNumDims)
		b.addBool(3, o.AsymmetricQuantizeInputs)
	case *SoftmaxOptions:
		b.startTable(1)
		b.addF32(0, o.Beta, 0)
	case *ConcatenationOptions:
		b.startTable(2)
		b.addI32(0, i32(o.Axis), 0)
		b.addU8(1, uint8(o.Activation), 0)
	case *ActivationOptions:
		b.startTable(1)
		b.addU8(0, uint8(o.Activation), 0)
	case *ReshapeOptions:
		shape := 0
		if o.NewShape != nil {
			shape = b.i32Vector(o.NewShape)
		}
		b.startTable(1)
		b.addRef(0, shape)
	case *ReducerOptions:
		b.startTable(1)
		b.addBool(0, o.KeepDims)
	case *SqueezeOptions:
		dims := 0
		if o.SqueezeDims != nil {
			dims = b.i32Vector(o.SqueezeDims)
		}
		b.startTable(1)
		b.addRef(0, dims)
	case *LeakyReluOptions:
		b.startTable(1)
		b.addF32(0, o.Alpha, 0)
	default:
		b.startTable(0)
	}
	return b.endTable()
}
