package tfl

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/fruitcam/fruitcam/internal/testdata"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// testdataDir is the shared test data directory: $FRUITCAM_TESTDATA, else
// ../shared/testdata beside the module root. A missing directory skips
// the test, except under CI=true where it means the suite did not run.
func testdataDir(t testing.TB) string {
	t.Helper()
	return testdata.Root(t)
}

// realModel is a model of the shared test data that Parse accepts.
type realModel struct {
	name  string
	data  []byte
	model *Model
}

func realModels(t *testing.T) []realModel {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testdataDir(t), "models", "*", "*.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no .tflite files in the test data")
	}
	var out []realModel
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Parse(data)
		if err != nil {
			continue // refused by the reader: not the writer's business
		}
		out = append(out, realModel{name: filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f), data: data, model: m})
	}
	return out
}

// unmodelledOp returns an operator of m whose options the package does not
// model; Write refuses such models with an *UnsupportedError.
func unmodelledOp(m *Model) (BuiltinOp, bool) {
	for _, sg := range m.Subgraphs {
		for _, op := range sg.Operators {
			code := m.OperatorCodes[op.OpcodeIndex].Builtin
			if _, err := optionsType(code, op.Options); err != nil {
				return code, true
			}
		}
	}
	return 0, false
}

func TestWriteRoundTripRealModels(t *testing.T) {
	written := 0
	for _, rm := range realModels(t) {
		t.Run(rm.name, func(t *testing.T) {
			out, err := Write(rm.model)
			if code, ok := unmodelledOp(rm.model); ok {
				var ue *UnsupportedError
				if !errors.As(err, &ue) {
					t.Fatalf("Write with an unmodelled %s: got error %v, want *UnsupportedError", code, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			written++
			got, err := Parse(out)
			if err != nil {
				t.Fatalf("Parse(Write(m)): %v", err)
			}
			if d := modelDiff(got, rm.model); d != "" {
				t.Fatalf("Parse(Write(m)) differs from m: %s", d)
			}
			again, err := Write(got)
			if err != nil {
				t.Fatalf("second Write: %v", err)
			}
			if !bytes.Equal(again, out) {
				t.Errorf("Write(Parse(Write(m))) is not byte-identical to Write(m)")
			}
			checkLayout(t, out, rm.model)
		})
	}
	if written < 10 {
		t.Errorf("only %d real models were written, want at least 10", written)
	}
}

// checkLayout inspects the raw FlatBuffer for what Parse does not look at:
// identifier, data alignment, both operator code fields.
func checkLayout(t *testing.T, out []byte, m *Model) {
	t.Helper()
	if got := string(out[4:8]); got != "TFL3" {
		t.Errorf("file identifier %q, want TFL3", got)
	}
	b := buf(out)
	rootOff, _ := b.u32(0)
	root, err := b.tableAt(int(rootOff), "model")
	if err != nil {
		t.Fatal(err)
	}
	bts, err := root.tables(modelBuffers, "buffer")
	if err != nil {
		t.Fatal(err)
	}
	if len(bts) > 0 {
		if s, n, _ := bts[0].vector(bufferData, 1); n != 0 {
			t.Errorf("buffer 0 has %d bytes at %d, want empty", n, s)
		}
	}
	for i, bt := range bts {
		s, n, err := bt.vector(bufferData, 1)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 && s%bufferAlign != 0 {
			t.Errorf("buffer %d data starts at %d, not %d-byte aligned", i, s, bufferAlign)
		}
	}
	ots, err := root.tables(modelOperatorCodes, "operator code")
	if err != nil {
		t.Fatal(err)
	}
	for i, ot := range ots {
		dep, _ := ot.u8(opcodeDeprecatedBuiltin, 0)
		code, _ := ot.i32(opcodeBuiltin, 0)
		want := m.OperatorCodes[i].Builtin
		if BuiltinOp(code) != want || int32(int8(dep)) != min(int32(want), 127) {
			t.Errorf("operator code %d: deprecated_builtin_code %d, builtin_code %d, want %d and %d", i, dep, code, min(int32(want), 127), want)
		}
	}
}

// modelDiff names the first difference between two models, "" if none.
func modelDiff(got, want *Model) string {
	if got.Version != want.Version || got.Description != want.Description {
		return fmt.Sprintf("version/description %d %q, want %d %q", got.Version, got.Description, want.Version, want.Description)
	}
	if !reflect.DeepEqual(got.OperatorCodes, want.OperatorCodes) {
		return fmt.Sprintf("operator codes %v, want %v", got.OperatorCodes, want.OperatorCodes)
	}
	if len(got.Buffers) != len(want.Buffers) {
		return fmt.Sprintf("%d buffers, want %d", len(got.Buffers), len(want.Buffers))
	}
	for i := range got.Buffers {
		if !reflect.DeepEqual(got.Buffers[i], want.Buffers[i]) {
			return fmt.Sprintf("buffer %d has %d bytes, want %d (or contents differ)", i, len(got.Buffers[i]), len(want.Buffers[i]))
		}
	}
	if !reflect.DeepEqual(got.Metadata, want.Metadata) {
		return fmt.Sprintf("metadata %v, want %v", got.Metadata, want.Metadata)
	}
	if len(got.Subgraphs) != len(want.Subgraphs) {
		return fmt.Sprintf("%d subgraphs, want %d", len(got.Subgraphs), len(want.Subgraphs))
	}
	for s := range got.Subgraphs {
		g, w := &got.Subgraphs[s], &want.Subgraphs[s]
		if g.Name != w.Name || !reflect.DeepEqual(g.Inputs, w.Inputs) || !reflect.DeepEqual(g.Outputs, w.Outputs) {
			return fmt.Sprintf("subgraph %d: name/inputs/outputs %q %v %v, want %q %v %v", s, g.Name, g.Inputs, g.Outputs, w.Name, w.Inputs, w.Outputs)
		}
		if len(g.Tensors) != len(w.Tensors) || len(g.Operators) != len(w.Operators) {
			return fmt.Sprintf("subgraph %d: %d tensors %d operators, want %d and %d", s, len(g.Tensors), len(g.Operators), len(w.Tensors), len(w.Operators))
		}
		for i := range g.Tensors {
			if !reflect.DeepEqual(g.Tensors[i], w.Tensors[i]) {
				return fmt.Sprintf("subgraph %d tensor %d: %+v, want %+v", s, i, g.Tensors[i], w.Tensors[i])
			}
		}
		for i := range g.Operators {
			if !reflect.DeepEqual(g.Operators[i], w.Operators[i]) {
				return fmt.Sprintf("subgraph %d operator %d: %+v, want %+v", s, i, g.Operators[i], w.Operators[i])
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		return "models differ"
	}
	return ""
}

// tinyModel is one operator with the given code and options reading
// tensor 0 and writing tensor 1.
func tinyModel(code BuiltinOp, opts any) *Model {
	return &Model{
		Version:       3,
		OperatorCodes: []OperatorCode{{Builtin: code, Version: 1}},
		Buffers:       [][]byte{nil},
		Subgraphs: []Subgraph{{
			Tensors: []Tensor{
				{Name: "in", Type: Float32, Shape: []int{1, 4}},
				{Name: "out", Type: Float32, Shape: []int{1, 4}},
			},
			Inputs:    []int{0},
			Outputs:   []int{1},
			Operators: []Operator{{Inputs: []int{0}, Outputs: []int{1}, Options: opts}},
		}},
	}
}

// The union type numbers are the BuiltinOptions declaration order in
// tensorflow/lite/schema/schema.fbs (NONE = 0), written out here rather
// than taken from write.go so a slip in either shows.
func TestWriteOptionsUnionType(t *testing.T) {
	tests := []struct {
		code BuiltinOp
		opts any
		want uint8
	}{
		{OpConv2D, &Conv2DOptions{Padding: PaddingValid, StrideW: 2, StrideH: 3, Activation: ActRelu6, DilationW: 1, DilationH: 2}, 1},
		{OpDepthwiseConv, &DepthwiseConv2DOptions{StrideW: 1, StrideH: 1, DepthMultiplier: 2, DilationW: 1, DilationH: 1}, 2},
		{OpAveragePool2D, &Pool2DOptions{StrideW: 2, StrideH: 2, FilterWidth: 3, FilterHeight: 3}, 5},
		{OpMaxPool2D, &Pool2DOptions{Padding: PaddingValid, StrideW: 2, StrideH: 2, FilterWidth: 2, FilterHeight: 2, Activation: ActRelu}, 5},
		{OpFullyConnected, &FullyConnectedOptions{Activation: ActRelu, KeepNumDims: true, AsymmetricQuantizeInputs: true}, 8},
		{OpSoftmax, &SoftmaxOptions{Beta: 1}, 9},
		{OpConcatenation, &ConcatenationOptions{Axis: -1, Activation: ActNone}, 10},
		{OpAdd, &ActivationOptions{Activation: ActRelu}, 11},
		{OpReshape, &ReshapeOptions{NewShape: []int{4, -1}}, 17},
		{OpMul, &ActivationOptions{Activation: ActRelu6}, 21},
		{OpPad, nil, 22},
		{OpTranspose, nil, 26},
		{OpMean, &ReducerOptions{KeepDims: true}, 27},
		{OpSub, &ActivationOptions{Activation: ActReluN1To1}, 28},
		{OpSqueeze, &SqueezeOptions{SqueezeDims: []int{1, 2}}, 30},
		{OpDequantize, nil, 38},
		{OpPadV2, nil, 43},
		{OpLeakyRelu, &LeakyReluOptions{Alpha: 0.5}, 75},
		{OpQuantize, nil, 89},
		{OpHardSwish, nil, 91},
		{OpLogistic, nil, 0},
		{OpRelu, nil, 0},
		{OpRelu6, nil, 0},
		{28, nil, 0}, // TANH
		{OpCustom, nil, 0},
		{OpConv2D, nil, 0}, // no options table: readers use the schema defaults
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s_%T", tt.code, tt.opts), func(t *testing.T) {
			m := tinyModel(tt.code, tt.opts)
			out, err := Write(m)
			if err != nil {
				t.Fatal(err)
			}
			b := buf(out)
			rootOff, _ := b.u32(0)
			root, _ := b.tableAt(int(rootOff), "model")
			sgs, _ := root.tables(modelSubgraphs, "subgraph")
			ops, err := sgs[0].tables(subgraphOperators, "operator")
			if err != nil {
				t.Fatal(err)
			}
			got, _ := ops[0].u8(operatorOptionsType, 0)
			if got != tt.want {
				t.Errorf("builtin_options_type %d, want %d", got, tt.want)
			}
			_, hasTable, err := ops[0].ref(operatorOptions)
			if err != nil || hasTable != (tt.want != 0) {
				t.Errorf("options table present %v (err %v), want %v", hasTable, err, tt.want != 0)
			}
			back, err := Parse(out)
			if err != nil {
				t.Fatal(err)
			}
			if tt.opts != nil {
				if got := back.Subgraphs[0].Operators[0].Options; !reflect.DeepEqual(got, tt.opts) {
					t.Errorf("options read back as %+v, want %+v", got, tt.opts)
				}
			}
		})
	}
}

func TestWriteKeepsEverythingTheReaderReads(t *testing.T) {
	m := &Model{
		Version:     3,
		Description: "written by write_test",
		OperatorCodes: []OperatorCode{
			{Builtin: OpConv2D, Version: 3},
			{Builtin: OpHardSwish, Version: 1},
			{Builtin: 152, Version: 1},           // RELU_0_TO_1: above 127, so deprecated_builtin_code holds 127
			{Builtin: OpCustom, Custom: "my-op"}, // version 0 is kept as is
		},
		Buffers: [][]byte{nil, make([]byte, 2*1*1*3), {1, 2, 3, 4, 5, 6, 7, 8}, []byte("meta")},
		Metadata: []Metadata{
			{Name: "min_runtime_version", Buffer: 3},
			{Name: "second", Buffer: 3},
		},
		Subgraphs: []Subgraph{{
			Name: "main",
			Tensors: []Tensor{
				{Name: "in", Type: Int8, Shape: []int{1, 2, 2, 3}, ShapeSignature: []int{-1, 2, 2, 3},
					Quant: &Quantization{Min: []float32{-1}, Max: []float32{1}, Scale: []float32{0.5}, ZeroPoint: []int64{-3}}},
				{Name: "w", Type: Int8, Shape: []int{2, 1, 1, 3}, Buffer: 1,
					Quant: &Quantization{Scale: []float32{0.25, 0.125}, ZeroPoint: []int64{0, 0}, Dim: 0}},
				{Name: "b", Type: Int32, Shape: []int{2}, Buffer: 2},
				{Name: "conv", Type: Int8, Shape: []int{1, 2, 2, 2},
					Quant: &Quantization{Scale: []float32{float32(math.Copysign(0, -1))}, ZeroPoint: []int64{math.MinInt64}}},
				{Name: "state", Type: Float32, Shape: []int{}, IsVariable: true},
				{Name: "", Type: 17, Shape: []int{0}}, // int4, no name
			},
			Inputs:  []int{0},
			Outputs: []int{3, 4},
			Operators: []Operator{
				{OpcodeIndex: 0, Inputs: []int{0, 1, 2}, Outputs: []int{3},
					Options: &Conv2DOptions{Padding: PaddingSame, StrideW: 1, StrideH: 1, Activation: ActRelu, DilationW: 1, DilationH: 1}},
				{OpcodeIndex: 1, Inputs: []int{3}, Outputs: []int{4}},
				{OpcodeIndex: 2, Inputs: []int{-1, 3}, Outputs: []int{5}},
				{OpcodeIndex: 3, Inputs: []int{3}, Outputs: []int{5}, CustomOptions: []byte{0, 1, 2, 3, 4}},
			},
		}, {
			Name:    "second subgraph",
			Tensors: []Tensor{{Name: "x", Type: Float32, Shape: []int{1}}},
			Inputs:  []int{0},
			Outputs: []int{0},
		}},
	}
	out, err := Write(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if d := modelDiff(got, m); d != "" {
		t.Fatal(d)
	}
	checkLayout(t, out, m)
	if got := got.Subgraphs[0].Tensors[3].Quant.Scale[0]; !math.Signbit(float64(got)) {
		t.Errorf("scale -0 read back as %v", got)
	}
}

func TestWriteVersionZeroMeansCurrent(t *testing.T) {
	m := tinyModel(OpRelu, nil)
	m.Version = 0
	out, err := Write(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 3 {
		t.Errorf("version %d, want 3", got.Version)
	}
}

// beyondInt32 is an int the file's int32 fields cannot hold, or 0 where
// int itself is 32 bits.
var beyondInt32 = int(int64(math.MaxInt32+1) & int64(^uint(0)>>1))

func TestWriteErrors(t *testing.T) {
	type errKind int
	const (
		format errKind = iota
		unsupported
		plain
	)
	tests := []struct {
		name   string
		change func(m *Model)
		want   errKind
	}{
		{"version 2", func(m *Model) { m.Version = 2 }, unsupported},
		{"no subgraph", func(m *Model) { m.Subgraphs = nil }, format},
		{"opcode index", func(m *Model) { m.Subgraphs[0].Operators[0].OpcodeIndex = 1 }, format},
		{"negative opcode index", func(m *Model) { m.Subgraphs[0].Operators[0].OpcodeIndex = -1 }, format},
		{"negative builtin", func(m *Model) { m.OperatorCodes[0].Builtin = -3 }, format},
		{"op input", func(m *Model) { m.Subgraphs[0].Operators[0].Inputs[0] = 2 }, format},
		{"op input -2", func(m *Model) { m.Subgraphs[0].Operators[0].Inputs[0] = -2 }, format},
		{"op output -1", func(m *Model) { m.Subgraphs[0].Operators[0].Outputs[0] = -1 }, format},
		{"subgraph input", func(m *Model) { m.Subgraphs[0].Inputs[0] = 7 }, format},
		{"subgraph output", func(m *Model) { m.Subgraphs[0].Outputs[0] = -1 }, format},
		{"tensor buffer", func(m *Model) { m.Subgraphs[0].Tensors[0].Buffer = 3 }, format},
		{"negative tensor buffer", func(m *Model) { m.Subgraphs[0].Tensors[0].Buffer = -1 }, format},
		{"buffer size", func(m *Model) { m.Buffers = append(m.Buffers, []byte{1, 2, 3}); m.Subgraphs[0].Tensors[0].Buffer = 1 }, format},
		{"negative dim", func(m *Model) { m.Subgraphs[0].Tensors[0].Shape[1] = -4 }, format},
		{"huge dim", func(m *Model) { m.Subgraphs[0].Tensors[0].Shape[1] = beyondInt32 }, format},
		{"huge tensor", func(m *Model) { m.Subgraphs[0].Tensors[0].Shape = []int{1 << 20, 1 << 20} }, format},
		{"rank 9", func(m *Model) { m.Subgraphs[0].Tensors[0].Shape = make([]int, 9) }, unsupported},
		{"signature rank", func(m *Model) { m.Subgraphs[0].Tensors[0].ShapeSignature = []int{-1} }, format},
		{"zero points", func(m *Model) {
			m.Subgraphs[0].Tensors[0].Quant = &Quantization{Scale: []float32{1}, ZeroPoint: []int64{0, 0}}
		}, format},
		{"nan scale", func(m *Model) {
			m.Subgraphs[0].Tensors[0].Quant = &Quantization{Scale: []float32{float32(math.NaN())}, ZeroPoint: []int64{0}}
		}, format},
		{"quantized dimension", func(m *Model) {
			m.Subgraphs[0].Tensors[0].Quant = &Quantization{Scale: []float32{1, 1}, ZeroPoint: []int64{0, 0}, Dim: 2}
		}, format},
		{"channel count", func(m *Model) {
			m.Subgraphs[0].Tensors[0].Quant = &Quantization{Scale: []float32{1, 1, 1}, ZeroPoint: []int64{0, 0, 0}, Dim: 1}
		}, format},
		{"metadata buffer", func(m *Model) { m.Metadata = []Metadata{{Name: "x", Buffer: 1}} }, format},
		{"options type", func(m *Model) { m.Subgraphs[0].Operators[0].Options = &SoftmaxOptions{} }, format},
		{"typed nil options", func(m *Model) { m.Subgraphs[0].Operators[0].Options = (*ActivationOptions)(nil) }, format},
		{"options on optionless op", func(m *Model) {
			m.OperatorCodes[0].Builtin = OpRelu
		}, format},
		{"option out of int32", func(m *Model) {
			m.OperatorCodes[0].Builtin = OpConcatenation
			m.Subgraphs[0].Operators[0].Options = &ConcatenationOptions{Axis: beyondInt32}
		}, format},
		{"unmodelled options", func(m *Model) {
			m.OperatorCodes[0].Builtin = 45 // STRIDED_SLICE
			m.Subgraphs[0].Operators[0].Options = nil
		}, unsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if beyondInt32 == 0 && (tt.name == "huge dim" || tt.name == "option out of int32") {
				t.Skip("int is 32 bits: every int fits the file's int32 fields")
			}
			m := tinyModel(OpAdd, &ActivationOptions{})
			tt.change(m)
			out, err := Write(m)
			if err == nil {
				t.Fatalf("Write succeeded with %d bytes, want an error", len(out))
			}
			var fe *FormatError
			var ue *UnsupportedError
			switch {
			case tt.want == format && !errors.As(err, &fe):
				t.Errorf("got %T %v, want *FormatError", err, err)
			case tt.want == unsupported && !errors.As(err, &ue):
				t.Errorf("got %T %v, want *UnsupportedError", err, err)
			}
		})
	}
	if _, err := Write(nil); err == nil {
		t.Error("Write(nil) succeeded")
	}
}

// FuzzWriteRoundTrip writes every model the reader accepts: Write must not
// panic, may only refuse operators it does not model, and what it writes
// must read back and write again to the same bytes.
func FuzzWriteRoundTrip(f *testing.F) {
	// Seeds: the small real models and a few written here. The MobileNets
	// are left out: the fuzzer minimises every interesting input, which
	// on megabytes of weights stalls it.
	files, _ := filepath.Glob(filepath.Join(fuzzTestdata(), "models", "*", "*.tflite"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil && len(data) <= 128<<10 {
			f.Add(data)
		}
	}
	for _, m := range []*Model{tinyModel(OpAdd, &ActivationOptions{Activation: ActRelu}), tinyModel(OpQuantize, nil)} {
		if data, err := Write(m); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		out, err := Write(m)
		if err != nil {
			var ue *UnsupportedError
			if !errors.As(err, &ue) {
				t.Fatalf("Write of a parsed model: %v", err)
			}
			return
		}
		m2, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Write(m)): %v", err)
		}
		out2, err := Write(m2)
		if err != nil {
			t.Fatalf("second Write: %v", err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatal("Write(Parse(Write(m))) differs from Write(m)")
		}
	})
}

// fuzzTestdata is testdataDir without skipping: fuzz seeds are optional.
func fuzzTestdata() string {
	dir, _ := testdata.Dir()
	return dir
}

// crunPath is the real TensorFlow Lite 2.9 runner (.tflite-ref/bin/tflite-c-run,
// built by `make ref`): $TFLITE_C_RUN, else the module's .tflite-ref. It
// is an ordinary program, so these checks need no cgo in this package.
func crunPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("TFLITE_C_RUN")
	if p == "" {
		root, err := testdata.ModuleRoot()
		if err != nil {
			t.Fatal(err)
		}
		p = filepath.Join(root, ".tflite-ref", "bin", "tflite-c-run")
	}
	if _, err := os.Stat(p); err != nil {
		testdata.Missing(t, fmt.Errorf("TensorFlow Lite runner not found (make ref builds it; or set TFLITE_C_RUN): %w", err))
	}
	return p
}

// runTFLite runs model on input with the real runtime and returns output
// 0's bytes.
func runTFLite(t *testing.T, crun string, model, input []byte) ([]byte, error) {
	t.Helper()
	dir := t.TempDir()
	mp, ip, op := filepath.Join(dir, "m.tflite"), filepath.Join(dir, "in.bin"), filepath.Join(dir, "out.bin")
	if err := os.WriteFile(mp, model, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ip, input, 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(crun, mp, ip, op).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, msg)
	}
	return os.ReadFile(op)
}

// randomInput fills input 0 of m: floats in [-1, 1), other types random
// bytes, reproducibly.
func randomInput(m *Model, seed uint64) []byte {
	sg := &m.Subgraphs[0]
	t := &sg.Tensors[sg.Inputs[0]]
	n := NumElements(t.Shape)
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]byte, n*max(t.Type.Size(), 1))
	if t.Type == Float32 {
		for i := range n {
			v := math.Float32bits(r.Float32()*2 - 1)
			out[4*i], out[4*i+1], out[4*i+2], out[4*i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		}
		return out
	}
	for i := range out {
		out[i] = byte(r.Uint32())
	}
	return out
}

// TestWrittenModelsRunInTFLite runs each original and rewritten model in
// the real TensorFlow Lite runtime on the same input: the outputs must be
// byte-identical. Models the runtime itself refuses (Edge TPU, custom
// ops) are skipped.
func TestWrittenModelsRunInTFLite(t *testing.T) {
	crun := crunPath(t)
	ran := 0
	for _, rm := range realModels(t) {
		t.Run(rm.name, func(t *testing.T) {
			if len(rm.model.Subgraphs[0].Inputs) != 1 {
				t.Skip("runner takes one input")
			}
			out, err := Write(rm.model)
			if err != nil {
				t.Skipf("not writable: %v", err)
			}
			in := randomInput(rm.model, 7)
			want, err := runTFLite(t, crun, rm.data, in)
			if err != nil {
				t.Skipf("TensorFlow Lite refuses the original: %v", err)
			}
			got, err := runTFLite(t, crun, out, in)
			if err != nil {
				t.Fatalf("TensorFlow Lite refuses the written model: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("outputs differ: %d bytes, want %d", len(got), len(want))
			}
			ran++
		})
	}
	if ran < 10 {
		t.Errorf("only %d models were compared, want at least 10", ran)
	}
}
