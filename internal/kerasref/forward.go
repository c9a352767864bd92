package kerasref

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/fruitcam/fruitcam/internal/keras"
)

// tensor is one layer output for a batch of one: shape excludes the batch
// dimension, data is row-major.
type tensor struct {
	shape []int
	data  []float32
}

func newTensor(shape ...int) *tensor {
	return &tensor{shape: shape, data: make([]float32, numel(shape))}
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Forward runs m on one sample per model input (NHWC, batch 1, float32
// row-major) and returns every model output.
func Forward(m *keras.Model, inputs [][]float32) ([][]float32, error) {
	if m == nil {
		return nil, errors.New("kerasref: nil model")
	}
	if len(inputs) != len(m.Inputs) {
		return nil, fmt.Errorf("kerasref: model %q has %d inputs, got %d", m.Name, len(m.Inputs), len(inputs))
	}
	keras3 := isKeras3(m.KerasVersion)
	outs := make(map[string]*tensor, len(m.Layers))
	for i, name := range m.Inputs {
		l := m.Layer(name)
		if l == nil {
			return nil, fmt.Errorf("kerasref: model input %q is not a layer", name)
		}
		t, err := inputTensor(l, inputs[i])
		if err != nil {
			return nil, err
		}
		outs[name] = t
	}
	for _, l := range m.Layers {
		if _, done := outs[l.Name]; done {
			continue
		}
		if l.Class == "InputLayer" {
			return nil, fmt.Errorf("kerasref: input layer %q is not one of the model inputs %v", l.Name, m.Inputs)
		}
		ins := make([]*tensor, len(l.Inbound))
		for j, in := range l.Inbound {
			t, ok := outs[in]
			if !ok {
				return nil, fmt.Errorf("kerasref: layer %q reads %q before it is computed (layers are not in topological order)", l.Name, in)
			}
			ins[j] = t
		}
		out, err := run(l, keras3, ins)
		if err != nil {
			return nil, fmt.Errorf("kerasref: layer %q (%s): %w", l.Name, l.Class, err)
		}
		outs[l.Name] = out
	}
	res := make([][]float32, len(m.Outputs))
	for i, name := range m.Outputs {
		t, ok := outs[name]
		if !ok {
			return nil, fmt.Errorf("kerasref: model output %q is not a layer", name)
		}
		res[i] = slices.Clone(t.data)
	}
	return res, nil
}

// inputTensor checks one model input against its InputLayer shape. A single
// unknown dimension (besides the batch) is inferred from the data length.
func inputTensor(l *keras.Layer, data []float32) (*tensor, error) {
	if len(l.Shape) < 2 {
		return nil, fmt.Errorf("kerasref: input %q has shape %v, want a batch and at least one feature dimension", l.Name, l.Shape)
	}
	if b := l.Shape[0]; b != -1 && b != 1 {
		return nil, fmt.Errorf("kerasref: input %q has fixed batch size %d; only batch 1 is supported", l.Name, b)
	}
	shape := slices.Clone(l.Shape[1:])
	known, unknown := 1, -1
	for i, d := range shape {
		if d > 0 {
			known *= d
			continue
		}
		if d != -1 {
			return nil, fmt.Errorf("kerasref: input %q has shape %v with invalid dimension %d", l.Name, l.Shape, d)
		}
		if unknown >= 0 {
			return nil, fmt.Errorf("kerasref: input %q has shape %v with more than one unknown dimension; give the InputLayer a fixed shape", l.Name, l.Shape)
		}
		unknown = i
	}
	if unknown >= 0 {
		if len(data) == 0 || len(data)%known != 0 {
			return nil, fmt.Errorf("kerasref: input %q: %d values do not fit shape %v", l.Name, len(data), l.Shape)
		}
		shape[unknown] = len(data) / known
	}
	if len(data) != numel(shape) {
		return nil, fmt.Errorf("kerasref: input %q: got %d values, want %d for shape %v", l.Name, len(data), numel(shape), shape)
	}
	return &tensor{shape: shape, data: slices.Clone(data)}, nil
}

// isKeras3 reports whether version ("2.4.0", "2.2.4-tf", "3.12.0") is
// Keras 3 or later. An unknown version ("", a hand-built model) counts as
// Keras 2, the format of the .h5 files this package was first checked on.
func isKeras3(version string) bool {
	major, _, _ := strings.Cut(version, ".")
	n, err := strconv.Atoi(major)
	return err == nil && n >= 3
}

// run computes one layer; keras3 selects Keras 3 activation definitions.
func run(l *keras.Layer, keras3 bool, ins []*tensor) (*tensor, error) {
	switch l.Class {
	case "Add", "Multiply", "Concatenate":
		if len(ins) < 2 {
			return nil, fmt.Errorf("has %d inputs, want at least 2", len(ins))
		}
	default:
		if len(ins) != 1 {
			return nil, fmt.Errorf("has %d inputs, want 1", len(ins))
		}
	}
	x := ins[0]
	switch l.Class {
	case "Conv2D":
		return conv2D(l, keras3, x)
	case "DepthwiseConv2D":
		return depthwiseConv2D(l, keras3, x)
	case "SeparableConv2D":
		return separableConv2D(l, keras3, x)
	case "Dense":
		return dense(l, keras3, x)
	case "BatchNormalization":
		return batchNorm(l, x)
	case "Activation":
		return activate(l.Activation, keras3, x)
	case "ReLU":
		return relu(l, x), nil
	case "LeakyReLU":
		return mapTensor(x, func(v float64) float64 { return leaky(v, l.Alpha) }), nil
	case "Softmax":
		return softmax(x, l.Axis)
	case "MaxPooling2D":
		return pool2D(l, x, false)
	case "AveragePooling2D":
		return pool2D(l, x, true)
	case "GlobalAveragePooling2D":
		return globalAveragePool(l, x)
	case "ZeroPadding2D":
		return zeroPad(l, x)
	case "Flatten":
		return &tensor{shape: []int{numel(x.shape)}, data: x.data}, nil
	case "Reshape":
		return reshape(l, x)
	case "Dropout":
		// Inference: dropout is the identity.
		return x, nil
	case "Add":
		return broadcast(ins, func(a, b float64) float64 { return a + b })
	case "Multiply":
		return broadcast(ins, func(a, b float64) float64 { return a * b })
	case "Concatenate":
		return concatenate(l, ins)
	case "Rescaling":
		return rescale(l, x)
	case "Normalization":
		return normalize(l, x)
	default:
		return nil, fmt.Errorf("class %s has no reference implementation", l.Class)
	}
}

// weight returns l's weight name, checking its shape, which must be
// positive: the sizes come from the layer config, which a hand-built model
// may get wrong.
func weight(l *keras.Layer, name string, shape ...int) (*keras.Tensor, error) {
	for _, d := range shape {
		if d <= 0 {
			return nil, fmt.Errorf("%s weight: the config gives it shape %v, whose sizes must be positive", name, shape)
		}
	}
	w := l.Weights[name]
	if w == nil {
		return nil, fmt.Errorf("has no %s weight", name)
	}
	ok := slices.Equal(w.Shape, shape) && len(w.Data) == numel(w.Shape)
	if !ok {
		return nil, fmt.Errorf("%s weight has shape %v (%d values), want %v", name, w.Shape, len(w.Data), shape)
	}
	return w, nil
}

// bias returns the bias of a layer with use_bias, or nil.
func bias(l *keras.Layer, n int) ([]float32, error) {
	if !l.UseBias {
		return nil, nil
	}
	w, err := weight(l, "bias", n)
	if err != nil {
		return nil, err
	}
	return w.Data, nil
}

// axisIndex turns a Keras axis (counted with the batch dimension, negative
// from the end) into an index into a batch-less shape of the given rank.
func axisIndex(axis, rank int) (int, error) {
	a := axis
	if a < 0 {
		a += rank + 1
	}
	if a < 1 || a > rank {
		return 0, fmt.Errorf("axis %d is out of range for an input of rank %d (batch included)", axis, rank+1)
	}
	return a - 1, nil
}

func mapTensor(x *tensor, f func(float64) float64) *tensor {
	out := newTensor(slices.Clone(x.shape)...)
	for i, v := range x.data {
		out.data[i] = float32(f(float64(v)))
	}
	return out
}
