package native

import (
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// reluChain is a float model of RELU operators: ops[k] = {input, output}.
func reluChain(shapes [][]int, inputs, outputs []int, ops ...[2]int) *tfl.Model {
	sg := tfl.Subgraph{Inputs: inputs, Outputs: outputs}
	for i, s := range shapes {
		sg.Tensors = append(sg.Tensors, tfl.Tensor{Name: string(rune('a' + i)), Type: tfl.Float32, Shape: s})
	}
	for _, op := range ops {
		sg.Operators = append(sg.Operators, tfl.Operator{Inputs: []int{op[0]}, Outputs: []int{op[1]}})
	}
	return &tfl.Model{
		Version:       3,
		OperatorCodes: []tfl.OperatorCode{{Builtin: tfl.OpRelu, Version: 1}},
		Subgraphs:     []tfl.Subgraph{sg},
		Buffers:       [][]byte{nil},
	}
}

// TestNewRefusesBrokenGraphs: graphs whose operators are out of order or
// write a tensor twice, and shapes that would need absurd memory, are
// errors at load, not crashes or gigabyte allocations (found by fuzzing
// the quantiser).
func TestNewRefusesBrokenGraphs(t *testing.T) {
	s := []int{1, 4}
	tests := []struct {
		name string
		m    *tfl.Model
		want string
	}{
		{"ok", reluChain([][]int{s, s, s}, []int{0}, []int{2}, [2]int{0, 1}, [2]int{1, 2}), ""},
		{"out of order", reluChain([][]int{s, s, s}, []int{0}, []int{2}, [2]int{1, 2}, [2]int{0, 1}), "before any operator writes it"},
		{"written twice", reluChain([][]int{s, s}, []int{0}, []int{1}, [2]int{0, 1}, [2]int{0, 1}), "written by operator 0 (RELU) and again by operator 1"},
		{"self loop", reluChain([][]int{s, s}, []int{0}, []int{1}, [2]int{1, 1}), "before any operator writes it"},
		{"writes input", reluChain([][]int{s, s}, []int{0}, []int{1}, [2]int{0, 1}, [2]int{1, 0}), "writes to model input"},
		{"output never written", reluChain([][]int{s, s, s}, []int{0}, []int{2}, [2]int{0, 1}), "never written"},
		{"huge input", reluChain([][]int{{1 << 20, 1 << 20}, {1 << 20, 1 << 20}}, []int{0}, []int{1}, [2]int{0, 1}), "MiB"},
		{"overflowing shape", reluChain([][]int{{1 << 20, 1 << 20, 1 << 20}, s}, []int{0}, []int{1}, [2]int{0, 1}), "MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.m, Options{})
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("New: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
