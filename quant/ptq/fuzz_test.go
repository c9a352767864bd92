package ptq

import (
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// FuzzQuantize feeds arbitrary model files through the whole quantiser:
// whatever the file, it must return a model or an error, never panic.
// Seeds are the synthetic test graphs.
func FuzzQuantize(f *testing.F) {
	for i, tc := range synthCases {
		g := newGraph(uint64(i) + 1)
		tc.build(g)
		if data, err := tfl.Write(g.m); err == nil {
			f.Add(data, uint8(i))
		}
	}
	if data, err := tfl.Write(smallClassifier()); err == nil {
		f.Add(data, uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint8) {
		m, err := tfl.Parse(data)
		if err != nil {
			return
		}
		// Declared shapes can ask the interpreter for gigabytes; that is
		// the engine's business (and its own limits'), not the
		// quantiser's.
		total := 0
		for _, sg := range m.Subgraphs {
			for _, t := range sg.Tensors {
				total += tfl.NumElements(t.Shape)
			}
		}
		if total > 1<<20 {
			return
		}
		opts := Options{Method: []Method{MinMax, Percentile}[seed%2], IO: []tfl.TensorType{tfl.Int8, tfl.Uint8}[seed/2%2]}
		c, err := NewCalibrator(m, opts)
		if err != nil {
			return
		}
		size := len(c.input.Data) / 4
		if size > 1<<16 {
			return
		}
		for k := range 3 {
			if err := c.Add(randomInputs(uint64(seed)+uint64(k), 1, size, -2, 2)[0]); err != nil {
				t.Fatalf("Add of a well-sized sample: %v", err)
			}
		}
		q, err := c.Quantize()
		if err != nil {
			return
		}
		if _, err := tfl.Write(q); err != nil {
			t.Fatalf("the quantised model cannot be written: %v", err)
		}
	})
}
