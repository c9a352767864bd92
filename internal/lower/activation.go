package lower

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/keras"
)

// activation lowers activation act of layer l applied to v; the result
// tensor is called name. RELU and RELU6 are fused into v's producer
// (convolution, dense, ADD, MUL) when nothing else reads v, as
// TensorFlow's converter does; the fused kernel computes the same values.
func (lw *lowerer) activation(l *keras.Layer, act string, v *value, name string) (*value, error) {
	switch act {
	case "linear":
		return v, nil
	case "relu", "relu6":
		code, fused := tfl.OpRelu, tfl.ActRelu
		if act == "relu6" {
			code, fused = tfl.OpRelu6, tfl.ActRelu6
		}
		if lw.fusable(v) && v.owner != l.Name {
			lw.g.setFused(v.op, fused)
			lw.notef("%s (%s) fused into %s", l.Name, act, lw.g.ops[v.op].layer)
			out := lw.rename(v, name)
			out.fold = nil
			return out, nil
		}
		return lw.unary(code, v, name, l.Name, nil), nil
	case "sigmoid":
		return lw.unary(tfl.OpLogistic, v, name, l.Name, nil), nil
	case "tanh":
		return lw.unary(tfl.OpTanh, v, name, l.Name, nil), nil
	case "softmax":
		if len(v.shape) == 0 {
			return nil, shapeError(l, "softmax of a scalar")
		}
		return lw.unary(tfl.OpSoftmax, v, name, l.Name, &tfl.SoftmaxOptions{Beta: 1}), nil
	case "leaky_relu":
		// Keras 3's leaky_relu activation has negative_slope 0.2.
		return lw.leakyRelu(l, v, 0.2, name), nil
	case "hard_swish", "hard_silu":
		// x * relu6(x + 3) / 6 in Keras 3, which is HARD_SWISH.
		return lw.unary(tfl.OpHardSwish, v, name, l.Name, nil), nil
	case "swish", "silu":
		// x * sigmoid(x), as TensorFlow's converter emits it.
		s := lw.unary(tfl.OpLogistic, v, name+"/sigmoid", l.Name, nil)
		t := lw.g.activation(name, v.shape)
		i := lw.g.addOp(tfl.OpMul, []int{v.t, s.t}, []int{t}, &tfl.ActivationOptions{})
		return &value{t: t, shape: v.shape, owner: l.Name, op: i}, nil
	case "hard_sigmoid":
		return lw.hardSigmoid(l, v, name)
	case "elu", "selu", "gelu", "softplus", "softsign", "exponential", "mish", "log_softmax":
		return nil, &UnsupportedError{Layer: l.Name, Class: l.Class, What: fmt.Sprintf("activation %q", act),
			Fix: "fruitcam's engine has no operator for it; retrain with relu, relu6, leaky_relu, sigmoid, tanh, swish or hard_swish"}
	}
	return nil, &UnsupportedError{Layer: l.Name, Class: l.Class, What: fmt.Sprintf("activation %q", act),
		Fix: "use relu, relu6, leaky_relu, sigmoid, tanh, softmax, swish, hard_swish or linear"}
}

// leakyRelu lowers x for x > 0, alpha*x otherwise: LEAKY_RELU, or with
// Options.EdgeTPU a PRELU whose constant alpha repeats the slope once per
// channel.
func (lw *lowerer) leakyRelu(l *keras.Layer, v *value, alpha float64, name string) *value {
	// The model tensor is [batch, v.shape...]; TFLite broadcasts PRELU's
	// alpha up to rank 4 only, so deeper tensors keep LEAKY_RELU.
	if !lw.opts.EdgeTPU || len(v.shape)+1 > preluMaxRank {
		if lw.opts.EdgeTPU {
			lw.notef("%s (LeakyReLU) kept as LEAKY_RELU: its %d-dimensional output is beyond PRELU's %d", l.Name, len(v.shape)+1, preluMaxRank)
		}
		return lw.unary(tfl.OpLeakyRelu, v, name, l.Name, &tfl.LeakyReluOptions{Alpha: float32(alpha)})
	}
	shape := preluAlphaShape(v.shape)
	slopes := make([]float32, shape[len(shape)-1])
	for i := range slopes {
		slopes[i] = float32(alpha)
	}
	a := lw.g.constF(name+"/alpha", shape, slopes)
	t := lw.g.activation(name, v.shape)
	i := lw.g.addOp(tfl.OpPrelu, []int{v.t, a}, []int{t}, nil)
	lw.notef("%s (LeakyReLU %g) lowered to PRELU with a constant alpha %v for the Edge TPU", l.Name, alpha, shape)
	return &value{t: t, shape: slices.Clone(v.shape), owner: l.Name, op: i}
}

