package lower

import (
	"fmt"
	"slices"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/keras"
)

func (lw *lowerer) pool(l *keras.Layer, in *value, code tfl.BuiltinOp) (*value, error) {
	h, w, c, err := image(l, in)
	if err != nil {
		return nil, err
	}
	ph, pw := l.PoolSize[0], l.PoolSize[1]
	oh, err := window(l.Padding, h, ph, l.Strides[0], 1)
	if err != nil {
		return nil, shapeError(l, "height: %v", err)
	}
	ow, err := window(l.Padding, w, pw, l.Strides[1], 1)
	if err != nil {
		return nil, shapeError(l, "width: %v", err)
	}
	shape := []int{oh, ow, c}
	ot := lw.g.activation(l.Name, shape)
	i := lw.g.addOp(code, []int{in.t}, []int{ot}, &tfl.Pool2DOptions{Padding: padding(l.Padding),
		StrideW: l.Strides[1], StrideH: l.Strides[0], FilterWidth: pw, FilterHeight: ph})
	return &value{t: ot, shape: shape, owner: l.Name, op: i}, nil
}

// globalAverage lowers GlobalAveragePooling2D to MEAN over axes 1 and 2,
// which is what TensorFlow's converter emits for reduce_mean.
func (lw *lowerer) globalAverage(l *keras.Layer, in *value) (*value, error) {
	_, _, c, err := image(l, in)
	if err != nil {
		return nil, err
	}
	axes := lw.g.constI(l.Name+"/axes", []int{2}, []int32{1, 2})
	shape := []int{c}
	if l.KeepDims {
		shape = []int{1, 1, c}
	}
	ot := lw.g.activation(l.Name, shape)
	i := lw.g.addOp(tfl.OpMean, []int{in.t, axes}, []int{ot}, &tfl.ReducerOptions{KeepDims: l.KeepDims})
	return &value{t: ot, shape: shape, owner: l.Name, op: i}, nil
}

func (lw *lowerer) zeroPad(l *keras.Layer, in *value) (*value, error) {
	h, w, c, err := image(l, in)
	if err != nil {
		return nil, err
	}
	p := l.Pad
	for _, x := range []int{p[0][0], p[0][1], p[1][0], p[1][1]} {
		if x < 0 {
			return nil, shapeError(l, "negative padding %v", p)
		}
	}
	pads := lw.g.constI(l.Name+"/paddings", []int{4, 2},
		[]int32{0, 0, int32(p[0][0]), int32(p[0][1]), int32(p[1][0]), int32(p[1][1]), 0, 0})
	shape := []int{h + p[0][0] + p[0][1], w + p[1][0] + p[1][1], c}
	ot := lw.g.activation(l.Name, shape)
	i := lw.g.addOp(tfl.OpPad, []int{in.t, pads}, []int{ot}, nil)
	return &value{t: ot, shape: shape, owner: l.Name, op: i}, nil
}

// reshapeTo emits RESHAPE to the per-example shape s. The shape tensor
// is [-1, s...]: the batch stays free, so the real runtime and our engine
// both run the model at any batch size.
func (lw *lowerer) reshapeTo(l *keras.Layer, in *value, s []int) *value {
	target := []int32{-1}
	for _, d := range s {
		target = append(target, int32(d))
	}
	st := lw.g.constI(l.Name+"/shape", []int{len(target)}, target)
	ot := lw.g.activation(l.Name, s)
	i := lw.g.addOp(tfl.OpReshape, []int{in.t, st}, []int{ot}, &tfl.ReshapeOptions{})
	return &value{t: ot, shape: slices.Clone(s), owner: l.Name, op: i}
}

func (lw *lowerer) flatten(l *keras.Layer, in *value) (*value, error) {
	return lw.reshapeTo(l, in, []int{numElements(in.shape)}), nil
}

