package tfl

import (
	"bytes"
	"fmt"
	"math"
)

// Limits that keep a hostile file from making the reader allocate without
// bound. Real classifiers are far below them.
const (
	maxRank     = 8
	maxElements = 1 << 31
)

// Parse decodes and validates a .tflite file. The returned model refers to
// data's bytes for constant buffers; data must stay unmodified while the
// model is in use.
func Parse(data []byte) (*Model, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("tflite: %w: file is only %d bytes", ErrNotTFLite, len(data))
	}
	if id := data[4:8]; !bytes.Equal(id, []byte("TFL3")) {
		return nil, fmt.Errorf("tflite: %w: file identifier is %q, want \"TFL3\" (%s)", ErrNotTFLite, id, sniff(data))
	}
	b := buf(data)
	rootOff, _ := b.u32(0)
	root, err := b.tableAt(int(rootOff), "model")
	if err != nil {
		return nil, err
	}
	m := &Model{}
	if m.Version, err = root.u32(0, 0); err != nil {
		return nil, err
	}
	if m.Version != 3 {
		return nil, &UnsupportedError{Msg: fmt.Sprintf("schema version %d (this reader supports version 3)", m.Version)}
	}
	if m.Description, err = root.str(3); err != nil {
		return nil, err
	}
	if err := m.readBuffers(b, root); err != nil {
		return nil, err
	}
	if err := m.readOpcodes(root); err != nil {
		return nil, err
	}
	sgs, err := root.tables(2, "subgraph")
	if err != nil {
		return nil, err
	}
	if len(sgs) == 0 {
		return nil, formatErrorf("model has no subgraph")
	}
	for i, st := range sgs {
		sg, err := m.readSubgraph(st)
		if err != nil {
			return nil, fmt.Errorf("subgraph %d: %w", i, err)
		}
		m.Subgraphs = append(m.Subgraphs, sg)
	}
	mds, err := root.tables(6, "metadata")
	if err != nil {
		return nil, err
	}
	for i, mt := range mds {
		name, err := mt.str(0)
		if err != nil {
			return nil, err
		}
		bi, err := mt.u32(1, 0)
		if err != nil {
			return nil, err
		}
		if int(bi) >= len(m.Buffers) {
			return nil, formatErrorf("metadata %d (%q) refers to buffer %d of %d", i, name, bi, len(m.Buffers))
		}
		m.Metadata = append(m.Metadata, Metadata{Name: name, Buffer: int(bi)})
	}
	return m, nil
}

// sniff names common non-TFLite files so the error says what was given.
func sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\x89HDF\r\n\x1a\n")):
		return "this is an HDF5 file, probably a Keras model: convert it first with `convert keras IN.h5 -o OUT.tflite`"
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return "this is a zip file, perhaps a Keras .keras model: convert it first with `convert keras IN.keras -o OUT.tflite`"
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")), bytes.HasPrefix(data, []byte("\x89PNG")), bytes.HasPrefix(data, []byte("BM")):
		return "this is an image, not a model"
	}
	return "expected a .tflite FlatBuffer as written by the TensorFlow Lite converter"
}

func (m *Model) readBuffers(b buf, root table) error {
	bts, err := root.tables(4, "buffer")
	if err != nil {
		return err
	}
	m.Buffers = make([][]byte, len(bts))
	for i, bt := range bts {
		data, err := bt.bytes(0)
		if err != nil {
			return err
		}
		off, err := bt.u64(1, 0)
		if err != nil {
			return err
		}
		size, err := bt.u64(2, 0)
		if err != nil {
			return err
		}
		// Files over 2 GiB keep buffers after the FlatBuffer, addressed by
		// absolute offset and size.
		if off > 1 {
			if off > uint64(len(b)) || size > uint64(len(b))-off {
				return formatErrorf("buffer %d: external data at offset %d size %d lies outside the %d-byte file", i, off, size, len(b))
			}
			data = b[off : off+size : off+size]
		}
		m.Buffers[i] = data
	}
	return nil
}

