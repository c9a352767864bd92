package inspect_test

import (
	"fmt"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/inspect"
)

// A float model cannot run on the Edge TPU: every tensor must be int8 or
// uint8.
func ExampleCheckEdgeTPU() {
	m := &tfl.Model{
		Version:       3,
		OperatorCodes: []tfl.OperatorCode{{Builtin: tfl.OpFullyConnected, Version: 1}},
		Buffers:       [][]byte{nil, make([]byte, 4*2*3)},
		Subgraphs: []tfl.Subgraph{{
			Tensors: []tfl.Tensor{
				{Name: "in", Type: tfl.Float32, Shape: []int{1, 3}},
				{Name: "weights", Type: tfl.Float32, Shape: []int{2, 3}, Buffer: 1},
				{Name: "out", Type: tfl.Float32, Shape: []int{1, 2}},
			},
			Inputs: []int{0}, Outputs: []int{2},
			Operators: []tfl.Operator{{Inputs: []int{0, 1, -1}, Outputs: []int{2}, Options: &tfl.FullyConnectedOptions{}}},
		}},
	}
	v := inspect.CheckEdgeTPU(m)
	fmt.Println(v.Verdict)
	for _, o := range v.Offences {
		fmt.Printf("#%d %s: %s\n", o.Op, o.Name, o.Reason)
	}
	// Output:
	// incompatible
	// #0 FULLY_CONNECTED: tensors t0 float32[1,3], t1 float32[2,3], t2 float32[1,2] are float32; the Edge TPU needs every tensor int8 or uint8 (full-integer quantisation)
}
