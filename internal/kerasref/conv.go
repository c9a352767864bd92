package kerasref

import (
	"fmt"

	"github.com/fruitcam/fruitcam/internal/keras"
)

// window returns the output size of one spatial axis and the padding before
// the first input element, as TensorFlow computes them: "valid" keeps only
// whole windows; "same" gives ceil(in/stride) outputs and pads
// max((out-1)*stride + span - in, 0) elements, the smaller half before
// (top/left) and the odd one after.
func window(padding string, in, k, stride, dilation int) (out, before int, err error) {
	span := (k-1)*dilation + 1
	switch padding {
	case "valid":
		if in < span {
			return 0, 0, fmt.Errorf("input size %d is smaller than the window %d (kernel %d, dilation %d) with valid padding", in, span, k, dilation)
		}
		return (in-span)/stride + 1, 0, nil
	case "same":
		out = (in + stride - 1) / stride
		total := max((out-1)*stride+span-in, 0)
		return out, total / 2, nil
	default:
		return 0, 0, fmt.Errorf("padding %q is not valid or same", padding)
	}
}

// spatial is the geometry of a 2D sliding window over an [H, W, C] input.
type spatial struct {
	h, w, c    int // input
	oh, ow     int // output
	kh, kw     int
	sh, sw     int // strides
	dh, dw     int // dilation
	padT, padL int
}

func newSpatial(x *tensor, padding string, kernel, strides, dilation [2]int) (spatial, error) {
	if len(x.shape) != 3 {
		return spatial{}, fmt.Errorf("input has shape %v, want [height, width, channels]", x.shape)
	}
	s := spatial{h: x.shape[0], w: x.shape[1], c: x.shape[2],
		kh: kernel[0], kw: kernel[1], sh: strides[0], sw: strides[1], dh: dilation[0], dw: dilation[1]}
	if s.kh < 1 || s.kw < 1 || s.sh < 1 || s.sw < 1 || s.dh < 1 || s.dw < 1 {
		return s, fmt.Errorf("kernel %v, strides %v and dilation %v must be positive", kernel, strides, dilation)
	}
	var err error
	if s.oh, s.padT, err = window(padding, s.h, s.kh, s.sh, s.dh); err != nil {
		return s, fmt.Errorf("height: %w", err)
	}
	if s.ow, s.padL, err = window(padding, s.w, s.kw, s.sw, s.dw); err != nil {
		return s, fmt.Errorf("width: %w", err)
	}
	return s, nil
}

// at returns the input row and column under kernel tap (ky, kx) of output
// (oy, ox), and whether it lies inside the input (not in the padding).
func (s spatial) at(oy, ox, ky, kx int) (iy, ix int, ok bool) {
	iy = oy*s.sh - s.padT + ky*s.dh
	ix = ox*s.sw - s.padL + kx*s.dw
	return iy, ix, iy >= 0 && iy < s.h && ix >= 0 && ix < s.w
}

// conv2D: out[y,x,o] = bias[o] + sum over ky,kx,i of in[y*s+ky*d-pad, ...,
// i] * kernel[ky,kx,i,o], then the fused activation.
func conv2D(l *keras.Layer, keras3 bool, x *tensor) (*tensor, error) {
	s, err := newSpatial(x, l.Padding, l.KernelSize, l.Strides, l.Dilation)
	if err != nil {
		return nil, err
	}
	k, err := weight(l, "kernel", s.kh, s.kw, s.c, l.Filters)
	if err != nil {
		return nil, err
	}
	b, err := bias(l, l.Filters)
	if err != nil {
		return nil, err
	}
	f := l.Filters
	out := newTensor(s.oh, s.ow, f)
	acc := make([]float64, f)
	for oy := range s.oh {
		for ox := range s.ow {
			for o := range acc {
				acc[o] = 0
				if b != nil {
					acc[o] = float64(b[o])
				}
			}
			for ky := range s.kh {
				for kx := range s.kw {
					iy, ix, ok := s.at(oy, ox, ky, kx)
					if !ok {
						continue
					}
					for i := range s.c {
						v := float64(x.data[(iy*s.w+ix)*s.c+i])
						row := k.Data[((ky*s.kw+kx)*s.c+i)*f:]
						for o := range f {
							acc[o] += v * float64(row[o])
						}
					}
				}
			}
			for o, v := range acc {
				out.data[(oy*s.ow+ox)*f+o] = float32(v)
			}
		}
	}
	return activate(l.Activation, keras3, out)
}