func (m *Model) readOpcodes(root table) error {
	ots, err := root.tables(1, "operator code")
	if err != nil {
		return err
	}
	for _, ot := range ots {
		dep, err := ot.u8(0, 0)
		if err != nil {
			return err
		}
		custom, err := ot.str(1)
		if err != nil {
			return err
		}
		ver, err := ot.i32(2, 1)
		if err != nil {
			return err
		}
		code, err := ot.i32(3, 0)
		if err != nil {
			return err
		}
		// Files from before schema 3a keep the code in the deprecated
		// byte; newer files set the placeholder 127 there and the real
		// code in builtin_code. The larger of the two is right in both.
		c := max(int32(int8(dep)), code)
		if c < 0 {
			return formatErrorf("operator code %d is negative", c)
		}
		m.OperatorCodes = append(m.OperatorCodes, OperatorCode{Builtin: BuiltinOp(c), Custom: custom, Version: ver})
	}
	return nil
}

func (m *Model) readSubgraph(st table) (Subgraph, error) {
	var sg Subgraph
	var err error
	if sg.Name, err = st.str(4); err != nil {
		return sg, err
	}
	tts, err := st.tables(0, "tensor")
	if err != nil {
		return sg, err
	}
	for i, tt := range tts {
		t, err := m.readTensor(tt)
		if err != nil {
			return sg, fmt.Errorf("tensor %d: %w", i, err)
		}
		sg.Tensors = append(sg.Tensors, t)
	}
	n := len(sg.Tensors)
	in, err := st.i32s(1)
	if err != nil {
		return sg, err
	}
	out, err := st.i32s(2)
	if err != nil {
		return sg, err
	}
	if sg.Inputs, err = tensorRefs(in, n, false, "subgraph input"); err != nil {
		return sg, err
	}
	if sg.Outputs, err = tensorRefs(out, n, false, "subgraph output"); err != nil {
		return sg, err
	}
	ots, err := st.tables(3, "operator")
	if err != nil {
		return sg, err
	}
	for i, ot := range ots {
		op, err := m.readOperator(ot, n)
		if err != nil {
			return sg, fmt.Errorf("operator %d: %w", i, err)
		}
		sg.Operators = append(sg.Operators, op)
	}
	return sg, nil
}

func tensorRefs(v []int32, n int, optional bool, what string) ([]int, error) {
	out := make([]int, len(v))
	for i, x := range v {
		if x == -1 && optional {
			out[i] = -1
			continue
		}
		if x < 0 || int(x) >= n {
			return nil, formatErrorf("%s %d refers to tensor %d of %d", what, i, x, n)
		}
		out[i] = int(x)
	}
	return out, nil
}

