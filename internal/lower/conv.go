package lower

import (
	"fmt"
	"math"
	"slices"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/keras"
)

func padding(p string) tfl.Padding {
	if p == "same" {
		return tfl.PaddingSame
	}
	return tfl.PaddingValid
}

// window is the output length of a convolution or pooling axis, with
// TensorFlow's rules: SAME gives ceil(in/stride), VALID
// floor((in-eff)/stride)+1 where eff is the dilated kernel extent.
func window(pad string, in, k, stride, dilation int) (int, error) {
	const limit = 1 << 20 // far beyond any real model; keeps the arithmetic in range
	if stride <= 0 || dilation <= 0 || k <= 0 || stride > limit || dilation > limit || k > limit {
		return 0, fmt.Errorf("kernel %d, stride %d, dilation %d must be positive and at most %d", k, stride, dilation, limit)
	}
	eff := (k-1)*dilation + 1
	if pad == "same" {
		return (in + stride - 1) / stride, nil
	}
	if in < eff {
		return 0, fmt.Errorf("a %d-wide window (kernel %d, dilation %d) does not fit an input of %d with padding valid", eff, k, dilation, in)
	}
	return (in-eff)/stride + 1, nil
}

// image checks that v is a per-example [height, width, channels] map.
func image(l *keras.Layer, v *value) (h, w, c int, err error) {
	if len(v.shape) != 3 {
		return 0, 0, 0, shapeError(l, "input shape %v is not [height, width, channels]", v.shape)
	}
	return v.shape[0], v.shape[1], v.shape[2], nil
}

// weight returns l's weight name with the given shape.
func weight(l *keras.Layer, name string, shape ...int) ([]float32, error) {
	t := l.Weights[name]
	if t == nil {
		return nil, shapeError(l, "has no %s weight", name)
	}
	if !slices.Equal(t.Shape, shape) || len(t.Data) != numElements(shape) {
		return nil, shapeError(l, "%s has shape %v, want %v for its input", name, t.Shape, shape)
	}
	return t.Data, nil
}

// bias returns a copy of l's bias, or zeros when the layer has none:
// TensorFlow's converter also gives every convolution a bias, and a
// constant one keeps later folding and quantisation uniform.
func bias(l *keras.Layer, n int) ([]float32, error) {
	if !l.UseBias {
		return make([]float32, n), nil
	}
	b, err := weight(l, "bias", n)
	return slices.Clone(b), err
}

func (lw *lowerer) conv2D(l *keras.Layer, in *value) (*value, error) {
	h, w, c, err := image(l, in)
	if err != nil {
		return nil, err
	}
	kh, kw, f := l.KernelSize[0], l.KernelSize[1], l.Filters
	k, err := weight(l, "kernel", kh, kw, c, f)
	if err != nil {
		return nil, err
	}
	b, err := bias(l, f)
	if err != nil {
		return nil, err
	}
	oh, ow, err := convOut(l, h, w)
	if err != nil {
		return nil, err
	}
	// Keras [kh, kw, in, out] -> TFLite [out, kh, kw, in].
	filter := make([]float32, len(k))
	for i := range kh * kw * c {
		for o := range f {
			filter[o*kh*kw*c+i] = k[i*f+o]
		}
	}
	kt := lw.g.constF(l.Name+"/kernel", []int{f, kh, kw, c}, filter)
	bt := lw.g.constF(l.Name+"/bias", []int{f}, b)
	ot := lw.g.activation(l.Name, []int{oh, ow, f})
	i := lw.g.addOp(tfl.OpConv2D, []int{in.t, kt, bt}, []int{ot}, &tfl.Conv2DOptions{
		Padding: padding(l.Padding), StrideW: l.Strides[1], StrideH: l.Strides[0],
		DilationW: l.Dilation[1], DilationH: l.Dilation[0]})
	v := &value{t: ot, shape: []int{oh, ow, f}, owner: l.Name, op: i,
		fold: &foldTarget{layer: l.Name, kernel: kt, bias: bt, axis: 0}}
	return lw.ownActivation(l, v)
}

