package kerasref

import (
	"fmt"
	"math"
	"slices"

	"github.com/fruitcam/fruitcam/internal/keras"
)

// keepAxisIndex maps every element of a tensor of the given shape to its
// flat index over the kept axes only (row-major over those axes), which is
// how per-axis parameters (BatchNormalization's axis, Normalization's axis)
// are laid out. It returns the map and the number of parameters expected.
func keepAxisIndex(shape []int, keep []bool) ([]int, int) {
	stride := make([]int, len(shape))
	n := 1
	for i := len(shape) - 1; i >= 0; i-- {
		if keep[i] {
			stride[i] = n
			n *= shape[i]
		}
	}
	out := make([]int, numel(shape))
	idx := make([]int, len(shape))
	for e := range out {
		k := 0
		for i, v := range idx {
			k += v * stride[i]
		}
		out[e] = k
		for i := len(shape) - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < shape[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out, n
}

// batchNorm is inference-mode BatchNormalization over its axis:
// gamma*(x - moving_mean)/sqrt(moving_variance + epsilon) + beta, with
// gamma 1 when scale is off and beta 0 when center is off.
func batchNorm(l *keras.Layer, x *tensor) (*tensor, error) {
	if len(l.Axis) != 1 {
		return nil, fmt.Errorf("axis %v: want exactly one axis", l.Axis)
	}
	a, err := axisIndex(l.Axis[0], len(x.shape))
	if err != nil {
		return nil, err
	}
	c := x.shape[a]
	param := func(name string, def float64, present bool) ([]float64, error) {
		p := slices.Repeat([]float64{def}, c)
		if !present {
			return p, nil
		}
		w, err := weight(l, name, c)
		if err != nil {
			return nil, err
		}
		for i, v := range w.Data {
			p[i] = float64(v)
		}
		return p, nil
	}
	gamma, err := param("gamma", 1, l.Scale)
	if err != nil {
		return nil, err
	}
	beta, err := param("beta", 0, l.Center)
	if err != nil {
		return nil, err
	}
	mean, err := param("moving_mean", 0, true)
	if err != nil {
		return nil, err
	}
	variance, err := param("moving_variance", 0, true)
	if err != nil {
		return nil, err
	}
	for i, v := range variance {
		if v+l.Epsilon <= 0 {
			return nil, fmt.Errorf("moving_variance[%d] %g plus epsilon %g is not positive", i, v, l.Epsilon)
		}
	}
	keep := make([]bool, len(x.shape))
	keep[a] = true
	ch, _ := keepAxisIndex(x.shape, keep)
	out := newTensor(slices.Clone(x.shape)...)
	for e, v := range x.data {
		i := ch[e]
		out.data[e] = float32(gamma[i]*(float64(v)-mean[i])/math.Sqrt(variance[i]+l.Epsilon) + beta[i])
	}
	return out, nil
}

// rescale is Rescaling: x*scale + offset, each a scalar or one value per
// channel (last axis).
func rescale(l *keras.Layer, x *tensor) (*tensor, error) {
	c := x.shape[len(x.shape)-1]
	for _, p := range []struct {
		name string
		v    []float64
	}{{"scale", l.RescaleScale}, {"offset", l.RescaleOffset}} {
		if len(p.v) != 1 && len(p.v) != c {
			return nil, fmt.Errorf("%s has %d values; want 1 or one per channel (%d)", p.name, len(p.v), c)
		}
	}
	out := newTensor(slices.Clone(x.shape)...)
	for e, v := range x.data {
		s := l.RescaleScale[min(e%c, len(l.RescaleScale)-1)]
		o := l.RescaleOffset[min(e%c, len(l.RescaleOffset)-1)]
		out.data[e] = float32(float64(v)*s + o)
	}
	return out, nil
}

// normEpsilon is keras.backend.epsilon(), the floor Normalization puts under
// the standard deviation so a zero variance does not divide by zero.
const normEpsilon = 1e-7

// normalize is Normalization: (x - mean)/max(sqrt(variance), 1e-7), or
// mean + x*max(sqrt(variance), 1e-7) when invert is set. Mean and variance
// hold one value per index of the kept axes (none when axis is None), or a
// single value broadcast to all; they come from the config or, after
// adapt(), from the layer's weights.
func normalize(l *keras.Layer, x *tensor) (*tensor, error) {
	keep := make([]bool, len(x.shape))
	for _, ax := range l.Axis {
		a, err := axisIndex(ax, len(x.shape))
		if err != nil {
			return nil, err
		}
		keep[a] = true
	}
	idx, n := keepAxisIndex(x.shape, keep)
	mean, variance := l.Mean, l.Variance
	if mean == nil {
		m, v := l.Weights["mean"], l.Weights["variance"]
		if m == nil || v == nil {
			return nil, fmt.Errorf("has neither mean/variance in its config nor mean and variance weights")
		}
		mean, variance = toFloat64(m.Data), toFloat64(v.Data)
	}
	if len(mean) != len(variance) || (len(mean) != n && len(mean) != 1) {
		return nil, fmt.Errorf("mean has %d values and variance %d; want %d (one per index of axes %v) or 1", len(mean), len(variance), n, l.Axis)
	}
	out := newTensor(slices.Clone(x.shape)...)
	for e, v := range x.data {
		i := min(idx[e], len(mean)-1)
		if variance[i] < 0 {
			return nil, fmt.Errorf("variance[%d] %g is negative", i, variance[i])
		}
		sd := max(math.Sqrt(variance[i]), normEpsilon)
		if l.Invert {
			out.data[e] = float32(mean[i] + float64(v)*sd)
		} else {
			out.data[e] = float32((float64(v) - mean[i]) / sd)
		}
	}
	return out, nil
}

func toFloat64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, f := range v {
		out[i] = float64(f)
	}
	return out
}
