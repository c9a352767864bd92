package kerasref

import (
	"fmt"
	"slices"

	"github.com/fruitcam/fruitcam/internal/keras"
)

// zeroPad is ZeroPadding2D: Pad[0] rows above and below, Pad[1] columns
// left and right, filled with zeros.
func zeroPad(l *keras.Layer, x *tensor) (*tensor, error) {
	if len(x.shape) != 3 {
		return nil, fmt.Errorf("input has shape %v, want [height, width, channels]", x.shape)
	}
	h, w, c := x.shape[0], x.shape[1], x.shape[2]
	top, left := l.Pad[0][0], l.Pad[1][0]
	if min(top, l.Pad[0][1], left, l.Pad[1][1]) < 0 {
		return nil, fmt.Errorf("padding %v is negative", l.Pad)
	}
	oh, ow := h+top+l.Pad[0][1], w+left+l.Pad[1][1]
	out := newTensor(oh, ow, c)
	for y := range h {
		copy(out.data[((y+top)*ow+left)*c:], x.data[y*w*c:(y+1)*w*c])
	}
	return out, nil
}

// reshape is Reshape: the same values under target_shape, one -1 inferred.
func reshape(l *keras.Layer, x *tensor) (*tensor, error) {
	shape := slices.Clone(l.TargetShape)
	n, known, unknown := len(x.data), 1, -1
	for i, d := range shape {
		switch {
		case d == -1 && unknown < 0:
			unknown = i
		case d > 0:
			known *= d
		default:
			return nil, fmt.Errorf("target_shape %v is invalid", l.TargetShape)
		}
	}
	if unknown >= 0 {
		if known == 0 || n%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v (%d values) to %v", x.shape, n, l.TargetShape)
		}
		shape[unknown] = n / known
	}
	if numel(shape) != n {
		return nil, fmt.Errorf("cannot reshape %v (%d values) to %v", x.shape, n, l.TargetShape)
	}
	return &tensor{shape: shape, data: x.data}, nil
}

// concatenate joins inputs along the layer's axis; every other dimension
// must agree.
func concatenate(l *keras.Layer, ins []*tensor) (*tensor, error) {
	if len(l.Axis) != 1 {
		return nil, fmt.Errorf("axis %v: want exactly one axis", l.Axis)
	}
	rank := len(ins[0].shape)
	a, err := axisIndex(l.Axis[0], rank)
	if err != nil {
		return nil, err
	}
	shape := slices.Clone(ins[0].shape)
	shape[a] = 0
	for k, t := range ins {
		if len(t.shape) != rank {
			return nil, fmt.Errorf("input %d has shape %v, input 0 %v: ranks differ", k, t.shape, ins[0].shape)
		}
		for i, d := range t.shape {
			if i != a && d != ins[0].shape[i] {
				return nil, fmt.Errorf("input %d has shape %v, input 0 %v: they differ off axis %d", k, t.shape, ins[0].shape, l.Axis[0])
			}
		}
		shape[a] += t.shape[a]
	}
	// Below the axis every input contributes a contiguous run of
	// shape[a+1:] elements per index on and above it.
	outer := numel(shape[:a])
	inner := numel(shape[a+1:])
	out := &tensor{shape: shape, data: make([]float32, 0, numel(shape))}
	for o := range outer {
		for _, t := range ins {
			run := t.shape[a] * inner
			out.data = append(out.data, t.data[o*run:(o+1)*run]...)
		}
	}
	return out, nil
}

// broadcast combines inputs element-wise left to right with numpy
// broadcasting over the dimensions after the batch, aligned from the right;
// that is how Keras 2 merge layers expand lower-rank inputs (new axes after
// the batch) and what Keras 3 ops do.
func broadcast(ins []*tensor, f func(a, b float64) float64) (*tensor, error) {
	rank := 0
	for _, t := range ins {
		rank = max(rank, len(t.shape))
	}
	shape := slices.Repeat([]int{1}, rank)
	for k, t := range ins {
		off := rank - len(t.shape)
		for i, d := range t.shape {
			switch o := shape[off+i]; {
			case o == 1:
				shape[off+i] = d
			case d != 1 && d != o:
				return nil, fmt.Errorf("input %d has shape %v, which does not broadcast with %v", k, t.shape, shape)
			}
		}
	}
	n := numel(shape)
	acc := make([]float64, n)
	idx := make([]int, rank)
	for k, t := range ins {
		// Strides of t over the output shape, 0 on broadcast axes.
		st := make([]int, rank)
		s, off := 1, rank-len(t.shape)
		for i := len(t.shape) - 1; i >= 0; i-- {
			if t.shape[i] != 1 {
				st[off+i] = s
			}
			s *= t.shape[i]
		}
		clear(idx)
		for e := range n {
			j := 0
			for i, v := range idx {
				j += v * st[i]
			}
			v := float64(t.data[j])
			if k == 0 {
				acc[e] = v
			} else {
				acc[e] = f(acc[e], v)
			}
			for i := rank - 1; i >= 0; i-- {
				idx[i]++
				if idx[i] < shape[i] {
					break
				}
				idx[i] = 0
			}
		}
	}
	out := newTensor(shape...)
	for e, v := range acc {
		out.data[e] = float32(v)
	}
	return out, nil
}
