package kerasref

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/internal/keras"
)

// w builds a weight tensor.
func w(shape []int, data ...float32) *keras.Tensor {
	return &keras.Tensor{Shape: shape, Data: data}
}

func in(shape []int, data ...float32) *tensor {
	return &tensor{shape: shape, data: data}
}

func f64(v float64) *float64 { return &v }

// seq1to9 is a 3x3 single-channel image holding 1..9 row by row.
func seq1to9() *tensor { return in([]int{3, 3, 1}, 1, 2, 3, 4, 5, 6, 7, 8, 9) }

func conv(filters, kh, kw int, padding string, stride, dilation int, kernel *keras.Tensor, b *keras.Tensor, act string) *keras.Layer {
	l := &keras.Layer{Name: "conv", Class: "Conv2D", Filters: filters, KernelSize: [2]int{kh, kw},
		Strides: [2]int{stride, stride}, Dilation: [2]int{dilation, dilation}, Padding: padding,
		Activation: act, Weights: map[string]*keras.Tensor{"kernel": kernel}}
	if b != nil {
		l.UseBias = true
		l.Weights["bias"] = b
	}
	return l
}

func pool(class string, size, stride int, padding string) *keras.Layer {
	return &keras.Layer{Name: "pool", Class: class, PoolSize: [2]int{size, size}, Strides: [2]int{stride, stride}, Padding: padding}
}

func act(name string) *keras.Layer {
	return &keras.Layer{Name: "act", Class: "Activation", Activation: name}
}

// actInput covers negative, zero, small and saturating values.
var actInput = []float32{-4, -1, 0, 0.5, 3, 7}

// elementwise evaluates f on actInput, for activations whose values are
// transcendental; the expression is written here from the Keras docs, not
// taken from the package.
func elementwise(f func(x float64) float64) []float32 {
	out := make([]float32, len(actInput))
	for i, x := range actInput {
		out[i] = float32(f(float64(x)))
	}
	return out
}