func convOut(l *keras.Layer, h, w int) (oh, ow int, err error) {
	if oh, err = window(l.Padding, h, l.KernelSize[0], l.Strides[0], l.Dilation[0]); err != nil {
		return 0, 0, shapeError(l, "height: %v", err)
	}
	if ow, err = window(l.Padding, w, l.KernelSize[1], l.Strides[1], l.Dilation[1]); err != nil {
		return 0, 0, shapeError(l, "width: %v", err)
	}
	return oh, ow, nil
}

// depthwiseOp emits a DEPTHWISE_CONV_2D. The Keras kernel [kh, kw, c, m]
// and TFLite's [1, kh, kw, c*m] (channel c*m+j) are the same bytes.
func (lw *lowerer) depthwiseOp(l *keras.Layer, in *value, kernel []float32, b []float32, kname, bname, out string) (*value, error) {
	h, w, c, err := image(l, in)
	if err != nil {
		return nil, err
	}
	oh, ow, err := convOut(l, h, w)
	if err != nil {
		return nil, err
	}
	kh, kw, oc := l.KernelSize[0], l.KernelSize[1], c*l.DepthMultiplier
	kt := lw.g.constF(kname, []int{1, kh, kw, oc}, slices.Clone(kernel))
	bt := lw.g.constF(bname, []int{oc}, b)
	ot := lw.g.activation(out, []int{oh, ow, oc})
	i := lw.g.addOp(tfl.OpDepthwiseConv, []int{in.t, kt, bt}, []int{ot}, &tfl.DepthwiseConv2DOptions{
		Padding: padding(l.Padding), StrideW: l.Strides[1], StrideH: l.Strides[0],
		DepthMultiplier: l.DepthMultiplier, DilationW: l.Dilation[1], DilationH: l.Dilation[0]})
	return &value{t: ot, shape: []int{oh, ow, oc}, owner: l.Name, op: i,
		fold: &foldTarget{layer: l.Name, kernel: kt, bias: bt, axis: 3}}, nil
}

func (lw *lowerer) depthwise(l *keras.Layer, in *value) (*value, error) {
	if _, _, _, err := image(l, in); err != nil {
		return nil, err
	}
	c, m := in.shape[2], l.DepthMultiplier
	k, err := weight(l, "depthwise_kernel", l.KernelSize[0], l.KernelSize[1], c, m)
	if err != nil {
		return nil, err
	}
	b, err := bias(l, c*m)
	if err != nil {
		return nil, err
	}
	v, err := lw.depthwiseOp(l, in, k, b, l.Name+"/depthwise_kernel", l.Name+"/bias", l.Name)
	if err != nil {
		return nil, err
	}
	return lw.ownActivation(l, v)
}

// separable lowers SeparableConv2D as Keras computes it: a depthwise
// convolution (strides, dilation and padding) then a 1x1 convolution that
// carries the bias and the activation.
func (lw *lowerer) separable(l *keras.Layer, in *value) (*value, error) {
	if _, _, _, err := image(l, in); err != nil {
		return nil, err
	}
	c, m, f := in.shape[2], l.DepthMultiplier, l.Filters
	dk, err := weight(l, "depthwise_kernel", l.KernelSize[0], l.KernelSize[1], c, m)
	if err != nil {
		return nil, err
	}
	pk, err := weight(l, "pointwise_kernel", 1, 1, c*m, f)
	if err != nil {
		return nil, err
	}
	b, err := bias(l, f)
	if err != nil {
		return nil, err
	}
	dv, err := lw.depthwiseOp(l, in, dk, make([]float32, c*m), l.Name+"/depthwise_kernel", l.Name+"/depthwise_bias", l.Name+"/depthwise")
	if err != nil {
		return nil, err
	}
	mid := c * m
	filter := make([]float32, len(pk))
	for i := range mid {
		for o := range f {
			filter[o*mid+i] = pk[i*f+o]
		}
	}
	kt := lw.g.constF(l.Name+"/pointwise_kernel", []int{f, 1, 1, mid}, filter)
	bt := lw.g.constF(l.Name+"/bias", []int{f}, b)
	shape := []int{dv.shape[0], dv.shape[1], f}
	ot := lw.g.activation(l.Name, shape)
	i := lw.g.addOp(tfl.OpConv2D, []int{dv.t, kt, bt}, []int{ot}, &tfl.Conv2DOptions{
		Padding: tfl.PaddingValid, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1})
	lw.notef("%s lowered to DEPTHWISE_CONV_2D then a 1x1 CONV_2D", l.Name)
	v := &value{t: ot, shape: shape, owner: l.Name, op: i,
		fold: &foldTarget{layer: l.Name, kernel: kt, bias: bt, axis: 0}}
	return lw.ownActivation(l, v)
}

