package featuremap

import (
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

func TestLayout(t *testing.T) {
	for _, tt := range []struct {
		shape   []int
		h, w, c int
		fails   bool
	}{
		{shape: []int{1, 20, 20, 32}, h: 20, w: 20, c: 32},
		{shape: []int{4, 7, 5, 3}, h: 7, w: 5, c: 3}, // first image of four
		{shape: []int{1, 49, 10}, h: 1, w: 49, c: 10},
		{shape: []int{1, 1001}, h: 1, w: 1001, c: 1},
		{shape: []int{12}, h: 1, w: 12, c: 1},
		{shape: []int{}, h: 1, w: 1, c: 1},
		{shape: []int{1, 2, 3, 4, 5}, fails: true},
		{shape: []int{1, 0, 3, 4}, fails: true},
	} {
		h, w, c, err := Layout(tt.shape)
		if tt.fails {
			if err == nil {
				t.Errorf("Layout(%v) = %d, %d, %d, want an error", tt.shape, h, w, c)
			}
			continue
		}
		if err != nil || h != tt.h || w != tt.w || c != tt.c {
			t.Errorf("Layout(%v) = %d, %d, %d, %v; want %d, %d, %d", tt.shape, h, w, c, err, tt.h, tt.w, tt.c)
		}
	}
}

func TestDequantize(t *testing.T) {
	q := func(scales []float32, zps []int64, dim int) *tfl.Quantization {
		return &tfl.Quantization{Scale: scales, ZeroPoint: zps, Dim: dim}
	}
	f32 := func(v ...float32) []byte {
		b := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
		}
		return b
	}
	for _, tt := range []struct {
		name  string
		typ   tfl.TensorType
		shape []int
		data  []byte
		q     *tfl.Quantization
		want  []float32
		fails bool
	}{
		{name: "float32", typ: tfl.Float32, shape: []int{1, 3}, data: f32(1.5, -2, 0), want: []float32{1.5, -2, 0}},
		{name: "int8", typ: tfl.Int8, shape: []int{1, 4}, data: []byte{0x80, 0xff, 0, 127}, q: q([]float32{0.5}, []int64{-1}, 0),
			want: []float32{-63.5, 0, 0.5, 64}},
		{name: "uint8", typ: tfl.Uint8, shape: []int{1, 3}, data: []byte{0, 128, 255}, q: q([]float32{0.25}, []int64{128}, 0),
			want: []float32{-32, 0, 31.75}},
		{name: "int16", typ: tfl.Int16, shape: []int{1, 2}, data: []byte{0x00, 0x80, 0xff, 0x7f}, q: q([]float32{1.0 / 32768}, []int64{0}, 0),
			want: []float32{-1, 32767.0 / 32768}},
		// Per-axis along the channels: [1, 2 pixels, 2 channels].
		{name: "per-channel", typ: tfl.Int8, shape: []int{1, 1, 2, 2}, data: []byte{2, 2, 4, 4},
			q: q([]float32{1, 0.5}, []int64{0, 2}, 3), want: []float32{2, 0, 4, 1}},
		// Only the first image of a batch of two.
		{name: "batch", typ: tfl.Uint8, shape: []int{2, 2}, data: []byte{1, 2, 3, 4}, q: q([]float32{1}, []int64{0}, 0),
			want: []float32{1, 2}},
		{name: "short data", typ: tfl.Int8, shape: []int{1, 4}, data: []byte{1, 2}, q: q([]float32{1}, []int64{0}, 0), fails: true},
		{name: "no quantisation", typ: tfl.Int8, shape: []int{1, 2}, data: []byte{1, 2}, fails: true},
		{name: "int32", typ: tfl.Int32, shape: []int{1, 1}, data: []byte{1, 0, 0, 0}, q: q([]float32{1}, []int64{0}, 0), fails: true},
		{name: "scales off axis", typ: tfl.Int8, shape: []int{1, 1, 2, 3}, data: make([]byte, 6), q: q([]float32{1, 1}, []int64{0, 0}, 3), fails: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sg := &tfl.Subgraph{Tensors: []tfl.Tensor{{Name: tt.name, Type: tt.typ, Shape: tt.shape, Quant: tt.q}}}
			m, err := newMap(sg, 0, tt.shape)
			if err != nil {
				t.Fatal(err)
			}
			err = m.Dequantize(tt.data, tt.q)
			if tt.fails {
				if err == nil {
					t.Errorf("Dequantize = %v, want an error", m.Values)
				}
				return
			}
			if err != nil || !slices.Equal(m.Values, tt.want) {
				t.Errorf("Dequantize = %v, %v; want %v", m.Values, err, tt.want)
			}
		})
	}
}
