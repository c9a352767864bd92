package featuremap

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// Map is one tensor's feature maps for the first image of a batch.
type Map struct {
	// Tensor is the index in subgraph 0; Name, Type and Shape are the
	// tensor's, Shape as the engine last computed it.
	Tensor int
	Name   string
	Type   tfl.TensorType
	Shape  []int
	// Height, Width and Channels lay Values out as [Height][Width][Channels]:
	// channel c is the Height×Width picture of elements c, c+Channels, …
	Height, Width, Channels int
	// Values are the dequantised elements of batch item 0.
	Values []float32
}

// Layout says how a tensor of this shape is drawn: [N, H, W, C] as C
// pictures of H×W, [N, W, C] as C rows of W, [N, K] and [K] as one
// channel of K values, a scalar as one value. Only the first of N images
// is drawn.
func Layout(shape []int) (height, width, channels int, err error) {
	for _, d := range shape {
		if d <= 0 {
			return 0, 0, 0, fmt.Errorf("featuremap: shape %v has an empty dimension", shape)
		}
	}
	switch len(shape) {
	case 0:
		return 1, 1, 1, nil
	case 1:
		return 1, shape[0], 1, nil
	case 2:
		return 1, shape[1], 1, nil
	case 3:
		return 1, shape[1], shape[2], nil
	case 4:
		return shape[1], shape[2], shape[3], nil
	}
	return 0, 0, 0, fmt.Errorf("featuremap: shape %v: rank %d has no feature-map layout (rank 4 NHWC is the usual)", shape, len(shape))
}

// newMap describes tensor i of sg for Dequantize.
func newMap(sg *tfl.Subgraph, i int, shape []int) (Map, error) {
	t := &sg.Tensors[i]
	h, w, c, err := Layout(shape)
	if err != nil {
		return Map{}, fmt.Errorf("featuremap: tensor %d (%q): %w", i, t.Name, err)
	}
	return Map{Tensor: i, Name: t.Name, Type: t.Type, Shape: slices.Clone(shape), Height: h, Width: w, Channels: c,
		Values: make([]float32, h*w*c)}, nil
}

// Dequantize fills m.Values from the raw little-endian bytes of the whole
// tensor (all of its batch): float32 as stored, integers as
// scale·(q − zero_point) computed in float64 and rounded to float32 as
// TFLite's DEQUANTIZE does, with per-axis parameters along q.Dim. data
// must hold at least the first image's elements.
func (m *Map) Dequantize(data []byte, q *tfl.Quantization) error {
	n := len(m.Values)
	size := m.Type.Size()
	if size == 0 || len(data) < n*size {
		return fmt.Errorf("featuremap: tensor %d (%q): %d bytes of %s, want at least %d", m.Tensor, m.Name, len(data), m.Type, n*size)
	}
	if m.Type == tfl.Float32 {
		for i := range m.Values {
			m.Values[i] = float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		return nil
	}
	if q == nil || len(q.Scale) == 0 || len(q.ZeroPoint) < len(q.Scale) && len(q.ZeroPoint) != 1 {
		return fmt.Errorf("featuremap: tensor %d (%q) is %s without usable quantisation parameters", m.Tensor, m.Name, m.Type)
	}
	// Per-axis parameters: element i uses entry (i / stride) % len(Scale),
	// stride being the product of the dimensions after q.Dim.
	stride, axis := 1, len(q.Scale)
	if axis > 1 {
		if q.Dim < 0 || q.Dim >= len(m.Shape) || m.Shape[q.Dim] != axis {
			return fmt.Errorf("featuremap: tensor %d (%q): %d scales along dimension %d of shape %v", m.Tensor, m.Name, axis, q.Dim, m.Shape)
		}
		for _, d := range m.Shape[q.Dim+1:] {
			stride *= d
		}
	}
	if m.Type != tfl.Int8 && m.Type != tfl.Uint8 && m.Type != tfl.Int16 {
		return fmt.Errorf("featuremap: tensor %d (%q) is %s: only float32, int8, uint8 and int16 are drawn", m.Tensor, m.Name, m.Type)
	}
	zero := func(k int) int64 {
		if len(q.ZeroPoint) > 1 {
			return q.ZeroPoint[k]
		}
		return q.ZeroPoint[0]
	}
	deq := func(k int, v int64) float32 { return float32(float64(q.Scale[k]) * float64(v-zero(k))) }
	if axis == 1 && m.Type != tfl.Int16 {
		// One scale: a table of the 256 byte values, each computed once.
		var lut [256]float32
		for b := range lut {
			v := int64(b)
			if m.Type == tfl.Int8 {
				v = int64(int8(b))
			}
			lut[b] = deq(0, v)
		}
		for i := range m.Values {
			m.Values[i] = lut[data[i]]
		}
		return nil
	}
	for i := range m.Values {
		var v int64
		switch m.Type {
		case tfl.Int8:
			v = int64(int8(data[i]))
		case tfl.Uint8:
			v = int64(data[i])
		case tfl.Int16:
			v = int64(int16(binary.LittleEndian.Uint16(data[2*i:])))
		}
		m.Values[i] = deq((i/stride)%axis, v)
	}
	return nil
}

func float32frombits(b uint32) float32 { return math.Float32frombits(b) }
