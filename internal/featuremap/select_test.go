package featuremap

import (
	"os"
	"slices"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// selectModel is a graph of three operators: conv (t0, t1 → t2), reshape
// (t2, t3 → t4) and a cast to int8 without quantisation (t4 → t5).
func selectModel() *tfl.Model {
	q := &tfl.Quantization{Scale: []float32{0.1}, ZeroPoint: []int64{0}}
	return &tfl.Model{Subgraphs: []tfl.Subgraph{{
		Tensors: []tfl.Tensor{
			{Name: "input", Type: tfl.Float32, Shape: []int{1, 4, 4, 1}},
			{Name: "weights", Type: tfl.Int8, Shape: []int{2, 3, 3, 1}, Buffer: 1, Quant: q},
			{Name: "conv", Type: tfl.Float32, Shape: []int{1, 4, 4, 2}},
			{Name: "shape", Type: tfl.Int32, Shape: []int{2}, Buffer: 2},
			{Name: "7", Type: tfl.Float32, Shape: []int{1, 32}}, // a name that looks like an index
			{Name: "cast", Type: tfl.Int8, Shape: []int{1, 32}},
		},
		Inputs:  []int{0},
		Outputs: []int{5},
		Operators: []tfl.Operator{
			{Inputs: []int{0, 1}, Outputs: []int{2}},
			{Inputs: []int{2, 3}, Outputs: []int{4}},
			{Inputs: []int{4}, Outputs: []int{5}},
		},
	}}}
}

func TestSelect(t *testing.T) {
	m := selectModel()
	for _, tt := range []struct {
		name   string
		layers []string
		all    bool
		want   []int
		fails  bool
	}{
		{name: "all", all: true, want: []int{2, 4}}, // t5 is int8 without quantisation
		{name: "by name", layers: []string{"conv"}, want: []int{2}},
		{name: "by index", layers: []string{"0", "2"}, want: []int{0, 2}},
		{name: "name before index", layers: []string{"7"}, want: []int{4}},
		{name: "order kept", layers: []string{"7", "conv"}, want: []int{4, 2}},
		{name: "quantised weights", layers: []string{"weights"}, want: []int{1}},
		{name: "twice", layers: []string{"conv", "2"}, fails: true},
		{name: "unknown name", layers: []string{"dense"}, fails: true},
		{name: "index out of range", layers: []string{"6"}, fails: true},
		{name: "negative index", layers: []string{"-1"}, fails: true},
		{name: "int32", layers: []string{"shape"}, fails: true},
		{name: "unquantised int8", layers: []string{"cast"}, fails: true},
		{name: "none", fails: true},
		{name: "both", layers: []string{"conv"}, all: true, fails: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Select(m, tt.layers, tt.all)
			if tt.fails {
				if err == nil {
					t.Errorf("Select(%q, %v) = %v, want an error", tt.layers, tt.all, got)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("Select(%q, %v) = %v, %v; want %v", tt.layers, tt.all, got, err, tt.want)
			}
		})
	}
	if _, err := Select(&tfl.Model{}, nil, true); err == nil {
		t.Errorf("Select on a model without subgraphs: no error")
	}
}

// FuzzSelect feeds arbitrary layer names (the command line's --layer) to
// Select and ParseColorMap: they may refuse, never panic, and what Select
// accepts is a valid, drawable, distinct tensor.
func FuzzSelect(f *testing.F) {
	models := []*tfl.Model{selectModel()}
	if p, err := testdata.Lookup("models/mlperf_tiny/vww_96_int8.tflite"); err == nil {
		if data, err := os.ReadFile(p); err == nil {
			if m, err := tfl.Parse(data); err == nil {
				models = append(models, m)
				for i, tn := range m.Subgraphs[0].Tensors {
					if i%7 == 0 {
						f.Add(tn.Name, "")
					}
				}
			}
		}
	}
	for _, s := range []string{"conv", "0", "7", "-1", "99999999999999999999", "", " 2", "+2", "0x2", "conv;relu"} {
		f.Add(s, "viridis")
	}
	f.Fuzz(func(t *testing.T, layer, cmap string) {
		_, _ = ParseColorMap(cmap)
		for _, m := range models {
			got, err := Select(m, []string{layer}, false)
			if err != nil {
				continue
			}
			sg := &m.Subgraphs[0]
			if len(got) != 1 || got[0] < 0 || got[0] >= len(sg.Tensors) || !Drawable(&sg.Tensors[got[0]]) {
				t.Fatalf("Select(%q) = %v: not one drawable tensor", layer, got)
			}
		}
	})
}
