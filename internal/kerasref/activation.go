package kerasref

import (
	"fmt"
	"math"
	"slices"

	"github.com/fruitcam/fruitcam/internal/keras"
)

// activations are the element-wise Keras activations by name (softmax, which
// is not element-wise, is handled apart).
var activations = map[string]func(float64) float64{
	"linear":  func(x float64) float64 { return x },
	"relu":    func(x float64) float64 { return max(x, 0) },
	"relu6":   relu6,
	"sigmoid": sigmoid,
	"tanh":    math.Tanh,
	// keras.activations.leaky_relu's default slope (Keras 3; tf.nn's in
	// Keras 2).
	"leaky_relu": func(x float64) float64 { return leaky(x, 0.2) },
	// Keras 2's piecewise-linear approximation; Keras 3 changed it to
	// relu6(x+3)/6 (hardSigmoid3, chosen by activation).
	"hard_sigmoid": func(x float64) float64 { return min(max(0.2*x+0.5, 0), 1) },
	"hard_swish":   hardSwish,
	"hard_silu":    hardSwish,
	"swish":        func(x float64) float64 { return x * sigmoid(x) },
	"silu":         func(x float64) float64 { return x * sigmoid(x) },
	"elu": func(x float64) float64 {
		if x > 0 {
			return x
		}
		return math.Expm1(x) // alpha 1
	},
}

func relu6(x float64) float64 { return min(max(x, 0), 6) }

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func hardSwish(x float64) float64 { return x * relu6(x+3) / 6 }

func hardSigmoid3(x float64) float64 { return relu6(x+3) / 6 }

// leaky is tf.nn.leaky_relu: x for x > 0, alpha*x otherwise.
func leaky(x, alpha float64) float64 {
	if x > 0 {
		return x
	}
	return alpha * x
}

// activate applies a named activation as the Keras that saved the model
// defines it (keras3: Keras 3 or later); softmax runs over the last axis as
// keras.activations.softmax does.
func activate(name string, keras3 bool, x *tensor) (*tensor, error) {
	if name == "linear" {
		return x, nil
	}
	if name == "softmax" {
		return softmax(x, []int{-1})
	}
	if name == "hard_sigmoid" && keras3 {
		return mapTensor(x, hardSigmoid3), nil
	}
	f, ok := activations[name]
	if !ok {
		return nil, fmt.Errorf("activation %q has no reference implementation", name)
	}
	return mapTensor(x, f), nil
}

// relu is the ReLU layer, computed the way keras.backend.relu does (Keras 2
// and 3 alike):
//
//	pos = x if x > threshold else 0      (relu(x) when threshold is 0)
//	pos = clip(pos, 0, max_value)        when max_value is set
//	out = pos - negative_slope * relu(threshold - x)
//
// which is the documented max_value / x / negative_slope*(x-threshold)
// piecewise function for the usual non-negative thresholds.
func relu(l *keras.Layer, x *tensor) *tensor {
	slope, th := l.Alpha, l.Threshold
	return mapTensor(x, func(v float64) float64 {
		var pos float64
		switch {
		case th != 0:
			if v > th {
				pos = v
			}
		default:
			pos = max(v, 0)
		}
		if l.MaxValue != nil {
			pos = min(max(pos, 0), *l.MaxValue)
		}
		return pos - slope*max(th-v, 0)
	})
}

// softmax normalises exp(x) over the given Keras axes (counted with the
// batch dimension). With a batch of one, the batch axis contributes a single
// element and can be dropped.
func softmax(x *tensor, axes []int) (*tensor, error) {
	rank := len(x.shape)
	red := make([]bool, rank)
	for _, a := range axes {
		if a == 0 || a == -(rank+1) {
			continue // the batch axis, of size 1
		}
		i, err := axisIndex(a, rank)
		if err != nil {
			return nil, err
		}
		red[i] = true
	}
	// Each element belongs to the group of elements sharing its indices on
	// the axes that are not reduced.
	groupStride := make([]int, rank)
	groups := 1
	for i := rank - 1; i >= 0; i-- {
		if !red[i] {
			groupStride[i] = groups
			groups *= x.shape[i]
		}
	}
	group := make([]int, len(x.data))
	idx := make([]int, rank)
	for n := range x.data {
		g := 0
		for i, v := range idx {
			g += v * groupStride[i]
		}
		group[n] = g
		for i := rank - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < x.shape[i] {
				break
			}
			idx[i] = 0
		}
	}
	hi := slices.Repeat([]float64{math.Inf(-1)}, groups)
	for n, v := range x.data {
		hi[group[n]] = max(hi[group[n]], float64(v))
	}
	sum := make([]float64, groups)
	e := make([]float64, len(x.data))
	for n, v := range x.data {
		e[n] = math.Exp(float64(v) - hi[group[n]])
		sum[group[n]] += e[n]
	}
	out := newTensor(slices.Clone(x.shape)...)
	for n := range e {
		out.data[n] = float32(e[n] / sum[group[n]])
	}
	return out, nil
}
