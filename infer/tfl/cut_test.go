package tfl

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// branchyModel:
//
//	in(0) ─ADD(c=1)─> a(2) ─RELU─> r(3) ─MUL(·, a)─> out(4)
//	in(0) ─RELU─> side(5)                 (a second, unused output)
//
// with an unused constant (6) whose buffer must disappear when cut.
func branchyModel() *Model {
	f := func(name string, buf int) Tensor {
		return Tensor{Name: name, Type: Float32, Shape: []int{1, 2}, Buffer: buf}
	}
	return &Model{
		Version:     3,
		Description: "branchy",
		OperatorCodes: []OperatorCode{
			{Builtin: OpMul, Version: 1}, {Builtin: OpAdd, Version: 1}, {Builtin: OpRelu, Version: 1},
		},
		Buffers: [][]byte{nil, make([]byte, 8), make([]byte, 8), []byte("labels"), []byte("{}")},
		Metadata: []Metadata{
			{Name: "labels", Buffer: 3},
			{Name: "TFLITE_METADATA", Buffer: 4},
		},
		Subgraphs: []Subgraph{{
			Name:    "main",
			Tensors: []Tensor{f("in", 0), f("c", 1), f("a", 0), f("r", 0), f("out", 0), f("side", 0), f("unused", 2)},
			Inputs:  []int{0},
			Outputs: []int{4, 5},
			Operators: []Operator{
				{OpcodeIndex: 1, Inputs: []int{0, 1}, Outputs: []int{2}, Options: &ActivationOptions{}},
				{OpcodeIndex: 2, Inputs: []int{0}, Outputs: []int{5}},
				{OpcodeIndex: 2, Inputs: []int{2}, Outputs: []int{3}},
				{OpcodeIndex: 0, Inputs: []int{3, 2}, Outputs: []int{4}, Options: &ActivationOptions{Activation: ActRelu}},
			},
		}},
	}
}

func TestWithOutputs(t *testing.T) {
	m := branchyModel()
	tests := []struct {
		name    string
		outputs []int
		// kept tensor names, operator codes (in order), buffer lengths
		tensors []string
		ops     []BuiltinOp
		buffers []int
	}{
		{"first op", []int{2}, []string{"in", "c", "a"}, []BuiltinOp{OpAdd}, []int{0, 8, 6}},
		{"chain", []int{4}, []string{"in", "c", "a", "r", "out"}, []BuiltinOp{OpAdd, OpRelu, OpMul}, []int{0, 8, 6}},
		{"side", []int{5}, []string{"in", "side"}, []BuiltinOp{OpRelu}, []int{0, 6}},
		{"input itself", []int{0}, []string{"in"}, nil, []int{0, 6}},
		{"two, reordered", []int{3, 5}, []string{"in", "c", "a", "r", "side"}, []BuiltinOp{OpAdd, OpRelu, OpRelu}, []int{0, 8, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.WithOutputs(tt.outputs...)
			if err != nil {
				t.Fatal(err)
			}
			sg := got.Subgraphs[0]
			var names []string
			for _, tn := range sg.Tensors {
				names = append(names, tn.Name)
			}
			var ops []BuiltinOp
			for _, op := range sg.Operators {
				ops = append(ops, got.OperatorCodes[op.OpcodeIndex].Builtin)
			}
			var bufs []int
			for _, b := range got.Buffers {
				bufs = append(bufs, len(b))
			}
			if !reflect.DeepEqual(names, tt.tensors) || !reflect.DeepEqual(ops, tt.ops) || !reflect.DeepEqual(bufs, tt.buffers) {
				t.Errorf("tensors %v ops %v buffers %v, want %v %v %v", names, ops, bufs, tt.tensors, tt.ops, tt.buffers)
			}
			// Outputs and inputs are the requested tensors, by name.
			for i, o := range sg.Outputs {
				if want := m.Subgraphs[0].Tensors[tt.outputs[i]].Name; sg.Tensors[o].Name != want {
					t.Errorf("output %d is %q, want %q", i, sg.Tensors[o].Name, want)
				}
			}
			if in := sg.Tensors[sg.Inputs[0]].Name; in != "in" {
				t.Errorf("input is %q, want \"in\"", in)
			}
			if !reflect.DeepEqual(got.Metadata, []Metadata{{Name: "labels", Buffer: len(got.Buffers) - 1}}) {
				t.Errorf("metadata %v, want only labels pointing at the last buffer", got.Metadata)
			}
			// The cut model is a valid file.
			out, err := Write(got)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(out)
			if err != nil {
				t.Fatal(err)
			}
			if string(back.Buffer(back.Metadata[0].Buffer)) != "labels" {
				t.Errorf("metadata buffer reads %q, want \"labels\"", back.Buffer(back.Metadata[0].Buffer))
			}
		})
	}
	// The original is untouched.
	if !reflect.DeepEqual(m, branchyModel()) {
		t.Error("WithOutputs modified its receiver")
	}
}

func TestWithOutputsErrors(t *testing.T) {
	m := branchyModel()
	for _, outputs := range [][]int{nil, {7}, {-1}, {2, 2}} {
		if _, err := m.WithOutputs(outputs...); err == nil {
			t.Errorf("WithOutputs(%v) succeeded, want an error", outputs)
		}
	}
	if _, err := (&Model{}).WithOutputs(0); err == nil {
		t.Error("WithOutputs on a model without subgraphs succeeded")
	}
}

// TestWithOutputsRunsInTFLite cuts MobileNet v1 in the middle and runs the
// cut model in the real TensorFlow Lite runtime: it must produce the
// intermediate tensor (its byte size is that of the tensor's shape), and
// a model cut to both the final and the intermediate tensor must still
// compute the original's output exactly.
func TestWithOutputsRunsInTFLite(t *testing.T) {
	crun := crunPath(t)
	path := filepath.Join(testdataDir(t), "models", "coral", "mobilenet_v1_0.25_128_quant.tflite")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	sg := &m.Subgraphs[0]
	mid := sg.Operators[len(sg.Operators)/2].Outputs[0]
	final := sg.Outputs[0]
	in := randomInput(m, 3)
	want, err := runTFLite(t, crun, data, in)
	if err != nil {
		t.Fatal(err)
	}

	cut, err := m.WithOutputs(mid)
	if err != nil {
		t.Fatal(err)
	}
	if n, all := len(cut.Subgraphs[0].Operators), len(sg.Operators); n != len(sg.Operators)/2+1 {
		t.Errorf("cut keeps %d of %d operators, want %d", n, all, all/2+1)
	}
	out, err := Write(cut)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) >= len(data)/2 {
		t.Errorf("cut file is %d bytes of the original %d: unused weights were kept", len(out), len(data))
	}
	got, err := runTFLite(t, crun, out, in)
	if err != nil {
		t.Fatal(err)
	}
	tn := sg.Tensors[mid]
	if wantLen := NumElements(tn.Shape) * tn.Type.Size(); len(got) != wantLen {
		t.Errorf("%q %v: TensorFlow Lite gave %d bytes, want %d", tn.Name, tn.Shape, len(got), wantLen)
	}
	t.Logf("cut at %q %s %v: %d of %d operators, %d bytes", tn.Name, tn.Type, tn.Shape, len(cut.Subgraphs[0].Operators), len(sg.Operators), len(out))

	both, err := m.WithOutputs(final, mid)
	if err != nil {
		t.Fatal(err)
	}
	out, err = Write(both)
	if err != nil {
		t.Fatal(err)
	}
	got, err = runTFLite(t, crun, out, in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("model cut to (final, %q) computes a different final output", tn.Name)
	}
}