// preluMaxRank is the highest rank TFLite's PRELU broadcasts alpha to
// (BroadcastPrelu4DSlow).
const preluMaxRank = 4

// preluAlphaShape is the alpha shape for an input of per-example shape s:
// 1 everywhere but the channels, [1, 1, C] for [H, W, C], as Keras'
// PReLU(shared_axes=[1, 2]) has it. The Edge TPU compiler takes PRELU only
// with such an alpha (only the innermost dimension above 1), and TFLite
// broadcasts it over the batch and the spatial dimensions.
func preluAlphaShape(s []int) []int {
	if len(s) == 0 {
		return []int{1}
	}
	out := make([]int, len(s))
	for i := range out {
		out[i] = 1
	}
	out[len(s)-1] = s[len(s)-1]
	return out
}

// hardSigmoid lowers Keras' hard_sigmoid, whose formula changed with
// Keras 3: Keras 2 computes clip(0.2x + 0.5, 0, 1), Keras 3
// relu6(x + 3) / 6. The clip to [0, 1] is RELU(RELU_N1_TO_1(y)), exactly.
func (lw *lowerer) hardSigmoid(l *keras.Layer, v *value, name string) (*value, error) {
	major := kerasMajor(lw.m.KerasVersion)
	switch major {
	case 2:
		a := lw.binaryConst(tfl.OpMul, v, []float32{0.2}, name+"/slope", name+"/mul", l.Name)
		b := lw.binaryConst(tfl.OpAdd, a, []float32{0.5}, name+"/intercept", name+"/add", l.Name)
		c := lw.unary(tfl.OpReluN1To1, b, name+"/clip", l.Name, nil)
		return lw.unary(tfl.OpRelu, c, name, l.Name, nil), nil
	case 3:
		a := lw.binaryConst(tfl.OpAdd, v, []float32{3}, name+"/three", name+"/add", l.Name)
		lw.g.setFused(a.op, tfl.ActRelu6)
		return lw.binaryConst(tfl.OpMul, a, []float32{1.0 / 6}, name+"/sixth", name, l.Name), nil
	}
	return nil, &UnsupportedError{Layer: l.Name, Class: l.Class, What: fmt.Sprintf("activation hard_sigmoid with Keras version %q", lw.m.KerasVersion),
		Fix: "Keras 2 and 3 define hard_sigmoid differently and the file does not say which Keras wrote it; save it with model.save from Keras 2 or 3"}
}

// kerasMajor is the major version of a Keras version string ("2.4.0"), 0
// when unknown.
func kerasMajor(v string) int {
	switch {
	case strings.HasPrefix(v, "2."):
		return 2
	case strings.HasPrefix(v, "3."):
		return 3
	}
	return 0
}

// reluLayer lowers ReLU(max_value, negative_slope, threshold) to the one
// operator that computes it exactly.
func (lw *lowerer) reluLayer(l *keras.Layer, v *value) (*value, error) {
	unsupported := func(what string) error {
		return &UnsupportedError{Layer: l.Name, Class: l.Class, What: what,
			Fix: "TensorFlow Lite has exact operators for ReLU(), ReLU(6), ReLU(1) and ReLU(negative_slope=a); use one of those"}
	}
	if l.Threshold != 0 {
		return nil, unsupported(fmt.Sprintf("threshold %g", l.Threshold))
	}
	switch {
	case l.MaxValue == nil && l.Alpha == 0:
		return lw.activation(l, "relu", v, l.Name)
	case l.MaxValue == nil:
		return lw.leakyRelu(l, v, l.Alpha, l.Name), nil
	case l.Alpha != 0:
		return nil, unsupported(fmt.Sprintf("negative_slope %g together with max_value %g", l.Alpha, *l.MaxValue))
	case *l.MaxValue == 6:
		return lw.activation(l, "relu6", v, l.Name)
	case *l.MaxValue == 1:
		// min(max(x, 0), 1) = relu(clip(x, -1, 1)), both exact.
		c := lw.unary(tfl.OpReluN1To1, v, l.Name+"/clip", l.Name, nil)
		return lw.unary(tfl.OpRelu, c, l.Name, l.Name, nil), nil
	}
	return nil, unsupported(fmt.Sprintf("max_value %g", *l.MaxValue))
}
