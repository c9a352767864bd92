package lower

import (
	"math"
	"math/rand/v2"

	"github.com/fruitcam/fruitcam/internal/keras"
)

// kb builds small keras.Model graphs in Go, the way internal/keras would
// read them from a file: typed fields set, weights in Keras layout.
type kb struct {
	m    *keras.Model
	r    *rand.Rand
	last string
}

func newKB(seed uint64) *kb {
	return &kb{m: &keras.Model{Name: "test"}, r: rand.New(rand.NewPCG(seed, 7))}
}

// input adds an InputLayer of per-example shape s (dynamic batch).
func (b *kb) input(name string, s ...int) string {
	b.m.Layers = append(b.m.Layers, &keras.Layer{Name: name, Class: "InputLayer", Shape: append([]int{-1}, s...)})
	b.m.Inputs = append(b.m.Inputs, name)
	b.last = name
	return name
}

// add appends l reading inbound (the previous layer when none is given).
func (b *kb) add(l *keras.Layer, inbound ...string) string {
	if len(inbound) == 0 {
		inbound = []string{b.last}
	}
	l.Inbound = inbound
	if l.Strides == [2]int{} {
		l.Strides = [2]int{1, 1}
	}
	if l.Dilation == [2]int{} {
		l.Dilation = [2]int{1, 1}
	}
	if l.Padding == "" {
		l.Padding = "valid"
	}
	if l.Activation == "" && l.Class != "Activation" {
		l.Activation = "linear"
	}
	b.m.Layers = append(b.m.Layers, l)
	b.last = l.Name
	return l.Name
}

func (b *kb) outputs(names ...string) *keras.Model {
	if len(names) == 0 {
		names = []string{b.last}
	}
	b.m.Outputs = names
	return b.m
}

// tensor is a random weight scaled by 1/sqrt(fan) so activations stay
// near unit size through a few layers.
func (b *kb) tensor(fan int, shape ...int) *keras.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	s := float32(1 / math.Sqrt(float64(max(fan, 1))))
	t := &keras.Tensor{Shape: shape, Data: make([]float32, n)}
	for i := range t.Data {
		t.Data[i] = s * (2*b.r.Float32() - 1) * 1.7
	}
	return t
}

func (b *kb) conv(name string, c, f, k int, mods ...func(*keras.Layer)) *keras.Layer {
	l := &keras.Layer{Name: name, Class: "Conv2D", Filters: f, KernelSize: [2]int{k, k}, UseBias: true,
		Weights: map[string]*keras.Tensor{"kernel": b.tensor(k*k*c, k, k, c, f), "bias": b.tensor(4, f)}}
	for _, m := range mods {
		m(l)
	}
	if !l.UseBias {
		delete(l.Weights, "bias")
	}
	return l
}

func (b *kb) depthwise(name string, c, mult, k int, mods ...func(*keras.Layer)) *keras.Layer {
	l := &keras.Layer{Name: name, Class: "DepthwiseConv2D", DepthMultiplier: mult, KernelSize: [2]int{k, k}, UseBias: true,
		Weights: map[string]*keras.Tensor{"depthwise_kernel": b.tensor(k*k, k, k, c, mult), "bias": b.tensor(4, c*mult)}}
	for _, m := range mods {
		m(l)
	}
	return l
}

func (b *kb) separable(name string, c, mult, f, k int, mods ...func(*keras.Layer)) *keras.Layer {
	l := &keras.Layer{Name: name, Class: "SeparableConv2D", DepthMultiplier: mult, Filters: f, KernelSize: [2]int{k, k}, UseBias: true,
		Weights: map[string]*keras.Tensor{"depthwise_kernel": b.tensor(k*k, k, k, c, mult),
			"pointwise_kernel": b.tensor(c*mult, 1, 1, c*mult, f), "bias": b.tensor(4, f)}}
	for _, m := range mods {
		m(l)
	}
	return l
}

func (b *kb) dense(name string, in, units int, act string) *keras.Layer {
	return &keras.Layer{Name: name, Class: "Dense", Units: units, UseBias: true, Activation: act,
		Weights: map[string]*keras.Tensor{"kernel": b.tensor(in, in, units), "bias": b.tensor(4, units)}}
}

func (b *kb) batchNorm(name string, c int) *keras.Layer {
	gamma, beta, mean, variance := b.tensor(1, c), b.tensor(1, c), b.tensor(1, c), b.tensor(1, c)
	for i := range variance.Data {
		variance.Data[i] = 0.3 + variance.Data[i]*variance.Data[i]
		gamma.Data[i] += 1.5
	}
	return &keras.Layer{Name: name, Class: "BatchNormalization", Axis: []int{-1}, Epsilon: 1e-3, Center: true, Scale: true,
		Weights: map[string]*keras.Tensor{"gamma": gamma, "beta": beta, "moving_mean": mean, "moving_variance": variance}}
}

func act(name, a string) *keras.Layer {
	return &keras.Layer{Name: name, Class: "Activation", Activation: a}
}

func pool(name, class string, size, stride int, pad string) *keras.Layer {
	return &keras.Layer{Name: name, Class: class, PoolSize: [2]int{size, size}, Strides: [2]int{stride, stride}, Padding: pad}
}

func layer(name, class string) *keras.Layer { return &keras.Layer{Name: name, Class: class} }

func rescaling(name string, scale, offset []float64) *keras.Layer {
	return &keras.Layer{Name: name, Class: "Rescaling", RescaleScale: scale, RescaleOffset: offset}
}

func normalization(name string, mean, variance []float64) *keras.Layer {
	return &keras.Layer{Name: name, Class: "Normalization", Axis: []int{-1}, Mean: mean, Variance: variance}
}

func same(l *keras.Layer)   { l.Padding = "same" }
func noBias(l *keras.Layer) { l.UseBias = false }
func relu(l *keras.Layer)   { l.Activation = "relu" }
func stride(s int) func(*keras.Layer) {
	return func(l *keras.Layer) { l.Strides = [2]int{s, s} }
}
func dilation(d int) func(*keras.Layer) {
	return func(l *keras.Layer) { l.Dilation = [2]int{d, d} }
}
func activation(a string) func(*keras.Layer) {
	return func(l *keras.Layer) { l.Activation = a }
}
func f64(v float64) *float64 { return &v }
