package tfl

// Options tables of the builtin operators the engine runs. Field ids follow
// the schema's declaration order.

// Conv2DOptions configures CONV_2D.
type Conv2DOptions struct {
	Padding              Padding
	StrideW, StrideH     int
	Activation           Activation
	DilationW, DilationH int
}

// DepthwiseConv2DOptions configures DEPTHWISE_CONV_2D.
type DepthwiseConv2DOptions struct {
	Padding              Padding
	StrideW, StrideH     int
	DepthMultiplier      int
	Activation           Activation
	DilationW, DilationH int
}

// Pool2DOptions configures AVERAGE_POOL_2D and MAX_POOL_2D.
type Pool2DOptions struct {
	Padding                   Padding
	StrideW, StrideH          int
	FilterWidth, FilterHeight int
	Activation                Activation
}

// FullyConnectedOptions configures FULLY_CONNECTED.
type FullyConnectedOptions struct {
	Activation Activation
	// WeightsFormat 0 is the default row-major [out, in] layout.
	WeightsFormat            uint8
	KeepNumDims              bool
	AsymmetricQuantizeInputs bool
}

// SoftmaxOptions configures SOFTMAX.
type SoftmaxOptions struct{ Beta float32 }

// ConcatenationOptions configures CONCATENATION.
type ConcatenationOptions struct {
	Axis       int
	Activation Activation
}

// ActivationOptions carries the fused activation of ADD, SUB and MUL.
type ActivationOptions struct{ Activation Activation }

// ReshapeOptions configures RESHAPE when the shape is not a second input.
type ReshapeOptions struct{ NewShape []int }

// ReducerOptions configures MEAN.
type ReducerOptions struct{ KeepDims bool }

// SqueezeOptions configures SQUEEZE.
type SqueezeOptions struct{ SqueezeDims []int }

// LeakyReluOptions configures LEAKY_RELU.
type LeakyReluOptions struct{ Alpha float32 }

func readOptions(op BuiltinOp, t table) (any, error) {
	var err error
	i32 := func(id int, def int32) int {
		v, e := t.i32(id, def)
		if err == nil {
			err = e
		}
		return int(v)
	}
	u8 := func(id int) uint8 {
		v, e := t.u8(id, 0)
		if err == nil {
			err = e
		}
		return v
	}
	switch op {
	case OpConv2D:
		o := &Conv2DOptions{Padding: Padding(u8(0)), StrideW: i32(1, 0), StrideH: i32(2, 0),
			Activation: Activation(u8(3)), DilationW: i32(4, 1), DilationH: i32(5, 1)}
		return o, err
	case OpDepthwiseConv:
		o := &DepthwiseConv2DOptions{Padding: Padding(u8(0)), StrideW: i32(1, 0), StrideH: i32(2, 0),
			DepthMultiplier: i32(3, 0), Activation: Activation(u8(4)), DilationW: i32(5, 1), DilationH: i32(6, 1)}
		return o, err
	case OpAveragePool2D, OpMaxPool2D:
		o := &Pool2DOptions{Padding: Padding(u8(0)), StrideW: i32(1, 0), StrideH: i32(2, 0),
			FilterWidth: i32(3, 0), FilterHeight: i32(4, 0), Activation: Activation(u8(5))}
		return o, err
	case OpFullyConnected:
		o := &FullyConnectedOptions{Activation: Activation(u8(0)), WeightsFormat: u8(1),
			KeepNumDims: u8(2) != 0, AsymmetricQuantizeInputs: u8(3) != 0}
		return o, err
	case OpSoftmax:
		b, e := t.f32(0, 0)
		return &SoftmaxOptions{Beta: b}, e
	case OpConcatenation:
		o := &ConcatenationOptions{Axis: i32(0, 0), Activation: Activation(u8(1))}
		return o, err
	case OpAdd, OpSub, OpMul:
		return &ActivationOptions{Activation: Activation(u8(0))}, err
	case OpReshape:
		s, e := t.i32s(0)
		return &ReshapeOptions{NewShape: ints(s)}, e
	case OpMean:
		k, e := t.bool(0, false)
		return &ReducerOptions{KeepDims: k}, e
	case OpSqueeze:
		s, e := t.i32s(0)
		return &SqueezeOptions{SqueezeDims: ints(s)}, e
	case OpLeakyRelu:
		a, e := t.f32(0, 0)
		return &LeakyReluOptions{Alpha: a}, e
	}
	return nil, nil
}

func ints(s []int32) []int {
	if s == nil {
		return nil
	}
	out := make([]int, len(s))
	for i, v := range s {
		out[i] = int(v)
	}
	return out
}
