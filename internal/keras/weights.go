package keras

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// weightOrder lists a layer's weights in Keras creation order, which is the
// order of Keras 3 ".keras" vars/0, vars/1, ... The second result is the
// number of leading names that are required; the rest are optional.
func weightOrder(l *Layer) ([]string, int) {
	switch l.Class {
	case "Conv2D", "Dense":
		if l.UseBias {
			return []string{"kernel", "bias"}, 2
		}
		return []string{"kernel"}, 1
	case "DepthwiseConv2D":
		if l.UseBias {
			return []string{"depthwise_kernel", "bias"}, 2
		}
		return []string{"depthwise_kernel"}, 1
	case "SeparableConv2D":
		if l.UseBias {
			return []string{"depthwise_kernel", "pointwise_kernel", "bias"}, 3
		}
		return []string{"depthwise_kernel", "pointwise_kernel"}, 2
	case "BatchNormalization":
		var names []string
		if l.Scale {
			names = append(names, "gamma")
		}
		if l.Center {
			names = append(names, "beta")
		}
		names = append(names, "moving_mean", "moving_variance")
		return names, len(names)
	case "Normalization":
		if l.Mean != nil {
			// Keras 3 may still save (unused) adapt variables; accept them.
			return []string{"mean", "variance", "count"}, 0
		}
		return []string{"mean", "variance", "count"}, 2
	}
	return nil, 0
}

// storedWeight is one dataset found for a layer.
type storedWeight struct {
	path  string
	shape []int
	data  []float32
}

// assignWeights names the datasets found for l and checks the set is the
// one its class needs.
func assignWeights(l *Layer, found []storedWeight) error {
	order, required := weightOrder(l)
	l.Weights = make(map[string]*Tensor, len(found))
	positional := len(found) > 0
	for _, w := range found {
		base := w.path[strings.LastIndexByte(w.path, '/')+1:]
		if _, err := strconv.Atoi(base); err != nil {
			positional = false
		}
	}
	if positional {
		// Keras 3 .keras: vars/0, vars/1, ... in creation order.
		slices.SortFunc(found, func(a, b storedWeight) int {
			x, _ := strconv.Atoi(a.path[strings.LastIndexByte(a.path, '/')+1:])
			y, _ := strconv.Atoi(b.path[strings.LastIndexByte(b.path, '/')+1:])
			return x - y
		})
		for i, w := range found {
			if i >= len(order) {
				return fmt.Errorf("layer %q (%s) has %d weights, want at most %d", l.Name, l.Class, len(found), len(order))
			}
			l.Weights[order[i]] = &Tensor{Shape: w.shape, Data: w.data}
		}
	} else {
		for _, w := range found {
			name := w.path[strings.LastIndexByte(w.path, '/')+1:]
			name = strings.TrimSuffix(name, ":0")
			if name == "kernel" && l.Class == "DepthwiseConv2D" {
				name = "depthwise_kernel" // Keras 3 name
			}
			if !slices.Contains(order, name) {
				return fmt.Errorf("layer %q (%s) has unexpected weight %s", l.Name, l.Class, w.path)
			}
			if _, dup := l.Weights[name]; dup {
				return fmt.Errorf("layer %q (%s) has two %s weights", l.Name, l.Class, name)
			}
			l.Weights[name] = &Tensor{Shape: w.shape, Data: w.data}
		}
	}
	for _, name := range order[:required] {
		if l.Weights[name] == nil {
			return fmt.Errorf("layer %q (%s) has no %s weight (found %d weights)", l.Name, l.Class, name, len(found))
		}
	}
	return nil
}

// validateWeights checks every weight against the layer configs, tracking
// the channel count (last dimension) through the graph so kernels can be
// checked against their real input. 0 means unknown.
func validateWeights(m *Model) error {
	ch := make(map[string]int, len(m.Layers))
	for _, l := range m.Layers {
		for name, t := range l.Weights {
			n := 1
			for _, d := range t.Shape {
				if d <= 0 {
					return fmt.Errorf("layer %q: weight %s has shape %v", l.Name, name, t.Shape)
				}
				n *= d
			}
			if n != len(t.Data) {
				return fmt.Errorf("layer %q: weight %s has %d values for shape %v", l.Name, name, len(t.Data), t.Shape)
			}
			for _, v := range t.Data {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return fmt.Errorf("layer %q: weight %s holds %v", l.Name, name, v)
				}
			}
		}
		in := 0
		if len(l.Inbound) > 0 {
			in = ch[l.Inbound[0]]
		}
		out, err := checkLayerWeights(l, in, ch)
		if err != nil {
			return fmt.Errorf("layer %q (%s): %w", l.Name, l.Class, err)
		}
		ch[l.Name] = out
	}
	return nil
}