func TestLayers(t *testing.T) {
	bnLayer := func(axis int, eps float64, weights map[string]*keras.Tensor) *keras.Layer {
		_, scale := weights["gamma"]
		_, center := weights["beta"]
		return &keras.Layer{Name: "bn", Class: "BatchNormalization", Axis: []int{axis}, Epsilon: eps,
			Scale: scale, Center: center, Weights: weights}
	}
	tests := []struct {
		name      string
		layer     *keras.Layer
		keras3    bool // the model was saved by Keras 3
		ins       []*tensor
		wantShape []int
		want      []float32
	}{
		{
			// out[y,x] = 1*in[y,x] + 2*in[y,x+1] + 3*in[y+1,x] + 4*in[y+1,x+1] + 1
			name:      "Conv2D valid 2x2 bias",
			layer:     conv(1, 2, 2, "valid", 1, 1, w([]int{2, 2, 1, 1}, 1, 2, 3, 4), w([]int{1}, 1), "linear"),
			ins:       []*tensor{seq1to9()},
			wantShape: []int{2, 2, 1},
			want:      []float32{38, 48, 68, 78},
		},
		{
			// Even kernel, "same": TF pads 0 above/left and 1 below/right, so
			// each output sums its own 2x2 block reaching down and right.
			name:      "Conv2D same even kernel pads after",
			layer:     conv(1, 2, 2, "same", 1, 1, w([]int{2, 2, 1, 1}, 1, 1, 1, 1), nil, "linear"),
			ins:       []*tensor{seq1to9()},
			wantShape: []int{3, 3, 1},
			want:      []float32{12, 16, 9, 24, 28, 15, 15, 17, 9},
		},
		{
			// 4x4 input 1..16, 3x3 ones, stride 2, "same": 2 outputs per
			// axis, 1 padding element in total, after.
			name:  "Conv2D same stride 2",
			layer: conv(1, 3, 3, "same", 2, 1, w([]int{3, 3, 1, 1}, 1, 1, 1, 1, 1, 1, 1, 1, 1), nil, "linear"),
			ins: []*tensor{in([]int{4, 4, 1},
				1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)},
			wantShape: []int{2, 2, 1},
			want:      []float32{54, 45, 72, 54},
		},
		{
			// Dilation 2: the 2x2 kernel touches the four corners.
			name:      "Conv2D dilation",
			layer:     conv(1, 2, 2, "valid", 1, 2, w([]int{2, 2, 1, 1}, 1, 2, 3, 4), nil, "linear"),
			ins:       []*tensor{seq1to9()},
			wantShape: []int{1, 1, 1},
			want:      []float32{1*1 + 3*2 + 7*3 + 9*4},
		},
		{
			// kernel [1,1,in=2,out=3]: out[o] = 1*k[0,o] + 2*k[1,o], then relu.
			name:      "Conv2D channels and relu",
			layer:     conv(3, 1, 1, "valid", 1, 1, w([]int{1, 1, 2, 3}, 1, -2, 3, 4, -5, -6), nil, "relu"),
			ins:       []*tensor{in([]int{1, 1, 2}, 1, 2)},
			wantShape: []int{1, 1, 3},
			want:      []float32{9, 0, 0},
		},
		{
			// Output channel i*mult+m = sum over kx of in[kx,i]*k[kx,i,m]:
			// (0,0) 1*1+3*5, (0,1) 1*2+3*6, (1,0) 2*3+4*7, (1,1) 2*4+4*8.
			name: "DepthwiseConv2D multiplier 2",
			layer: &keras.Layer{Name: "dw", Class: "DepthwiseConv2D", KernelSize: [2]int{1, 2}, Strides: [2]int{1, 1},
				Dilation: [2]int{1, 1}, Padding: "valid", DepthMultiplier: 2, UseBias: true, Activation: "relu",
				Weights: map[string]*keras.Tensor{
					"depthwise_kernel": w([]int{1, 2, 2, 2}, 1, 2, 3, 4, 5, 6, 7, 8),
					"bias":             w([]int{4}, 0.5, 0, 0, -100),
				}},
			ins:       []*tensor{in([]int{1, 2, 2}, 1, 2, 3, 4)},
			wantShape: []int{1, 1, 4},
			want:      []float32{16.5, 20, 34, 0},
		},
		{
			// The depthwise stage above gives 16, 20, 34, 40; pointwise
			// [[1,0],[0,1],[1,0],[0,-1]] then bias 1.
			name: "SeparableConv2D",
			layer: &keras.Layer{Name: "sep", Class: "SeparableConv2D", Filters: 2, KernelSize: [2]int{1, 2}, Strides: [2]int{1, 1},
				Dilation: [2]int{1, 1}, Padding: "valid", DepthMultiplier: 2, UseBias: true, Activation: "linear",
				Weights: map[string]*keras.Tensor{
					"depthwise_kernel": w([]int{1, 2, 2, 2}, 1, 2, 3, 4, 5, 6, 7, 8),
					"pointwise_kernel": w([]int{1, 1, 4, 2}, 1, 0, 0, 1, 1, 0, 0, -1),
					"bias":             w([]int{2}, 1, 1),
				}},
			ins:       []*tensor{in([]int{1, 2, 2}, 1, 2, 3, 4)},
			wantShape: []int{1, 1, 2},
			want:      []float32{51, -19},
		},
		{
			// gamma*(x-mean)/sqrt(var+eps)+beta with sqrt(3+1)=2, sqrt(0+1)=1.
			name: "BatchNormalization last axis",
			layer: bnLayer(-1, 1, map[string]*keras.Tensor{
				"gamma": w([]int{2}, 2, 1), "beta": w([]int{2}, 1, 0),
				"moving_mean": w([]int{2}, 1, 2), "moving_variance": w([]int{2}, 3, 0)}),
			ins:       []*tensor{in([]int{2, 2}, 1, 2, 3, 4)},
			wantShape: []int{2, 2},
			want:      []float32{1, 0, 3, 2},
		},
		{
			// axis 1 of [batch, 2, 1, 2] is the height: row 0 uses mean 1,
			// beta 0; row 1 mean 3, beta 10. No gamma (scale=False).
			name: "BatchNormalization inner axis no scale",
			layer: bnLayer(1, 1, map[string]*keras.Tensor{
				"beta": w([]int{2}, 0, 10), "moving_mean": w([]int{2}, 1, 3), "moving_variance": w([]int{2}, 0, 0)}),
			ins:       []*tensor{in([]int{2, 1, 2}, 1, 2, 3, 4)},
			wantShape: []int{2, 1, 2},
			want:      []float32{0, 1, 10, 11},
		},
		{name: "Activation linear", layer: act("linear"), ins: []*tensor{in([]int{6}, actInput...)}, wantShape: []int{6}, want: actInput},
		{name: "Activation relu", layer: act("relu"), ins: []*tensor{in([]int{6}, actInput...)}, wantShape: []int{6}, want: []float32{0, 0, 0, 0.5, 3, 7}},
		{name: "Activation relu6", layer: act("relu6"), ins: []*tensor{in([]int{6}, actInput...)}, wantShape: []int{6}, want: []float32{0, 0, 0, 0.5, 3, 6}},
		{name: "Activation leaky_relu", layer: act("leaky_relu"), ins: []*tensor{in([]int{6}, actInput...)}, wantShape: []int{6}, want: []float32{-0.8, -0.2, 0, 0.5, 3, 7}},
		{
			// Keras 2: clip(0.2x + 0.5, 0, 1).
			name: "Activation hard_sigmoid", layer: act("hard_sigmoid"), ins: []*tensor{in([]int{6}, actInput...)},
			wantShape: []int{6}, want: []float32{0, 0.3, 0.5, 0.6, 1, 1},
		},
		{
			// x * relu6(x+3) / 6.
			name: "Activation hard_swish", layer: act("hard_swish"), ins: []*tensor{in([]int{6}, actInput...)},
			wantShape: []int{6}, want: []float32{0, -1.0 / 3, 0, 0.5 * 3.5 / 6, 3, 7},
		},
		{
			// Keras 3: relu6(x + 3) / 6.
			name: "Activation hard_sigmoid Keras 3", layer: act("hard_sigmoid"), keras3: true, ins: []*tensor{in([]int{6}, actInput...)},
			wantShape: []int{6}, want: []float32{0, 1.0 / 3, 0.5, 3.5 / 6, 1, 1},
		},
		{
			name: "Conv2D fused hard_sigmoid Keras 3", layer: conv(1, 1, 1, "valid", 1, 1, w([]int{1, 1, 1, 1}, 1), nil, "hard_sigmoid"), keras3: true,
			ins: []*tensor{in([]int{1, 2, 1}, -1, 0.5)}, wantShape: []int{1, 2, 1}, want: []float32{1.0 / 3, 3.5 / 6},
		},
		{name: "Activation hard_silu", layer: act("hard_silu"), ins: []*tensor{in([]int{6}, actInput...)}, wantShape: []int{6}, want: []float32{0, -1.0 / 3, 0, 0.5 * 3.5 / 6, 3, 7}},
		{
			name: "Activation sigmoid", layer: act("sigmoid"), ins: []*tensor{in([]int{6}, actInput...)}, wantShape: []int{6},
			want: elementwise(func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }),
		},
		{name: "Activation tanh", layer: act("tanh"), ins: []*tensor{in([]int{6}, actInput...)}, wantShape: []int{6}, want: elementwise(math.Tanh)},
		{
			name: "Activation swish", layer: act("swish"), ins: []*tensor{in([]int{6}, actInput...)}, wantShape: []int{6},
			want: elementwise(func(x float64) float64 { return x / (1 + math.Exp(-x)) }),
		},
		{
			name: "Activation silu", layer: act("silu"), ins: []*tensor{in([]int{6}, actInput...)}, wantShape: []int{6},
			want: elementwise(func(x float64) float64 { return x / (1 + math.Exp(-x)) }),
		},
		{
			name: "Activation elu", layer: act("elu"), ins: []*tensor{in([]int{6}, actInput...)}, wantShape: []int{6},
			want: []float32{-0.98168436, -0.63212056, 0, 0.5, 3, 7},
		},
		{
			// Rows [1,2,3] and [1,1,1]: e^k/(e+e^2+e^3) and thirds.
			name: "Activation softmax last axis", layer: act("softmax"), ins: []*tensor{in([]int{2, 3}, 1, 2, 3, 1, 1, 1)},
			wantShape: []int{2, 3}, want: []float32{0.09003057, 0.24472847, 0.66524096, 1.0 / 3, 1.0 / 3, 1.0 / 3},
		},
		{
			name:  "ReLU threshold slope max_value",
			layer: &keras.Layer{Name: "relu", Class: "ReLU", Alpha: 0.1, Threshold: 1, MaxValue: f64(5)},
			ins:   []*tensor{in([]int{5}, -1, 0.5, 1, 2, 6)},
			// below the threshold 0.1*(x-1); above it x capped at 5.
			wantShape: []int{5}, want: []float32{-0.2, -0.05, 0, 2, 5},
		},
		{
			name:      "ReLU max_value 6",
			layer:     &keras.Layer{Name: "relu", Class: "ReLU", MaxValue: f64(6)},
			ins:       []*tensor{in([]int{6}, actInput...)},
			wantShape: []int{6}, want: []float32{0, 0, 0, 0.5, 3, 6},
		},
		{
			name:      "ReLU plain",
			layer:     &keras.Layer{Name: "relu", Class: "ReLU"},
			ins:       []*tensor{in([]int{6}, actInput...)},
			wantShape: []int{6}, want: []float32{0, 0, 0, 0.5, 3, 7},
		},
		{
			name:      "LeakyReLU",
			layer:     &keras.Layer{Name: "lrelu", Class: "LeakyReLU", Alpha: 0.5},
			ins:       []*tensor{in([]int{6}, actInput...)},
			wantShape: []int{6}, want: []float32{-2, -0.5, 0, 0.5, 3, 7},
		},
		{
			// axis 1 of [batch, 2, 3] runs down the columns: [0, ln 3]
			// gives 1/4, 3/4; [0, 0] halves; [0, -ln 3] 3/4, 1/4.
			name:      "Softmax axis 1",
			layer:     &keras.Layer{Name: "sm", Class: "Softmax", Axis: []int{1}},
			ins:       []*tensor{in([]int{2, 3}, 0, 0, 0, float32(math.Log(3)), 0, float32(-math.Log(3)))},
			wantShape: []int{2, 3}, want: []float32{0.25, 0.5, 0.75, 0.75, 0.5, 0.25},
		},
		{
			// Over both axes: exps 1, 1, 1, 3, 1, 1 sum to 8.
			name:      "Softmax two axes",
			layer:     &keras.Layer{Name: "sm", Class: "Softmax", Axis: []int{1, 2}},
			ins:       []*tensor{in([]int{2, 3}, 0, 0, 0, float32(math.Log(3)), 0, 0)},
			wantShape: []int{2, 3}, want: []float32{0.125, 0.125, 0.125, 0.375, 0.125, 0.125},
		},
		{
			name:      "MaxPooling2D valid",
			layer:     pool("MaxPooling2D", 2, 2, "valid"),
			ins:       []*tensor{seq1to9()},
			wantShape: []int{1, 1, 1}, want: []float32{5},
		},
		{
			// "same" on 3 with pool 2 stride 2 pads one row/column after.
			name:      "MaxPooling2D same",
			layer:     pool("MaxPooling2D", 2, 2, "same"),
			ins:       []*tensor{seq1to9()},
			wantShape: []int{2, 2, 1}, want: []float32{5, 6, 8, 9},
		},
		{
			name:      "MaxPooling2D negative values ignore padding",
			layer:     pool("MaxPooling2D", 2, 2, "same"),
			ins:       []*tensor{in([]int{1, 1, 1}, -3)},
			wantShape: []int{1, 1, 1}, want: []float32{-3},
		},
		{
			name:      "AveragePooling2D valid",
			layer:     pool("AveragePooling2D", 2, 2, "valid"),
			ins:       []*tensor{seq1to9()},
			wantShape: []int{1, 1, 1}, want: []float32{3},
		},
		{
			// Averages only over the real elements: (3+6)/2, (7+8)/2, 9/1.
			name:      "AveragePooling2D same",
			layer:     pool("AveragePooling2D", 2, 2, "same"),
			ins:       []*tensor{seq1to9()},
			wantShape: []int{2, 2, 1}, want: []float32{3, 4.5, 7.5, 9},
		},
		{
			// Pool 3 stride 1 "same" pads one on every side.
			name:      "AveragePooling2D same odd",
			layer:     pool("AveragePooling2D", 3, 1, "same"),
			ins:       []*tensor{seq1to9()},
			wantShape: []int{3, 3, 1}, want: []float32{3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7},
		},
		{
			name:      "GlobalAveragePooling2D",
			layer:     &keras.Layer{Name: "gap", Class: "GlobalAveragePooling2D"},
			ins:       []*tensor{in([]int{2, 2, 2}, 1, 10, 2, 20, 3, 30, 4, 40)},
			wantShape: []int{2}, want: []float32{2.5, 25},
		},
		{
			name:      "GlobalAveragePooling2D keepdims",
			layer:     &keras.Layer{Name: "gap", Class: "GlobalAveragePooling2D", KeepDims: true},
			ins:       []*tensor{in([]int{2, 2, 2}, 1, 10, 2, 20, 3, 30, 4, 40)},
			wantShape: []int{1, 1, 2}, want: []float32{2.5, 25},
		},
		{
			name:      "ZeroPadding2D asymmetric",
			layer:     &keras.Layer{Name: "zp", Class: "ZeroPadding2D", Pad: [2][2]int{{1, 0}, {0, 2}}},
			ins:       []*tensor{in([]int{1, 2, 1}, 1, 2)},
			wantShape: []int{2, 4, 1}, want: []float32{0, 0, 0, 0, 1, 2, 0, 0},
		},
		{
			name:      "Flatten",
			layer:     &keras.Layer{Name: "flat", Class: "Flatten"},
			ins:       []*tensor{in([]int{2, 1, 2}, 1, 2, 3, 4)},
			wantShape: []int{4}, want: []float32{1, 2, 3, 4},
		},
		{
			name:      "Reshape infers -1",
			layer:     &keras.Layer{Name: "rs", Class: "Reshape", TargetShape: []int{-1, 3}},
			ins:       []*tensor{in([]int{6}, 1, 2, 3, 4, 5, 6)},
			wantShape: []int{2, 3}, want: []float32{1, 2, 3, 4, 5, 6},
		},
		{
			// Rank-2 input: the kernel [[1,0,1],[0,1,-1]] applies per row.
			name: "Dense on last axis",
			layer: &keras.Layer{Name: "d", Class: "Dense", Units: 3, UseBias: true, Activation: "linear",
				Weights: map[string]*keras.Tensor{"kernel": w([]int{2, 3}, 1, 0, 1, 0, 1, -1), "bias": w([]int{3}, 0, 0, 1)}},
			ins:       []*tensor{in([]int{2, 2}, 1, 2, 3, 4)},
			wantShape: []int{2, 3}, want: []float32{1, 2, 0, 3, 4, 0},
		},
		{
			// Logits [0, ln 3] give 1/4, 3/4.
			name: "Dense softmax",
			layer: &keras.Layer{Name: "d", Class: "Dense", Units: 2, Activation: "softmax",
				Weights: map[string]*keras.Tensor{"kernel": w([]int{1, 2}, 0, float32(math.Log(3)))}},
			ins:       []*tensor{in([]int{1}, 1)},
			wantShape: []int{2}, want: []float32{0.25, 0.75},
		},
		{
			name:      "Dropout is identity",
			layer:     &keras.Layer{Name: "drop", Class: "Dropout", Rate: 0.5},
			ins:       []*tensor{in([]int{3}, 1, -2, 3)},
			wantShape: []int{3}, want: []float32{1, -2, 3},
		},
		{
			name:      "Add three",
			layer:     &keras.Layer{Name: "add", Class: "Add"},
			ins:       []*tensor{in([]int{2}, 1, 2), in([]int{2}, 10, 20), in([]int{2}, 100, 200)},
			wantShape: []int{2}, want: []float32{111, 222},
		},
		{
			// A [C] input broadcasts over [H, W, C].
			name:      "Add broadcasts lower rank",
			layer:     &keras.Layer{Name: "add", Class: "Add"},
			ins:       []*tensor{in([]int{2, 1, 2}, 1, 2, 3, 4), in([]int{2}, 10, 20)},
			wantShape: []int{2, 1, 2}, want: []float32{11, 22, 13, 24},
		},
		{
			// Squeeze-and-excite style: [1, 1, C] scales [H, W, C].
			name:      "Multiply broadcasts size-1 axes",
			layer:     &keras.Layer{Name: "mul", Class: "Multiply"},
			ins:       []*tensor{in([]int{2, 1, 2}, 1, 2, 3, 4), in([]int{1, 1, 2}, 2, -1)},
			wantShape: []int{2, 1, 2}, want: []float32{2, -2, 6, -4},
		},
		{
			name:      "Concatenate last axis",
			layer:     &keras.Layer{Name: "cat", Class: "Concatenate", Axis: []int{-1}},
			ins:       []*tensor{in([]int{2, 1}, 1, 2), in([]int{2, 2}, 10, 11, 20, 21)},
			wantShape: []int{2, 3}, want: []float32{1, 10, 11, 2, 20, 21},
		},
		{
			name:      "Concatenate axis 1",
			layer:     &keras.Layer{Name: "cat", Class: "Concatenate", Axis: []int{1}},
			ins:       []*tensor{in([]int{1, 2}, 1, 2), in([]int{2, 2}, 3, 4, 5, 6)},
			wantShape: []int{3, 2}, want: []float32{1, 2, 3, 4, 5, 6},
		},
		{
			name:      "Rescaling scalar",
			layer:     &keras.Layer{Name: "rs", Class: "Rescaling", RescaleScale: []float64{0.5}, RescaleOffset: []float64{-1}},
			ins:       []*tensor{in([]int{1, 1, 2}, 2, 4)},
			wantShape: []int{1, 1, 2}, want: []float32{0, 1},
		},
		{
			name:      "Rescaling per channel",
			layer:     &keras.Layer{Name: "rs", Class: "Rescaling", RescaleScale: []float64{1, 2, 3}, RescaleOffset: []float64{0, 0, 1}},
			ins:       []*tensor{in([]int{1, 2, 3}, 1, 1, 1, 2, 2, 2)},
			wantShape: []int{1, 2, 3}, want: []float32{1, 2, 4, 2, 4, 7},
		},
		{
			// (x - [1, 2]) / [2, 3]
			name:      "Normalization config",
			layer:     &keras.Layer{Name: "n", Class: "Normalization", Axis: []int{-1}, Mean: []float64{1, 2}, Variance: []float64{4, 9}},
			ins:       []*tensor{in([]int{2, 2}, 3, 2, 5, 8)},
			wantShape: []int{2, 2}, want: []float32{1, 0, 2, 2},
		},
		{
			name:      "Normalization invert",
			layer:     &keras.Layer{Name: "n", Class: "Normalization", Axis: []int{-1}, Mean: []float64{1, 2}, Variance: []float64{4, 9}, Invert: true},
			ins:       []*tensor{in([]int{2, 2}, 1, 0, 2, 2)},
			wantShape: []int{2, 2}, want: []float32{3, 2, 5, 8},
		},
		{
			// Zero variance divides by keras.backend.epsilon() = 1e-7.
			name:      "Normalization zero variance",
			layer:     &keras.Layer{Name: "n", Class: "Normalization", Axis: []int{-1}, Mean: []float64{1}, Variance: []float64{0}},
			ins:       []*tensor{in([]int{2}, 1, 1.5)},
			wantShape: []int{2}, want: []float32{0, 5e6},
		},
		{
			// Adapted weights over the height axis (axis 1 of [b, 2, 1, 2]).
			name: "Normalization weights inner axis",
			layer: &keras.Layer{Name: "n", Class: "Normalization", Axis: []int{1},
				Weights: map[string]*keras.Tensor{"mean": w([]int{2}, 0, 10), "variance": w([]int{2}, 1, 4), "count": w([]int{}, 5)}},
			ins:       []*tensor{in([]int{2, 1, 2}, 1, 2, 12, 14)},
			wantShape: []int{2, 1, 2}, want: []float32{1, 2, 1, 2},
		},
		{
			// axis None: one mean and variance for everything.
			name: "Normalization axis None",
			layer: &keras.Layer{Name: "n", Class: "Normalization",
				Weights: map[string]*keras.Tensor{"mean": w([]int{}, 1), "variance": w([]int{}, 4)}},
			ins:       []*tensor{in([]int{3}, 1, 3, 5)},
			wantShape: []int{3}, want: []float32{0, 1, 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := run(tt.layer, tt.keras3, tt.ins)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.shape, tt.wantShape) {
				t.Errorf("shape: got %v, want %v", got.shape, tt.wantShape)
			}
			if len(got.data) != len(tt.want) {
				t.Fatalf("got %d values %v, want %d %v", len(got.data), got.data, len(tt.want), tt.want)
			}
			for i := range got.data {
				if !close32(got.data[i], tt.want[i]) {
					t.Errorf("got %v, want %v", got.data, tt.want)
					break
				}
			}
		})
	}
}