func (lw *lowerer) dense(l *keras.Layer, in *value) (*value, error) {
	if len(in.shape) == 0 {
		return nil, shapeError(l, "input is a scalar")
	}
	n, u := in.shape[len(in.shape)-1], l.Units
	k, err := weight(l, "kernel", n, u)
	if err != nil {
		return nil, err
	}
	b, err := bias(l, u)
	if err != nil {
		return nil, err
	}
	// Keras [in, out] -> TFLite [out, in].
	wt := make([]float32, len(k))
	for i := range n {
		for o := range u {
			wt[o*n+i] = k[i*u+o]
		}
	}
	kt := lw.g.constF(l.Name+"/kernel", []int{u, n}, wt)
	bt := lw.g.constF(l.Name+"/bias", []int{u}, b)
	shape := append(slices.Clone(in.shape[:len(in.shape)-1]), u)
	ot := lw.g.activation(l.Name, shape)
	// Keras applies Dense to the last axis of any rank; FULLY_CONNECTED
	// flattens to [rows, in] unless keep_num_dims keeps the leading axes.
	i := lw.g.addOp(tfl.OpFullyConnected, []int{in.t, kt, bt}, []int{ot},
		&tfl.FullyConnectedOptions{KeepNumDims: len(in.shape) > 1})
	v := &value{t: ot, shape: shape, owner: l.Name, op: i,
		fold: &foldTarget{layer: l.Name, kernel: kt, bias: bt, axis: 0}}
	return lw.ownActivation(l, v)
}

// ownActivation applies the activation a Conv2D/Dense/... layer computes
// itself. RELU and RELU6 become the operator's fused activation, which is
// always exact here because Keras never exposes the pre-activation value;
// other activations get their own operator and the linear result is
// renamed layer/linear.
func (lw *lowerer) ownActivation(l *keras.Layer, v *value) (*value, error) {
	switch l.Activation {
	case "linear", "":
		return v, nil
	case "relu", "relu6":
		a := tfl.ActRelu
		if l.Activation == "relu6" {
			a = tfl.ActRelu6
		}
		lw.g.setFused(v.op, a)
		v.fold = nil
		return v, nil
	}
	v.fold = nil
	lw.g.tensors[v.t].name = l.Name + "/linear"
	return lw.activation(l, l.Activation, v, l.Name)
}

// bnAffine returns the per-channel scale and shift of an inference-time
// batch normalisation, y = (x - mean) / sqrt(var + eps) * gamma + beta
// = x*scale + shift, in float64 so that folding rounds once.
func bnAffine(l *keras.Layer, c int) (scale, shift []float64, err error) {
	get := func(name string, def float64) ([]float32, error) {
		t := l.Weights[name]
		if t == nil {
			if def >= 0 {
				return nil, nil
			}
			return nil, shapeError(l, "has no %s weight", name)
		}
		if len(t.Data) != c {
			return nil, shapeError(l, "%s has %d values, but the normalised axis has %d", name, len(t.Data), c)
		}
		return t.Data, nil
	}
	gamma, err := get("gamma", 1)
	if err != nil {
		return nil, nil, err
	}
	beta, err := get("beta", 0)
	if err != nil {
		return nil, nil, err
	}
	mean, err := get("moving_mean", -1)
	if err != nil {
		return nil, nil, err
	}
	variance, err := get("moving_variance", -1)
	if err != nil {
		return nil, nil, err
	}
	scale, shift = make([]float64, c), make([]float64, c)
	for i := range c {
		g, b := 1.0, 0.0
		if gamma != nil && l.Scale {
			g = float64(gamma[i])
		}
		if beta != nil && l.Center {
			b = float64(beta[i])
		}
		v := float64(variance[i]) + l.Epsilon
		if !(v > 0) {
			return nil, nil, shapeError(l, "moving_variance + epsilon is %g at channel %d, so the normalisation divides by zero", v, i)
		}
		scale[i] = g / math.Sqrt(v)
		shift[i] = b - float64(mean[i])*scale[i]
	}
	return scale, shift, nil
}

