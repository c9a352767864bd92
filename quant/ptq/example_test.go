package ptq_test

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant/ptq"
)

// f32 encodes float32 values as tensor bytes.
func f32(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// A one-layer float model y = relu(W·x + b) with inputs in [0, 1] is
// calibrated on four samples. The input takes the unit range's parameters
// (every 8-bit pixel exact); the output's come from the calibrated range
// [0, 2.3]; the weights are per tensor (max |w| = 2 over 127 codes) and
// the bias scale is the input scale times the weight scale.
func Example() {
	m := &tfl.Model{
		Version:       3,
		OperatorCodes: []tfl.OperatorCode{{Builtin: tfl.OpFullyConnected, Version: 1}},
		Buffers:       [][]byte{nil, f32(1, -1, 0.5, 2), f32(0.1, -0.2)},
		Subgraphs: []tfl.Subgraph{{
			Tensors: []tfl.Tensor{
				{Name: "x", Type: tfl.Float32, Shape: []int{1, 2}},
				{Name: "w", Type: tfl.Float32, Shape: []int{2, 2}, Buffer: 1},
				{Name: "b", Type: tfl.Float32, Shape: []int{2}, Buffer: 2},
				{Name: "y", Type: tfl.Float32, Shape: []int{1, 2}},
			},
			Inputs:  []int{0},
			Outputs: []int{3},
			Operators: []tfl.Operator{{Inputs: []int{0, 1, 2}, Outputs: []int{3},
				Options: &tfl.FullyConnectedOptions{Activation: tfl.ActRelu}}},
		}},
	}
	c, err := ptq.NewCalibrator(m, ptq.Options{InputRange: &[2]float64{0, 1}})
	if err != nil {
		panic(err)
	}
	for _, x := range [][]float32{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
		if err := c.Add(f32(x...)); err != nil {
			panic(err)
		}
	}
	q, err := c.Quantize()
	if err != nil {
		panic(err)
	}
	for _, t := range q.Subgraphs[0].Tensors {
		fmt.Printf("%s %s scale %.6g zero point %v\n", t.Name, t.Type, t.Quant.Scale, t.Quant.ZeroPoint)
	}
	fmt.Println(q.OperatorCodes[0].Name(), "version", q.OperatorCodes[0].Version)
	// Output:
	// x int8 scale [0.00392157] zero point [-128]
	// w int8 scale [0.015748] zero point [0]
	// b int32 scale [6.1757e-05] zero point [0]
	// y int8 scale [0.00901961] zero point [-128]
	// FULLY_CONNECTED version 4
}
