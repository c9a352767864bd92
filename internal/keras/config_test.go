package keras

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scigolib/hdf5"

	"github.com/fruitcam/fruitcam/internal/testdata"
)

func seq(layers ...string) string {
	return `{"class_name": "Sequential", "config": {"name": "s", "layers": [` + strings.Join(layers, ",") + `]}}`
}

func layer(class, cfg string) string {
	return `{"class_name": "` + class + `", "config": {` + cfg + `}}`
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name   string
		config string
		check  func(t *testing.T, m *Model)
	}{
		{
			name:   "keras 2 sequential gets an explicit input",
			config: seq(layer("Dense", `"name": "d", "batch_input_shape": [null, 2], "units": 8, "activation": "tanh"`), layer("Dropout", `"name": "drop", "rate": 0.25`)),
			check: func(t *testing.T, m *Model) {
				if got := m.Layers[0]; got.Name != "d_input" || got.Class != "InputLayer" || !slices.Equal(got.Shape, []int{-1, 2}) {
					t.Errorf("input: got %+v", got)
				}
				if got := m.Layer("drop"); got.Rate != 0.25 || !slices.Equal(got.Inbound, []string{"d"}) {
					t.Errorf("dropout: got rate %g inbound %v", got.Rate, got.Inbound)
				}
				if !m.Layer("d").UseBias || m.Layer("d").Activation != "tanh" {
					t.Errorf("dense: got %+v", m.Layer("d"))
				}
			},
		},
		{
			name:   "keras 2.0 sequential layer list",
			config: `{"class_name": "Sequential", "config": [` + layer("Flatten", `"name": "f", "batch_input_shape": [null, 4, 4, 1]`) + `]}`,
			check: func(t *testing.T, m *Model) {
				if !slices.Equal(m.Inputs, []string{"f_input"}) || !slices.Equal(m.Outputs, []string{"f"}) {
					t.Errorf("got inputs %v outputs %v", m.Inputs, m.Outputs)
				}
			},
		},
		{
			name: "keras 3 sequential with build_input_shape",
			config: `{"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": [` +
				`{"module": "keras.layers", "class_name": "ReLU", "config": {"name": "r", "max_value": 6.0, "negative_slope": 0.0, "threshold": 0.0}, "registered_name": null}` +
				`], "build_input_shape": [null, 3]}}`,
			check: func(t *testing.T, m *Model) {
				r := m.Layer("r")
				if r.MaxValue == nil || *r.MaxValue != 6 {
					t.Errorf("relu max_value: got %v", r.MaxValue)
				}
				if !slices.Equal(m.Layers[0].Shape, []int{-1, 3}) {
					t.Errorf("input shape: got %v", m.Layers[0].Shape)
				}
			},
		},
		{
			name: "pooling, padding and reshape forms",
			config: seq(layer("InputLayer", `"name": "in", "batch_shape": [null, 8, 8, 2]`),
				layer("ZeroPadding2D", `"name": "z1", "padding": [[1, 2], [3, 4]]`),
				layer("ZeroPadding2D", `"name": "z2", "padding": [1, 2]`),
				layer("ZeroPadding2D", `"name": "z3", "padding": 2`),
				layer("MaxPooling2D", `"name": "mp", "pool_size": [3, 3], "strides": null, "padding": "same"`),
				layer("AveragePooling2D", `"name": "ap", "pool_size": 2, "strides": 1`),
				layer("Reshape", `"name": "rs", "target_shape": [-1, 2]`),
				layer("Softmax", `"name": "sm", "axis": -1`)),
			check: func(t *testing.T, m *Model) {
				if got := m.Layer("z1").Pad; got != [2][2]int{{1, 2}, {3, 4}} {
					t.Errorf("z1: got %v", got)
				}
				if got := m.Layer("z2").Pad; got != [2][2]int{{1, 1}, {2, 2}} {
					t.Errorf("z2: got %v", got)
				}
				if got := m.Layer("z3").Pad; got != [2][2]int{{2, 2}, {2, 2}} {
					t.Errorf("z3: got %v", got)
				}
				if mp := m.Layer("mp"); mp.Strides != [2]int{3, 3} || mp.Padding != "same" {
					t.Errorf("mp: got strides %v padding %q", mp.Strides, mp.Padding)
				}
				if ap := m.Layer("ap"); ap.PoolSize != [2]int{2, 2} || ap.Strides != [2]int{1, 1} || ap.Padding != "valid" {
					t.Errorf("ap: got %v %v %q", ap.PoolSize, ap.Strides, ap.Padding)
				}
				if got := m.Layer("rs").TargetShape; !slices.Equal(got, []int{-1, 2}) {
					t.Errorf("rs: got %v", got)
				}
			},
		},
		{
			name: "keras 2 functional with concatenate, multiply and normalization",
			config: `{"class_name": "Functional", "config": {"name": "f", "layers": [
 {"class_name": "InputLayer", "config": {"name": "a", "batch_input_shape": [null, 4]}, "name": "a", "inbound_nodes": []},
 {"class_name": "Normalization", "config": {"name": "n", "axis": -1, "mean": [1, 2, 3, 4], "variance": [1, 1, 1, 4]}, "name": "n", "inbound_nodes": [[["a", 0, 0, {}]]]},
 {"class_name": "Multiply", "config": {"name": "mul"}, "name": "mul", "inbound_nodes": [[["n", 0, 0, {}], ["a", 0, 0, {}]]]},
 {"class_name": "Concatenate", "config": {"name": "cat", "axis": -1}, "name": "cat", "inbound_nodes": [[["mul", 0, 0, {}], ["n", 0, 0, {}]]]}
], "input_layers": [["a", 0, 0]], "output_layers": [["cat", 0, 0]]}}`,
			check: func(t *testing.T, m *Model) {
				if got := m.Layer("n").Variance; !slices.Equal(got, []float64{1, 1, 1, 4}) {
					t.Errorf("variance: got %v", got)
				}
				if got := m.Layer("cat").Inbound; !slices.Equal(got, []string{"mul", "n"}) {
					t.Errorf("cat inbound: got %v", got)
				}
			},
		},
		{
			name: "functional layers out of order are sorted",
			config: `{"class_name": "Functional", "config": {"name": "f", "layers": [
 {"class_name": "Flatten", "config": {"name": "fl"}, "name": "fl", "inbound_nodes": [[["a", 0, 0, {}]]]},
 {"class_name": "InputLayer", "config": {"name": "a", "batch_input_shape": [null, 2, 2]}, "name": "a", "inbound_nodes": []}
], "input_layers": [["a", 0, 0]], "output_layers": [["fl", 0, 0]]}}`,
			check: func(t *testing.T, m *Model) {
				if m.Layers[0].Name != "a" || m.Layers[1].Name != "fl" {
					t.Errorf("order: got %s, %s", m.Layers[0].Name, m.Layers[1].Name)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseConfig([]byte(tt.config))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, m)
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	in := layer("InputLayer", `"name": "in", "batch_input_shape": [null, 4, 4, 3]`)
	fn := func(layers string) string {
		return `{"class_name": "Functional", "config": {"name": "f", "layers": [` + layers +
			`], "input_layers": [["in", 0, 0]], "output_layers": [["x", 0, 0]]}}`
	}
	fin := `{"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [null, 4]}, "name": "in", "inbound_nodes": []}`
	tests := []struct {
		name, config, want string
	}{
		{"not json", `{`, "not a JSON object"},
		{"no class", `{}`, "no class_name"},
		{"unknown model class", `{"class_name": "Subclassed", "config": {}}`, "Subclassed"},
		{"unsupported layer", seq(in, layer("LSTM", `"name": "lstm", "units": 4`)), `layer "lstm" has class LSTM, which is not supported by fruitcam's converter; replace it or export a .tflite with TensorFlow's converter and use ` + "`convert quantize`"},
		{"channels first", seq(in, layer("Conv2D", `"name": "c", "filters": 2, "kernel_size": 3, "data_format": "channels_first"`)), "channels_first"},
		{"grouped conv", seq(in, layer("Conv2D", `"name": "c", "filters": 2, "kernel_size": 3, "groups": 2`)), "grouped"},
		{"no kernel size", seq(in, layer("Conv2D", `"name": "c", "filters": 2`)), "no kernel_size"},
		{"bad padding", seq(in, layer("Conv2D", `"name": "c", "filters": 2, "kernel_size": 3, "padding": "causal"`)), "padding"},
		{"bad activation", seq(in, layer("Dense", `"name": "d", "units": 2, "activation": "mish"`)), "mish"},
		{"zero units", seq(in, layer("Dense", `"name": "d", "units": 0`)), "units 0"},
		{"fractional filters", seq(in, layer("Conv2D", `"name": "c", "filters": 2.5, "kernel_size": 3`)), "not an integer"},
		{"no input shape", seq(layer("Dense", `"name": "d", "units": 2`)), "no input shape"},
		{"empty sequential", seq(), "no layers"},
		{"duplicate names", seq(in, layer("Flatten", `"name": "f"`), layer("Flatten", `"name": "f"`)), "two layers"},
		{"unknown inbound", fn(fin + `,{"class_name": "Flatten", "config": {"name": "x"}, "name": "x", "inbound_nodes": [[["nope", 0, 0, {}]]]}`), `unknown layer "nope"`},
		{"shared layer", fn(fin + `,{"class_name": "Flatten", "config": {"name": "x"}, "name": "x", "inbound_nodes": [[["in", 0, 0, {}]], [["in", 0, 0, {}]]]}`), "shared"},
		{"second output", fn(fin + `,{"class_name": "Flatten", "config": {"name": "x"}, "name": "x", "inbound_nodes": [[["in", 0, 1, {}]]]}`), "second node or output"},
		{"cycle", fn(fin + `,{"class_name": "Add", "config": {"name": "x"}, "name": "x", "inbound_nodes": [[["in", 0, 0, {}], ["y", 0, 0, {}]]]},` +
			`{"class_name": "Flatten", "config": {"name": "y"}, "name": "y", "inbound_nodes": [[["x", 0, 0, {}]]]}`), "cycle"},
		{"add with one input", fn(fin + `,{"class_name": "Add", "config": {"name": "x"}, "name": "x", "inbound_nodes": [[["in", 0, 0, {}]]]}`), "want at least 2"},
		{"input is not InputLayer", `{"class_name": "Functional", "config": {"name": "f", "layers": [` + fin +
			`,{"class_name": "Flatten", "config": {"name": "x"}, "name": "x", "inbound_nodes": [[["in", 0, 0, {}]]]}], "input_layers": [["x", 0, 0]], "output_layers": [["x", 0, 0]]}}`, "not an InputLayer"},
		{"keras 3 node without tensors", fn(fin + `,{"class_name": "Flatten", "config": {"name": "x"}, "name": "x", "inbound_nodes": [{"args": [], "kwargs": {}}]}`), "no input tensors"},
		{"bad reshape", seq(in, layer("Reshape", `"name": "r", "target_shape": [-1, -1]`)), "more than one -1"},
		{"bad input dim", seq(layer("InputLayer", `"name": "in", "batch_input_shape": [null, 0]`)), "invalid dimension"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.config))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
	_, err := ParseConfig([]byte(seq(in, layer("GRU", `"name": "g"`))))
	var unsup *UnsupportedLayerError
	if !errors.As(err, &unsup) || unsup.Layer != "g" || unsup.Class != "GRU" {
		t.Errorf("got %v, want an UnsupportedLayerError for g/GRU", err)
	}
}

// TestReadFileCorrupt feeds broken files through ReadFile: each must give
// an error, never a panic.
func TestReadFileCorrupt(t *testing.T) {
	src, err := os.ReadFile(testdata.Path(t, "keras/go-tflite/xor_model.h5"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cases := map[string][]byte{
		"empty":     nil,
		"text":      []byte("hello, not a model"),
		"magic":     []byte("\x89HDF\r\n\x1a\n"),
		"truncated": src[:len(src)/2],
		"head":      src[:1024],
		"zip magic": []byte("PK\x03\x04garbage"),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadFile(p); err == nil {
				t.Fatal("got no error")
			} else if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.h5")); err == nil {
		t.Error("missing file: got no error")
	}
}

func TestInfoShape(t *testing.T) {
	tests := []struct {
		info string
		want []int
	}{
		{"Dataset: float (size=4 bytes), 1D array [8], contiguous", []int{8}},
		{"Dataset: float (size=4 bytes), 2D array [2 x 8], contiguous", []int{2, 8}},
		{"Dataset: float (size=4 bytes), 4D array [3 3 8 1], chunked", []int{3, 3, 8, 1}},
		{"Dataset: integer (size=8 bytes), scalar, contiguous", []int{}},
	}
	for _, tt := range tests {
		got, err := infoShape(tt.info)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("infoShape(%q): got %v, %v, want %v", tt.info, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "Dataset: float, 2D array [2], x", "Dataset: float, 1D array [0], x", "Dataset: float, 2D array [99999 99999], x"} {
		if _, err := infoShape(bad); err == nil {
			t.Errorf("infoShape(%q): got no error", bad)
		}
	}
}

// FuzzParseConfig checks ParseConfig never panics and that whatever it
// accepts is a well-formed graph. The real model configs are tens of KB, and
// Go spends up to -fuzzminimizetime (60s by default) minimising each new
// input at 0 execs/s, so run it with -fuzzminimizetime=1s.
func FuzzParseConfig(f *testing.F) {
	for _, file := range []string{"keras/mlperf_tiny/pretrainedResnet.h5", "keras/mlperf_tiny/vww_96.h5", "keras/go-tflite/xor_model.h5"} {
		p, err := testdata.Lookup(file)
		if err != nil {
			continue
		}
		h, err := hdf5.Open(p)
		if err != nil {
			f.Fatal(err)
		}
		attrs, err := h.Root().Attributes()
		if err != nil {
			f.Fatal(err)
		}
		for _, a := range attrs {
			if a.Name == "model_config" {
				if v, err := a.ReadValue(); err == nil {
					if s, ok := v.(string); ok {
						f.Add([]byte(s))
					}
				}
			}
		}
		h.Close()
	}
	f.Add([]byte(keras3Config))
	f.Add([]byte(seq(layer("Dense", `"name": "d", "batch_input_shape": [null, 2], "units": 8`))))
	f.Add([]byte(`{"class_name": "Sequential", "config": [` + layer("Flatten", `"name": "f", "batch_input_shape": [null, 4]`) + `]}`))
	f.Add([]byte(`{"class_name": "Functional", "config": {"layers": [], "input_layers": "x"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseConfig(data)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, l := range m.Layers {
			for _, in := range l.Inbound {
				if !seen[in] {
					t.Fatalf("layer %q before its input %q", l.Name, in)
				}
			}
			seen[l.Name] = true
		}
		for _, n := range append(slices.Clone(m.Inputs), m.Outputs...) {
			if !seen[n] {
				t.Fatalf("input/output %q is not a layer", n)
			}
		}
	})
}
