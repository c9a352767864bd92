package kerasref

import (
	"testing"

	"github.com/fruitcam/fruitcam/internal/keras"
)

// FuzzForward feeds Forward models that keras.ParseConfig accepts but whose
// weights and inputs need not fit them (hand-built models are not
// validated the way keras.ReadFile validates files): it must return an
// error, never panic. sizes picks each weight's in-channel count and the
// input length.
func FuzzForward(f *testing.F) {
	f.Add(graphConfig, []byte{1, 2, 2, 4})
	f.Add(`{"class_name": "Sequential", "config": {"name": "s", "layers": [
	 {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 2], "name": "x"}},
	 {"class_name": "SeparableConv2D", "config": {"name": "sep", "filters": 3, "kernel_size": 3, "strides": 2, "padding": "same", "depth_multiplier": 2}},
	 {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": 3}},
	 {"class_name": "ZeroPadding2D", "config": {"name": "zp", "padding": [[1, 0], [0, 1]]}},
	 {"class_name": "AveragePooling2D", "config": {"name": "ap", "pool_size": 2, "padding": "same"}},
	 {"class_name": "GlobalAveragePooling2D", "config": {"name": "gap", "keepdims": true}},
	 {"class_name": "Reshape", "config": {"name": "rs", "target_shape": [-1]}},
	 {"class_name": "Rescaling", "config": {"name": "sc", "scale": [1, 2, 3], "offset": 0.5}},
	 {"class_name": "Softmax", "config": {"name": "sm", "axis": [1]}}]}}`, []byte{2, 6, 3, 32})
	f.Fuzz(func(t *testing.T, config string, sizes []byte) {
		m, err := keras.ParseConfig([]byte(config))
		if err != nil || len(m.Layers) > 32 {
			return
		}
		next := func() int {
			if len(sizes) == 0 {
				return 1
			}
			v := int(sizes[0] % 8)
			sizes = sizes[1:]
			return v
		}
		for _, l := range m.Layers {
			// Keep sizes small: huge paddings or kernels are valid
			// but only test the machine's memory.
			if max(l.Filters, l.Units, l.DepthMultiplier, l.KernelSize[0], l.KernelSize[1], l.Dilation[0], l.Dilation[1],
				l.Pad[0][0], l.Pad[0][1], l.Pad[1][0], l.Pad[1][1]) > 16 {
				return
			}
		}
		// Bound the work too, not only the memory: a stack of 16x16
		// kernels with 16 filters over a large input is valid but takes
		// seconds, and a slow input makes the fuzzer miss its deadline.
		elems := 1
		for _, l := range m.Layers {
			if l.Class == "InputLayer" {
				for _, d := range l.Shape[1:] {
					elems *= max(d, 1)
					if elems > 1<<12 {
						return
					}
				}
			}
		}
		work := 0
		for _, l := range m.Layers {
			if max(l.PoolSize[0], l.PoolSize[1], l.Strides[0], l.Strides[1]) > 16 {
				return
			}
			work += elems * max(l.KernelSize[0], 1) * max(l.KernelSize[1], 1) * max(l.Filters, l.Units, l.DepthMultiplier, 1) * 8
			if work > 1<<24 {
				return
			}
		}
		for _, l := range m.Layers {
			k := l.KernelSize
			c := next()
			l.Weights = map[string]*keras.Tensor{}
			add := func(name string, shape ...int) {
				l.Weights[name] = &keras.Tensor{Shape: shape, Data: make([]float32, max(numel(shape), 0))}
			}
			switch l.Class {
			case "Conv2D":
				add("kernel", k[0], k[1], c, l.Filters)
				add("bias", l.Filters)
			case "DepthwiseConv2D":
				add("depthwise_kernel", k[0], k[1], c, l.DepthMultiplier)
				add("bias", c*l.DepthMultiplier)
			case "SeparableConv2D":
				add("depthwise_kernel", k[0], k[1], c, l.DepthMultiplier)
				add("pointwise_kernel", 1, 1, c*l.DepthMultiplier, l.Filters)
				add("bias", l.Filters)
			case "Dense":
				add("kernel", c, l.Units)
				add("bias", l.Units)
			case "BatchNormalization":
				for _, n := range []string{"gamma", "beta", "moving_mean", "moving_variance"} {
					add(n, c)
				}
			case "Normalization":
				add("mean", c)
				add("variance", c)
			}
		}
		inputs := make([][]float32, len(m.Inputs))
		for i := range inputs {
			n := next() * next() * next()
			if n > 1<<12 {
				return
			}
			inputs[i] = make([]float32, n)
		}
		Forward(m, inputs) //nolint:errcheck // only panics matter here
	})
}
