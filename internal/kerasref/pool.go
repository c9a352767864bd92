package kerasref

import (
	"math"

	"github.com/fruitcam/fruitcam/internal/keras"
)

// pool2D is MaxPooling2D or AveragePooling2D. Padded positions take no part:
// the maximum is over the real elements under the window and the average
// divides by their count, as TensorFlow's pooling does with "same" padding.
func pool2D(l *keras.Layer, x *tensor, average bool) (*tensor, error) {
	s, err := newSpatial(x, l.Padding, l.PoolSize, l.Strides, [2]int{1, 1})
	if err != nil {
		return nil, err
	}
	out := newTensor(s.oh, s.ow, s.c)
	for oy := range s.oh {
		for ox := range s.ow {
			for c := range s.c {
				hi, sum, n := math.Inf(-1), 0.0, 0
				for ky := range s.kh {
					for kx := range s.kw {
						iy, ix, ok := s.at(oy, ox, ky, kx)
						if !ok {
							continue
						}
						v := float64(x.data[(iy*s.w+ix)*s.c+c])
						hi = max(hi, v)
						sum += v
						n++
					}
				}
				// n > 0: a same-padded window always covers at least one
				// real element, a valid one always all of its own.
				r := hi
				if average {
					r = sum / float64(n)
				}
				out.data[(oy*s.ow+ox)*s.c+c] = float32(r)
			}
		}
	}
	return out, nil
}

// globalAveragePool averages each channel over height and width; keepdims
// keeps them as size 1.
func globalAveragePool(l *keras.Layer, x *tensor) (*tensor, error) {
	s, err := newSpatial(x, "valid", [2]int{1, 1}, [2]int{1, 1}, [2]int{1, 1})
	if err != nil {
		return nil, err
	}
	sum := make([]float64, s.c)
	for p := range s.h * s.w {
		for c := range s.c {
			sum[c] += float64(x.data[p*s.c+c])
		}
	}
	out := newTensor(s.c)
	if l.KeepDims {
		out.shape = []int{1, 1, s.c}
	}
	for c, v := range sum {
		out.data[c] = float32(v / float64(s.h*s.w))
	}
	return out, nil
}
