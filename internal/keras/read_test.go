package keras

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/scigolib/hdf5"

	"github.com/fruitcam/fruitcam/internal/testdata"
)

// readDatasetDirect reads one dataset by path straight through the HDF5
// library, as an independent check of the weight plumbing.
func readDatasetDirect(t *testing.T, file, path string) []float64 {
	t.Helper()
	f, err := hdf5.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []float64
	f.Walk(func(p string, o hdf5.Object) {
		if ds, ok := o.(*hdf5.Dataset); ok && strings.TrimPrefix(p, "/") == strings.TrimPrefix(path, "/") {
			if got, err = ds.Read(); err != nil {
				t.Fatal(err)
			}
		}
	})
	if got == nil {
		t.Fatalf("%s: no dataset %s", file, path)
	}
	return got
}

func classCounts(m *Model) map[string]int {
	c := map[string]int{}
	for _, l := range m.Layers {
		c[l.Class]++
	}
	return c
}

func TestReadRealFiles(t *testing.T) {
	tests := []struct {
		file    string
		layers  int
		classes map[string]int
		inputs  []string
		outputs []string
		shapes  map[string][]int // "layer/weight" -> shape
		direct  string           // "layer/weight" compared with the raw dataset
		path    string           // its HDF5 path
	}{
		{
			file: "keras/mlperf_tiny/pretrainedResnet.h5", layers: 30,
			classes: map[string]int{"InputLayer": 1, "Add": 3, "Dense": 1, "Flatten": 1, "AveragePooling2D": 1},
			inputs:  []string{"input_1"}, outputs: []string{"dense"},
			shapes: map[string][]int{"conv2d/kernel": {3, 3, 3, 16}, "conv2d/bias": {16}, "dense/kernel": {64, 10}},
			direct: "conv2d/kernel", path: "/model_weights/conv2d/conv2d/kernel:0",
		},
		{
			file: "keras/mlperf_tiny/vww_96.h5", layers: 85,
			classes: map[string]int{"InputLayer": 1, "DepthwiseConv2D": 13, "Dense": 1, "Flatten": 1},
			inputs:  []string{"input_1"}, outputs: []string{"dense"},
			shapes: map[string][]int{"conv2d/kernel": {3, 3, 3, 8}, "depthwise_conv2d/depthwise_kernel": {3, 3, 8, 1},
				"dense/kernel": {256, 2}, "batch_normalization/moving_variance": {8}},
			direct: "batch_normalization/moving_variance", path: "/model_weights/batch_normalization/batch_normalization/moving_variance:0",
		},
		{
			file: "keras/go-tflite/xor_model.h5", layers: 5,
			classes: map[string]int{"InputLayer": 1, "Dense": 2, "Activation": 2},
			inputs:  []string{"dense_input"}, outputs: []string{"activation_1"},
			shapes: map[string][]int{"dense/kernel": {2, 8}, "dense/bias": {8}, "dense_1/kernel": {8, 1}},
			direct: "dense/kernel", path: "/model_weights/dense/dense/kernel:0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := testdata.Path(t, tt.file)
			m, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(m.Layers); got != tt.layers {
				t.Errorf("layers: got %d, want %d", got, tt.layers)
			}
			counts := classCounts(m)
			for class, want := range tt.classes {
				if counts[class] != want {
					t.Errorf("%s layers: got %d, want %d", class, counts[class], want)
				}
			}
			if !slices.Equal(m.Inputs, tt.inputs) || !slices.Equal(m.Outputs, tt.outputs) {
				t.Errorf("inputs/outputs: got %v %v, want %v %v", m.Inputs, m.Outputs, tt.inputs, tt.outputs)
			}
			for key, want := range tt.shapes {
				ln, wn, _ := strings.Cut(key, "/")
				l := m.Layer(ln)
				if l == nil || l.Weights[wn] == nil {
					t.Errorf("%s: missing", key)
					continue
				}
				if got := l.Weights[wn].Shape; !slices.Equal(got, want) {
					t.Errorf("%s shape: got %v, want %v", key, got, want)
				}
			}
			// Topological order: every input appears before its user.
			seen := map[string]bool{}
			for _, l := range m.Layers {
				for _, in := range l.Inbound {
					if !seen[in] {
						t.Errorf("layer %q comes before its input %q", l.Name, in)
					}
				}
				seen[l.Name] = true
				if l.Class == "BatchNormalization" {
					for _, v := range l.Weights["moving_variance"].Data {
						if !(v >= 0) { // vww_96 has dead channels with variance exactly 0
							t.Errorf("%s moving_variance %g is negative", l.Name, v)
						}
					}
				}
			}
			ln, wn, _ := strings.Cut(tt.direct, "/")
			raw := readDatasetDirect(t, path, tt.path)
			got := m.Layer(ln).Weights[wn].Data
			if len(got) != len(raw) {
				t.Fatalf("%s: got %d values, want %d", tt.direct, len(got), len(raw))
			}
			for i := range raw {
				if got[i] != float32(raw[i]) {
					t.Fatalf("%s[%d]: got %g, want %g", tt.direct, i, got[i], raw[i])
				}
			}
		})
	}
}

func TestVWWTypedConfig(t *testing.T) {
	m, err := ReadFile(testdata.Path(t, "keras/mlperf_tiny/vww_96.h5"))
	if err != nil {
		t.Fatal(err)
	}
	in := m.Layer("input_1")
	if got, want := in.Shape, []int{-1, 96, 96, 3}; !slices.Equal(got, want) {
		t.Errorf("input shape: got %v, want %v", got, want)
	}
	c := m.Layer("conv2d")
	if c.Filters != 8 || c.KernelSize != [2]int{3, 3} || c.Strides != [2]int{2, 2} || c.Padding != "same" || !c.UseBias || c.Activation != "linear" {
		t.Errorf("conv2d typed config: got %+v", c)
	}
	bn := m.Layer("batch_normalization")
	if !slices.Equal(bn.Axis, []int{3}) || math.Abs(bn.Epsilon-0.001) > 1e-12 || !bn.Center || !bn.Scale {
		t.Errorf("batch_normalization typed config: got axis %v eps %g center %v scale %v", bn.Axis, bn.Epsilon, bn.Center, bn.Scale)
	}
	// Values checked with h5py: moving_variance[:3] and dense kernel[0,:2].
	mv := bn.Weights["moving_variance"].Data
	for i, want := range []float32{0.04932148, 0.08251185, 0.13209312} {
		if math.Abs(float64(mv[i]-want)) > 1e-7 {
			t.Errorf("moving_variance[%d]: got %g, want %g", i, mv[i], want)
		}
	}
	dk := m.Layer("dense").Weights["kernel"].Data
	for i, want := range []float32{0.07171417, 0.07169129} {
		if math.Abs(float64(dk[i]-want)) > 1e-7 {
			t.Errorf("dense kernel[0,%d]: got %g, want %g", i, dk[i], want)
		}
	}
}