// batchNorm folds a batch normalisation into the convolution or dense
// layer before it when that is exact, else lowers it to MUL and ADD with
// per-channel constants.
//
// Folding w' = w*scale, b' = b*scale + shift is exact (up to float
// rounding) only when the producer's output is linear (no activation in
// between), is normalised along its output channels, and nothing else
// reads the unnormalised value.
func (lw *lowerer) batchNorm(l *keras.Layer, in *value) (*value, error) {
	rank := len(in.shape) + 1
	axis := l.Axis[0]
	if axis < 0 {
		axis += rank
	}
	if axis <= 0 || axis >= rank {
		return nil, shapeError(l, "axis %d is not a feature axis of an input of shape %v", l.Axis[0], in.shape)
	}
	c := in.shape[axis-1]
	scale, shift, err := bnAffine(l, c)
	if err != nil {
		return nil, err
	}
	var why string
	switch {
	case axis != rank-1:
		why = "it normalises an axis other than the channels"
	case in.fold == nil:
		why = fmt.Sprintf("its input %s is not a convolution or dense layer with a linear output", in.owner)
	case !lw.fusable(in):
		why = fmt.Sprintf("the output of %s is also read elsewhere", in.owner)
	}
	if why == "" {
		lw.foldInto(in.fold, scale, shift)
		lw.notef("%s folded into %s", l.Name, in.fold.layer)
		return lw.rename(in, l.Name), nil
	}
	// The constants broadcast from the normalised axis to the end.
	cshape := []int{c}
	for range rank - 1 - axis {
		cshape = append(cshape, 1)
	}
	s32, b32 := make([]float32, c), make([]float32, c)
	for i := range c {
		s32[i], b32[i] = float32(scale[i]), float32(shift[i])
	}
	st := lw.g.constF(l.Name+"/scale", cshape, s32)
	bt := lw.g.constF(l.Name+"/offset", cshape, b32)
	mt := lw.g.activation(l.Name+"/mul", in.shape)
	lw.g.addOp(tfl.OpMul, []int{in.t, st}, []int{mt}, &tfl.ActivationOptions{})
	ot := lw.g.activation(l.Name, in.shape)
	i := lw.g.addOp(tfl.OpAdd, []int{mt, bt}, []int{ot}, &tfl.ActivationOptions{})
	lw.notef("%s lowered to MUL and ADD (not folded: %s)", l.Name, why)
	return &value{t: ot, shape: slices.Clone(in.shape), owner: l.Name, op: i}, nil
}

// foldInto scales the kernel's output channels and rewrites the bias.
func (lw *lowerer) foldInto(f *foldTarget, scale, shift []float64) {
	k := &lw.g.tensors[f.kernel]
	c := len(scale)
	if f.axis == 0 {
		per := len(k.f32) / c
		for o := range c {
			row := k.f32[o*per : (o+1)*per]
			for i := range row {
				row[i] = float32(float64(row[i]) * scale[o])
			}
		}
	} else {
		for i := range k.f32 {
			k.f32[i] = float32(float64(k.f32[i]) * scale[i%c])
		}
	}
	b := lw.g.tensors[f.bias].f32
	for o := range b {
		b[o] = float32(float64(b[o])*scale[o] + shift[o])
	}
}