// depthwise: out[y,x,i*mult+m] = sum over ky,kx of in[..., i] *
// kernel[ky,kx,i,m], without bias or activation.
func depthwise(l *keras.Layer, x *tensor) (*tensor, spatial, error) {
	s, err := newSpatial(x, l.Padding, l.KernelSize, l.Strides, l.Dilation)
	if err != nil {
		return nil, s, err
	}
	mult := l.DepthMultiplier
	k, err := weight(l, "depthwise_kernel", s.kh, s.kw, s.c, mult)
	if err != nil {
		return nil, s, err
	}
	oc := s.c * mult
	out := newTensor(s.oh, s.ow, oc)
	for oy := range s.oh {
		for ox := range s.ow {
			for i := range s.c {
				for m := range mult {
					var acc float64
					for ky := range s.kh {
						for kx := range s.kw {
							iy, ix, ok := s.at(oy, ox, ky, kx)
							if !ok {
								continue
							}
							acc += float64(x.data[(iy*s.w+ix)*s.c+i]) * float64(k.Data[((ky*s.kw+kx)*s.c+i)*mult+m])
						}
					}
					out.data[(oy*s.ow+ox)*oc+i*mult+m] = float32(acc)
				}
			}
		}
	}
	return out, s, nil
}

func depthwiseConv2D(l *keras.Layer, keras3 bool, x *tensor) (*tensor, error) {
	out, s, err := depthwise(l, x)
	if err != nil {
		return nil, err
	}
	oc := s.c * l.DepthMultiplier
	b, err := bias(l, oc)
	if err != nil {
		return nil, err
	}
	addBias(out, b)
	return activate(l.Activation, keras3, out)
}

// separableConv2D is a depthwise convolution (strides, dilation and padding
// apply here) followed by a 1x1 pointwise convolution, then bias and the
// fused activation.
func separableConv2D(l *keras.Layer, keras3 bool, x *tensor) (*tensor, error) {
	mid, s, err := depthwise(l, x)
	if err != nil {
		return nil, err
	}
	mc := s.c * l.DepthMultiplier
	f := l.Filters
	pk, err := weight(l, "pointwise_kernel", 1, 1, mc, f)
	if err != nil {
		return nil, err
	}
	b, err := bias(l, f)
	if err != nil {
		return nil, err
	}
	out := newTensor(s.oh, s.ow, f)
	for p := range s.oh * s.ow {
		for o := range f {
			var acc float64
			for i := range mc {
				acc += float64(mid.data[p*mc+i]) * float64(pk.Data[i*f+o])
			}
			out.data[p*f+o] = float32(acc)
		}
	}
	addBias(out, b)
	return activate(l.Activation, keras3, out)
}

// addBias adds b along the last axis; nil b is no bias.
func addBias(t *tensor, b []float32) {
	if b == nil {
		return
	}
	for i := range t.data {
		t.data[i] = float32(float64(t.data[i]) + float64(b[i%len(b)]))
	}
}

// dense: out[..., o] = bias[o] + sum over i of in[..., i] * kernel[i, o],
// applied to the last axis of an input of any rank, then the activation.
func dense(l *keras.Layer, keras3 bool, x *tensor) (*tensor, error) {
	if len(x.shape) == 0 {
		return nil, fmt.Errorf("input is a scalar, want at least one axis")
	}
	in := x.shape[len(x.shape)-1]
	k, err := weight(l, "kernel", in, l.Units)
	if err != nil {
		return nil, err
	}
	u := l.Units
	b, err := bias(l, u)
	if err != nil {
		return nil, err
	}
	shape := append(append([]int(nil), x.shape[:len(x.shape)-1]...), u)
	out := newTensor(shape...)
	rows := len(x.data) / in
	acc := make([]float64, u)
	for r := range rows {
		for o := range acc {
			acc[o] = 0
			if b != nil {
				acc[o] = float64(b[o])
			}
		}
		for i := range in {
			v := float64(x.data[r*in+i])
			row := k.Data[i*u : (i+1)*u]
			for o, w := range row {
				acc[o] += v * float64(w)
			}
		}
		for o, v := range acc {
			out.data[r*u+o] = float32(v)
		}
	}
	return activate(l.Activation, keras3, out)
}