func (m *Model) readTensor(tt table) (Tensor, error) {
	var t Tensor
	shape, err := tt.i32s(0)
	if err != nil {
		return t, err
	}
	typ, err := tt.u8(1, 0)
	if err != nil {
		return t, err
	}
	t.Type = TensorType(typ)
	bi, err := tt.u32(2, 0)
	if err != nil {
		return t, err
	}
	if t.Name, err = tt.str(3); err != nil {
		return t, err
	}
	// Buffer 0 is the conventional empty buffer; some writers omit the
	// buffer table entirely and still refer to it.
	if int(bi) >= len(m.Buffers) && bi != 0 {
		return t, formatErrorf("%q refers to buffer %d of %d", t.Name, bi, len(m.Buffers))
	}
	t.Buffer = int(bi)
	if t.IsVariable, err = tt.bool(5, false); err != nil {
		return t, err
	}
	sig, err := tt.i32s(7)
	if err != nil {
		return t, err
	}
	if len(shape) > maxRank {
		return t, &UnsupportedError{Msg: fmt.Sprintf("tensor %q has rank %d (at most %d)", t.Name, len(shape), maxRank)}
	}
	t.Shape = make([]int, len(shape))
	elems := uint64(1)
	for i, d := range shape {
		if d < 0 {
			return t, formatErrorf("tensor %q has negative dimension %d in shape %v", t.Name, d, shape)
		}
		t.Shape[i] = int(d)
		elems *= uint64(d)
		if elems > maxElements {
			return t, formatErrorf("tensor %q shape %v is too large", t.Name, shape)
		}
	}
	if sig != nil {
		if len(sig) != len(shape) {
			return t, formatErrorf("tensor %q: shape_signature %v and shape %v differ in rank", t.Name, sig, shape)
		}
		t.ShapeSignature = ints(sig)
	}
	if data := m.Buffer(t.Buffer); len(data) > 0 {
		if sz := t.Type.Size(); sz > 0 && uint64(len(data)) != elems*uint64(sz) {
			return t, formatErrorf("tensor %q (%s %v) needs %d bytes but its buffer %d has %d",
				t.Name, t.Type, t.Shape, elems*uint64(sz), t.Buffer, len(data))
		}
	}
	qt, ok, err := tt.sub(4, "quantization")
	if err != nil {
		return t, err
	}
	if ok {
		q, err := readQuant(qt, &t)
		if err != nil {
			return t, fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		t.Quant = q
	}
	return t, nil
}

func readQuant(qt table, t *Tensor) (*Quantization, error) {
	var q Quantization
	var err error
	if q.Min, err = qt.f32s(0); err != nil {
		return nil, err
	}
	if q.Max, err = qt.f32s(1); err != nil {
		return nil, err
	}
	if q.Scale, err = qt.f32s(2); err != nil {
		return nil, err
	}
	if q.ZeroPoint, err = qt.i64s(3); err != nil {
		return nil, err
	}
	if dt, err := qt.u8(4, 0); err != nil {
		return nil, err
	} else if dt != 0 {
		return nil, &UnsupportedError{Msg: "custom quantization details"}
	}
	dim, err := qt.i32(6, 0)
	if err != nil {
		return nil, err
	}
	q.Dim = int(dim)
	if len(q.Scale) == 0 {
		// min/max only (a float model's statistics): not quantised.
		return nil, nil
	}
	if len(q.ZeroPoint) != len(q.Scale) {
		return nil, formatErrorf("%d scales but %d zero points", len(q.Scale), len(q.ZeroPoint))
	}
	for i, s := range q.Scale {
		if math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) || s < 0 {
			return nil, formatErrorf("scale %d is %v", i, s)
		}
	}
	if len(q.Scale) > 1 {
		if q.Dim < 0 || q.Dim >= len(t.Shape) {
			return nil, formatErrorf("invalid quantized_dimension %d for a tensor of rank %d (%d per-channel scales); TensorFlow Lite refuses this file too, it may have been written for TFLite Micro", q.Dim, len(t.Shape), len(q.Scale))
		}
		if t.Shape[q.Dim] != len(q.Scale) {
			return nil, formatErrorf("invalid quantized_dimension %d: dimension has size %d but there are %d per-channel scales", q.Dim, t.Shape[q.Dim], len(q.Scale))
		}
	}
	return &q, nil
}

func (m *Model) readOperator(ot table, nTensors int) (Operator, error) {
	var op Operator
	oi, err := ot.u32(0, 0)
	if err != nil {
		return op, err
	}
	if int(oi) >= len(m.OperatorCodes) {
		return op, formatErrorf("opcode index %d of %d", oi, len(m.OperatorCodes))
	}
	op.OpcodeIndex = int(oi)
	in, err := ot.i32s(1)
	if err != nil {
		return op, err
	}
	out, err := ot.i32s(2)
	if err != nil {
		return op, err
	}
	if op.Inputs, err = tensorRefs(in, nTensors, true, "input"); err != nil {
		return op, err
	}
	if op.Outputs, err = tensorRefs(out, nTensors, false, "output"); err != nil {
		return op, err
	}
	if op.CustomOptions, err = ot.bytes(5); err != nil {
		return op, err
	}
	code := m.OperatorCodes[op.OpcodeIndex].Builtin
	ob, ok, err := ot.sub(4, code.String()+" options")
	if err != nil {
		return op, err
	}
	if ok {
		if op.Options, err = readOptions(code, ob); err != nil {
			return op, err
		}
		// An options table of another type than the operator's is not
		// read, as TFLite's builtin_options_as_X() returns null for it:
		// the operator then runs with the schema defaults.
		typ, err := ot.u8(3, 0)
		if err != nil {
			return op, err
		}
		if want, err := optionsType(code, op.Options); err == nil && want != optNone && typ != want {
			ok = false
		}
	}
	if !ok {
		if op.Options, err = readOptions(code, table{}); err != nil {
			return op, err
		}
	}
	return op, nil
}