func want(l *Layer, name string, shape ...int) error {
	t := l.Weights[name]
	if t == nil {
		return fmt.Errorf("missing %s weight", name)
	}
	if len(t.Shape) != len(shape) {
		return fmt.Errorf("%s has shape %v, want %v", name, t.Shape, shape)
	}
	for i, d := range shape {
		if d > 0 && t.Shape[i] != d {
			return fmt.Errorf("%s has shape %v, want %v (0 = any)", name, t.Shape, shape)
		}
	}
	return nil
}

func wantBias(l *Layer, n int) error {
	if !l.UseBias {
		return nil
	}
	return want(l, "bias", n)
}

func checkLayerWeights(l *Layer, in int, ch map[string]int) (int, error) {
	kh, kw := l.KernelSize[0], l.KernelSize[1]
	switch l.Class {
	case "InputLayer":
		return max(l.Shape[len(l.Shape)-1], 0), nil
	case "Conv2D":
		if err := want(l, "kernel", kh, kw, in, l.Filters); err != nil {
			return 0, err
		}
		return l.Filters, wantBias(l, l.Filters)
	case "DepthwiseConv2D":
		if err := want(l, "depthwise_kernel", kh, kw, in, l.DepthMultiplier); err != nil {
			return 0, err
		}
		out := l.Weights["depthwise_kernel"].Shape[2] * l.DepthMultiplier
		return out, wantBias(l, out)
	case "SeparableConv2D":
		if err := want(l, "depthwise_kernel", kh, kw, in, l.DepthMultiplier); err != nil {
			return 0, err
		}
		mid := l.Weights["depthwise_kernel"].Shape[2] * l.DepthMultiplier
		if err := want(l, "pointwise_kernel", 1, 1, mid, l.Filters); err != nil {
			return 0, err
		}
		return l.Filters, wantBias(l, l.Filters)
	case "Dense":
		if err := want(l, "kernel", in, l.Units); err != nil {
			return 0, err
		}
		return l.Units, wantBias(l, l.Units)
	case "BatchNormalization":
		c := in
		if c == 0 {
			c = l.Weights["moving_mean"].shapeLast()
		}
		for _, name := range []string{"gamma", "beta", "moving_mean", "moving_variance"} {
			if l.Weights[name] == nil {
				continue
			}
			if err := want(l, name, c); err != nil {
				return 0, err
			}
		}
		for _, v := range l.Weights["moving_variance"].Data {
			if v < 0 {
				return 0, fmt.Errorf("moving_variance holds negative value %g", v)
			}
		}
		return c, nil
	case "Normalization":
		if l.Weights["mean"] != nil || l.Weights["variance"] != nil {
			if l.Weights["mean"] == nil || l.Weights["variance"] == nil {
				return 0, fmt.Errorf("has only one of mean and variance")
			}
			if len(l.Weights["mean"].Data) != len(l.Weights["variance"].Data) {
				return 0, fmt.Errorf("mean has %d values, variance %d", len(l.Weights["mean"].Data), len(l.Weights["variance"].Data))
			}
		}
		return in, nil
	case "Add", "Multiply":
		out := 0
		for _, name := range l.Inbound {
			c := ch[name]
			if c > 1 && out > 1 && c != out {
				return 0, fmt.Errorf("inputs have %d and %d channels", out, c)
			}
			out = max(out, c)
		}
		return out, nil
	case "Concatenate":
		if l.Axis[0] != -1 {
			return 0, nil
		}
		sum := 0
		for _, name := range l.Inbound {
			if ch[name] == 0 {
				return 0, nil
			}
			sum += ch[name]
		}
		return sum, nil
	case "Flatten":
		return 0, nil
	case "Reshape":
		return max(l.TargetShape[len(l.TargetShape)-1], 0), nil
	}
	return in, nil
}

func (t *Tensor) shapeLast() int {
	if t == nil || len(t.Shape) == 0 {
		return 0
	}
	return t.Shape[len(t.Shape)-1]
}