// close32 allows the float32 rounding of the expected values written here
// (relative 1e-6).
func close32(got, want float32) bool {
	return math.Abs(float64(got)-float64(want)) <= 1e-6*(1+math.Abs(float64(want)))
}

func TestLayerErrors(t *testing.T) {
	tests := []struct {
		name  string
		layer *keras.Layer
		ins   []*tensor
		want  string
	}{
		{
			name:  "kernel does not match input channels",
			layer: conv(1, 1, 1, "valid", 1, 1, w([]int{1, 1, 2, 1}, 1, 1), nil, "linear"),
			ins:   []*tensor{seq1to9()},
			want:  "kernel weight has shape [1 1 2 1]",
		},
		{
			name:  "valid window larger than input",
			layer: conv(1, 5, 5, "valid", 1, 1, w([]int{5, 5, 1, 1}, make([]float32, 25)...), nil, "linear"),
			ins:   []*tensor{seq1to9()},
			want:  "smaller than the window",
		},
		{
			name:  "conv on a flat input",
			layer: conv(1, 1, 1, "valid", 1, 1, w([]int{1, 1, 1, 1}, 1), nil, "linear"),
			ins:   []*tensor{in([]int{3}, 1, 2, 3)},
			want:  "want [height, width, channels]",
		},
		{
			name:  "missing bias",
			layer: &keras.Layer{Name: "d", Class: "Dense", Units: 1, UseBias: true, Activation: "linear", Weights: map[string]*keras.Tensor{"kernel": w([]int{1, 1}, 1)}},
			ins:   []*tensor{in([]int{1}, 1)},
			want:  "no bias weight",
		},
		{
			name:  "unknown activation",
			layer: act("gelu"),
			ins:   []*tensor{in([]int{1}, 1)},
			want:  `activation "gelu"`,
		},
		{
			name:  "unknown class",
			layer: &keras.Layer{Name: "x", Class: "LSTM"},
			ins:   []*tensor{in([]int{1}, 1)},
			want:  "class LSTM has no reference implementation",
		},
		{
			name:  "add shapes do not broadcast",
			layer: &keras.Layer{Name: "add", Class: "Add"},
			ins:   []*tensor{in([]int{2}, 1, 2), in([]int{3}, 1, 2, 3)},
			want:  "does not broadcast",
		},
		{
			name:  "concatenate mismatch",
			layer: &keras.Layer{Name: "cat", Class: "Concatenate", Axis: []int{-1}},
			ins:   []*tensor{in([]int{2, 1}, 1, 2), in([]int{3, 1}, 1, 2, 3)},
			want:  "differ off axis",
		},
		{
			name:  "batch norm axis out of range",
			layer: &keras.Layer{Name: "bn", Class: "BatchNormalization", Axis: []int{4}, Epsilon: 1e-3},
			ins:   []*tensor{in([]int{2}, 1, 2)},
			want:  "axis 4 is out of range",
		},
		{
			name:  "rescaling size",
			layer: &keras.Layer{Name: "rs", Class: "Rescaling", RescaleScale: []float64{1, 2}, RescaleOffset: []float64{0}},
			ins:   []*tensor{in([]int{3}, 1, 2, 3)},
			want:  "scale has 2 values",
		},
		{
			name:  "reshape size",
			layer: &keras.Layer{Name: "rs", Class: "Reshape", TargetShape: []int{4, -1}},
			ins:   []*tensor{in([]int{6}, 1, 2, 3, 4, 5, 6)},
			want:  "cannot reshape",
		},
		{
			name:  "dense without units",
			layer: &keras.Layer{Name: "d", Class: "Dense", Activation: "linear", Weights: map[string]*keras.Tensor{"kernel": w([]int{1, 1}, 1)}},
			ins:   []*tensor{in([]int{1}, 1)},
			want:  "sizes must be positive",
		},
		{
			name:  "normalization without statistics",
			layer: &keras.Layer{Name: "n", Class: "Normalization", Axis: []int{-1}},
			ins:   []*tensor{in([]int{2}, 1, 2)},
			want:  "neither mean/variance",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := run(tt.layer, false, tt.ins)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestIsKeras3(t *testing.T) {
	for _, tt := range []struct {
		version string
		want    bool
	}{
		{"2.4.0", false}, {"2.2.4-tf", false}, {"", false}, {"garbage", false},
		{"3.0.0", true}, {"3.12.0", true}, {"4", true},
	} {
		if got := isKeras3(tt.version); got != tt.want {
			t.Errorf("isKeras3(%q): got %v, want %v", tt.version, got, tt.want)
		}
	}
}
