package lower_test

import (
	"fmt"

	"github.com/fruitcam/fruitcam/internal/keras"
	"github.com/fruitcam/fruitcam/internal/lower"
)

// A Rescaling(1/255) after the input is folded into the input
// normalisation, the batch normalisation into the convolution and the
// ReLU into both; Dense with softmax keeps SOFTMAX as its own operator.
func Example() {
	ones := func(shape ...int) *keras.Tensor {
		n := 1
		for _, d := range shape {
			n *= d
		}
		t := &keras.Tensor{Shape: shape, Data: make([]float32, n)}
		for i := range t.Data {
			t.Data[i] = 1
		}
		return t
	}
	m := &keras.Model{
		Inputs:  []string{"image"},
		Outputs: []string{"dense"},
		Layers: []*keras.Layer{
			{Name: "image", Class: "InputLayer", Shape: []int{-1, 8, 8, 3}},
			{Name: "rescaling", Class: "Rescaling", Inbound: []string{"image"},
				RescaleScale: []float64{1.0 / 255}, RescaleOffset: []float64{0}},
			{Name: "conv2d", Class: "Conv2D", Inbound: []string{"rescaling"}, Filters: 4,
				KernelSize: [2]int{3, 3}, Strides: [2]int{2, 2}, Dilation: [2]int{1, 1}, Padding: "same",
				Activation: "linear", Weights: map[string]*keras.Tensor{"kernel": ones(3, 3, 3, 4)}},
			{Name: "batch_normalization", Class: "BatchNormalization", Inbound: []string{"conv2d"},
				Axis: []int{-1}, Epsilon: 1e-3, Center: true, Scale: true, Weights: map[string]*keras.Tensor{
					"gamma": ones(4), "beta": ones(4), "moving_mean": ones(4), "moving_variance": ones(4)}},
			{Name: "re_lu", Class: "ReLU", Inbound: []string{"batch_normalization"}},
			{Name: "gap", Class: "GlobalAveragePooling2D", Inbound: []string{"re_lu"}},
			{Name: "dense", Class: "Dense", Inbound: []string{"gap"}, Units: 2, UseBias: true,
				Activation: "softmax", Weights: map[string]*keras.Tensor{"kernel": ones(4, 2), "bias": ones(2)}},
		},
	}
	res, err := lower.Lower(m, lower.Options{Description: "example"})
	if err != nil {
		panic(err)
	}
	sg := res.Model.Subgraphs[0]
	for _, op := range sg.Operators {
		fmt.Printf("%-17s -> %s\n", res.Model.OperatorCodes[op.OpcodeIndex].Builtin, sg.Tensors[op.Outputs[0]].Name)
	}
	fmt.Println("input normalisation:", res.InputNormalize)
	for _, n := range res.Notes {
		fmt.Println("note:", n)
	}
	// Output:
	// CONV_2D           -> re_lu
	// MEAN              -> gap
	// FULLY_CONNECTED   -> dense/linear
	// SOFTMAX           -> dense
	// input normalisation: unit
	// note: rescaling folded into the input normalisation (unit)
	// note: batch_normalization folded into conv2d
	// note: re_lu (relu) fused into conv2d
}