func (lw *lowerer) reshape(l *keras.Layer, in *value) (*value, error) {
	total := numElements(in.shape)
	s := slices.Clone(l.TargetShape)
	known, unknown := 1, -1
	for i, d := range s {
		switch {
		case d == -1 && unknown < 0:
			unknown = i
		case d <= 0:
			return nil, shapeError(l, "target_shape %v has invalid dimension %d", l.TargetShape, d)
		default:
			known *= d
		}
		if known > total {
			return nil, shapeError(l, "cannot reshape %v (%d values) to %v", in.shape, total, l.TargetShape)
		}
	}
	if unknown >= 0 {
		if known == 0 || total%known != 0 {
			return nil, shapeError(l, "cannot reshape %v (%d values) to %v", in.shape, total, l.TargetShape)
		}
		s[unknown] = total / known
		known = total
	}
	if known != total {
		return nil, shapeError(l, "cannot reshape %v (%d values) to %v (%d values)", in.shape, total, l.TargetShape, known)
	}
	return lw.reshapeTo(l, in, s), nil
}

// elementwise lowers Add and Multiply; more than two inputs become a
// chain ((a+b)+c)+..., left to right as Keras sums them.
func (lw *lowerer) elementwise(l *keras.Layer, in []*value, code tfl.BuiltinOp) (*value, error) {
	shape := in[0].shape
	for _, v := range in[1:] {
		s, err := broadcast(shape, v.shape)
		if err != nil {
			return nil, shapeError(l, "%v", err)
		}
		shape = s
	}
	acc := in[0]
	for k, v := range in[1:] {
		name := l.Name
		if k < len(in)-2 {
			name = fmt.Sprintf("%s/partial_%d", l.Name, k+1)
		}
		s, _ := broadcast(acc.shape, v.shape)
		ot := lw.g.activation(name, s)
		i := lw.g.addOp(code, []int{acc.t, v.t}, []int{ot}, &tfl.ActivationOptions{})
		acc = &value{t: ot, shape: s, owner: l.Name, op: i}
	}
	if len(in) > 2 {
		lw.notef("%s of %d inputs lowered to a chain of %d %s operators", l.Name, len(in), len(in)-1, code)
	}
	return acc, nil
}

// broadcast is NumPy broadcasting of two per-example shapes of equal rank
// (Keras merge layers take tensors of one rank).
func broadcast(a, b []int) ([]int, error) {
	if len(a) != len(b) {
		return nil, fmt.Errorf("inputs of shapes %v and %v have different ranks", a, b)
	}
	out := make([]int, len(a))
	for i := range a {
		switch {
		case a[i] == b[i], b[i] == 1:
			out[i] = a[i]
		case a[i] == 1:
			out[i] = b[i]
		default:
			return nil, fmt.Errorf("inputs of shapes %v and %v cannot be broadcast together", a, b)
		}
	}
	return out, nil
}

func (lw *lowerer) concatenate(l *keras.Layer, in []*value) (*value, error) {
	rank := len(in[0].shape) + 1
	axis := l.Axis[0]
	if axis < 0 {
		axis += rank
	}
	if axis <= 0 || axis >= rank {
		return nil, shapeError(l, "axis %d is not a feature axis of inputs of shape %v", l.Axis[0], in[0].shape)
	}
	shape := slices.Clone(in[0].shape)
	ts := []int{in[0].t}
	for _, v := range in[1:] {
		if len(v.shape) != len(shape) {
			return nil, shapeError(l, "inputs of shapes %v and %v have different ranks", in[0].shape, v.shape)
		}
		for d := range shape {
			if d != axis-1 && v.shape[d] != shape[d] {
				return nil, shapeError(l, "inputs of shapes %v and %v differ outside the concatenation axis %d", in[0].shape, v.shape, axis)
			}
		}
		shape[axis-1] += v.shape[axis-1]
		ts = append(ts, v.t)
	}
	ot := lw.g.activation(l.Name, shape)
	i := lw.g.addOp(tfl.OpConcatenation, ts, []int{ot}, &tfl.ConcatenationOptions{Axis: axis})
	return &value{t: ot, shape: shape, owner: l.Name, op: i}, nil
}
