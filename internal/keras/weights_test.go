package keras

import (
	"strings"
	"testing"
)

func zeros(shape ...int) storedWeight {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return storedWeight{shape: shape, data: make([]float32, n)}
}

func named(path string, w storedWeight) storedWeight {
	w.path = path
	return w
}

// weightModel builds input(8x8x3) -> l, with l given found weights.
func weightModel(t *testing.T, l *Layer, found ...storedWeight) error {
	t.Helper()
	in := &Layer{Name: "in", Class: "InputLayer", Config: map[string]any{"batch_input_shape": []any{nil, 8.0, 8.0, 3.0}}}
	if err := typeLayer(in); err != nil {
		t.Fatal(err)
	}
	l.Inbound = []string{"in"}
	if err := typeLayer(l); err != nil {
		t.Fatal(err)
	}
	if err := assignWeights(in, nil); err != nil {
		return err
	}
	if err := assignWeights(l, found); err != nil {
		return err
	}
	return validateWeights(&Model{Layers: []*Layer{in, l}, Inputs: []string{"in"}, Outputs: []string{l.Name}})
}

func TestWeightValidation(t *testing.T) {
	conv := func() *Layer {
		return &Layer{Name: "c", Class: "Conv2D", Config: map[string]any{"filters": 4.0, "kernel_size": 3.0}}
	}
	dense := func() *Layer {
		return &Layer{Name: "d", Class: "Dense", Config: map[string]any{"units": 2.0}}
	}
	bn := func() *Layer {
		return &Layer{Name: "bn", Class: "BatchNormalization", Config: map[string]any{"axis": 3.0}}
	}
	neg := zeros(3)
	neg.data[1] = -1
	nan := zeros(3)
	nan.data[0] = float32(nanValue())
	tests := []struct {
		name  string
		layer *Layer
		found []storedWeight
		want  string // "" = valid
	}{
		{"conv ok", conv(), []storedWeight{named("c/kernel:0", zeros(3, 3, 3, 4)), named("c/bias:0", zeros(4))}, ""},
		{"conv keras 3 positional", conv(), []storedWeight{named("vars/1", zeros(4)), named("vars/0", zeros(3, 3, 3, 4))}, ""},
		{"conv wrong in channels", conv(), []storedWeight{named("c/kernel:0", zeros(3, 3, 2, 4)), named("c/bias:0", zeros(4))}, "kernel has shape [3 3 2 4]"},
		{"conv wrong bias", conv(), []storedWeight{named("c/kernel:0", zeros(3, 3, 3, 4)), named("c/bias:0", zeros(5))}, "bias has shape"},
		{"conv missing bias", conv(), []storedWeight{named("c/kernel:0", zeros(3, 3, 3, 4))}, "no bias weight"},
		{"conv extra weight", conv(), []storedWeight{named("c/kernel:0", zeros(3, 3, 3, 4)), named("c/bias:0", zeros(4)), named("c/gamma:0", zeros(4))}, "unexpected weight"},
		{"conv too many vars", conv(), []storedWeight{named("vars/0", zeros(3, 3, 3, 4)), named("vars/1", zeros(4)), named("vars/2", zeros(4))}, "at most 2"},
		{"conv NaN", conv(), []storedWeight{named("c/kernel:0", zeros(3, 3, 3, 4)), named("c/bias:0", storedWeight{shape: []int{4}, data: []float32{0, 0, 0, float32(nanValue())}})}, "holds NaN"},
		{"dense wrong in", dense(), []storedWeight{named("d/kernel:0", zeros(4, 2)), named("d/bias:0", zeros(2))}, "kernel has shape [4 2]"},
		{"dense ok", dense(), []storedWeight{named("d/kernel:0", zeros(3, 2)), named("d/bias:0", zeros(2))}, ""},
		{"bn ok", bn(), []storedWeight{named("bn/gamma:0", zeros(3)), named("bn/beta:0", zeros(3)), named("bn/moving_mean:0", zeros(3)), named("bn/moving_variance:0", zeros(3))}, ""},
		{"bn negative variance", bn(), []storedWeight{named("bn/gamma:0", zeros(3)), named("bn/beta:0", zeros(3)), named("bn/moving_mean:0", zeros(3)), named("bn/moving_variance:0", neg)}, "negative"},
		{"bn wrong channels", bn(), []storedWeight{named("bn/gamma:0", zeros(4)), named("bn/beta:0", zeros(3)), named("bn/moving_mean:0", zeros(3)), named("bn/moving_variance:0", zeros(3))}, "gamma has shape [4]"},
		{"bn missing gamma", bn(), []storedWeight{named("bn/beta:0", zeros(3)), named("bn/moving_mean:0", zeros(3)), named("bn/moving_variance:0", nan)}, "no gamma"},
		{"depthwise keras 3 name", &Layer{Name: "dw", Class: "DepthwiseConv2D", Config: map[string]any{"kernel_size": []any{3.0, 3.0}, "use_bias": false}},
			[]storedWeight{named("dw/kernel", zeros(3, 3, 3, 1))}, ""},
		{"separable", &Layer{Name: "s", Class: "SeparableConv2D", Config: map[string]any{"filters": 5.0, "kernel_size": 3.0, "depth_multiplier": 2.0}},
			[]storedWeight{named("s/depthwise_kernel:0", zeros(3, 3, 3, 2)), named("s/pointwise_kernel:0", zeros(1, 1, 6, 5)), named("s/bias:0", zeros(5))}, ""},
		{"separable wrong pointwise", &Layer{Name: "s", Class: "SeparableConv2D", Config: map[string]any{"filters": 5.0, "kernel_size": 3.0, "depth_multiplier": 2.0}},
			[]storedWeight{named("s/depthwise_kernel:0", zeros(3, 3, 3, 2)), named("s/pointwise_kernel:0", zeros(1, 1, 3, 5)), named("s/bias:0", zeros(5))}, "pointwise_kernel has shape"},
		{"weights on a weightless layer", &Layer{Name: "f", Class: "Flatten", Config: map[string]any{}}, []storedWeight{named("f/kernel:0", zeros(1))}, "unexpected weight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := weightModel(t, tt.layer, tt.found...)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `"`+tt.layer.Name+`"`) {
				t.Fatalf("got error %v, want one naming layer %q and containing %q", err, tt.layer.Name, tt.want)
			}
		})
	}
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}
