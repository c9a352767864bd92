package featuremap

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// Drawable reports whether a tensor's type has values a feature map can
// show: float32, or an integer type with quantisation parameters.
func Drawable(t *tfl.Tensor) bool {
	switch t.Type {
	case tfl.Float32:
		return true
	case tfl.Int8, tfl.Uint8, tfl.Int16:
		return t.Quant != nil && len(t.Quant.Scale) > 0
	}
	return false
}

// Select resolves layer names to tensor indices of subgraph 0 of m. Each
// layer is a tensor name, matched exactly, or else a tensor index as
// `convert inspect` numbers them. With all, the layers must be empty and
// the result is every tensor an operator computes whose type Drawable
// accepts, in the order the operators run. A tensor named twice is an
// error, since the caller asked for something it did not mean.
func Select(m *tfl.Model, layers []string, all bool) ([]int, error) {
	if len(m.Subgraphs) == 0 {
		return nil, fmt.Errorf("featuremap: the model has no subgraph")
	}
	sg := &m.Subgraphs[0]
	if all {
		if len(layers) > 0 {
			return nil, fmt.Errorf("featuremap: layers %q and all layers both asked for: give one", layers)
		}
		var out []int
		seen := make([]bool, len(sg.Tensors))
		for _, op := range sg.Operators {
			for _, t := range op.Outputs {
				if t >= 0 && t < len(sg.Tensors) && !seen[t] && Drawable(&sg.Tensors[t]) {
					seen[t] = true
					out = append(out, t)
				}
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("featuremap: no operator computes a float32 or quantised tensor")
		}
		return out, nil
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("featuremap: no layer chosen: name tensors (convert inspect lists them) or ask for all")
	}
	var out []int
	for _, l := range layers {
		i := slices.IndexFunc(sg.Tensors, func(t tfl.Tensor) bool { return t.Name == l })
		if i < 0 {
			n, err := strconv.Atoi(l)
			if err != nil || n < 0 || n >= len(sg.Tensors) {
				return nil, fmt.Errorf("featuremap: layer %q is neither a tensor name nor an index 0..%d (convert inspect lists the tensors)",
					l, len(sg.Tensors)-1)
			}
			i = n
		}
		t := &sg.Tensors[i]
		if !Drawable(t) {
			return nil, fmt.Errorf("featuremap: tensor %d (%q) is %s: only float32 and quantised int8, uint8 and int16 tensors hold feature maps", i, t.Name, t.Type)
		}
		if slices.Contains(out, i) {
			return nil, fmt.Errorf("featuremap: tensor %d (%q) is chosen twice", i, t.Name)
		}
		out = append(out, i)
	}
	return out, nil
}
