package main

import (
	"bytes"
	"context"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/dataset"
	"github.com/fruitcam/fruitcam/internal/keras/kerastest"
	"github.com/fruitcam/fruitcam/internal/testdata"
	"github.com/fruitcam/fruitcam/internal/tfliteref"
)

// fruitConversion is the fruit CNN converted from one Keras file.
type fruitConversion struct {
	name       string // which Keras file
	flt, quant []byte // the float and int8 .tflite files
}

// convertFruits converts the fruit CNN saved by Keras 2 (.h5) and Keras 3
// (.keras and .h5) to float and int8. Each input is first given the base
// name "fruits", as a workshop participant's file would have, so that the
// metadata name (the input's base name) is the same for all three.
func convertFruits(t *testing.T) []fruitConversion {
	t.Helper()
	cal := testdata.Path(t, "images/fruits360/Training")
	srcs := []struct{ name, path string }{
		{"keras2.h5", kerastest.FruitCNN(t)},
		{"keras3.h5", kerastest.FruitCNNKeras3(t, "h5")},
		{"keras3.keras", kerastest.FruitCNNKeras3(t, "keras")},
	}
	var out []fruitConversion
	for _, s := range srcs {
		dir := t.TempDir()
		in := filepath.Join(dir, "fruits"+filepath.Ext(s.path))
		if err := os.Symlink(s.path, in); err != nil {
			t.Fatal(err)
		}
		flt, q := filepath.Join(dir, "fruits.tflite"), filepath.Join(dir, "fruits_int8.tflite")
		mustConvert(t, "keras", in, "-o", q, "--float-out", flt, "--quantize", "int8",
			"--calibrate", cal, "--calibrate-max", "32", "--quiet")
		c := fruitConversion{name: s.name}
		var err error
		if c.flt, err = os.ReadFile(flt); err != nil {
			t.Fatal(err)
		}
		if c.quant, err = os.ReadFile(q); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// TestKeras3FruitCNN converts the same fruit CNN from its Keras 2 .h5 and
// its Keras 3 .keras and .h5 and checks the three conversions agree: the
// float models compute the same outputs, in our engine and in the real
// TFLite runtime, and the models are the same bytes except for the names
// the files themselves give them.
func TestKeras3FruitCNN(t *testing.T) {
	convs := convertFruits(t)
	t.Run("bytes", func(t *testing.T) {
		// What legitimately differs between the files: the description
		// records the input file's name ("fruitcam-convert 0.3:
		// fruits.keras"), and Keras 3 names the input layer input_layer
		// where Keras 2 said conv2d_input, and tensors are named after
		// layers. Each pair is compared with exactly its differences
		// blanked, so anything else that differs fails.
		pairs := []struct {
			a, b             int
			description, inp bool
		}{
			{0, 1, false, true}, // Keras 2 .h5 vs Keras 3 .h5
			{1, 2, true, false}, // Keras 3 .h5 vs Keras 3 .keras
			{0, 2, true, true},  // Keras 2 .h5 vs Keras 3 .keras
		}
		for _, kind := range []string{"float", "int8"} {
			for _, p := range pairs {
				a, b := convs[p.a], convs[p.b]
				da, db := a.flt, b.flt
				if kind == "int8" {
					da, db = a.quant, b.quant
				}
				if bytes.Equal(da, db) {
					t.Errorf("%s %s and %s are identical; want the description or input name to differ", kind, a.name, b.name)
					continue
				}
				na := normalised(t, da, p.description, p.inp)
				nb := normalised(t, db, p.description, p.inp)
				if !bytes.Equal(na, nb) {
					t.Errorf("%s models of %s and %s differ beyond their description and input name (%d vs %d bytes)",
						kind, a.name, b.name, len(da), len(db))
				}
			}
		}
		for _, c := range convs {
			m, err := tfl.Parse(c.quant)
			if err != nil {
				t.Fatal(err)
			}
			md, err := infer.ReadMetadata(m)
			if err != nil || md == nil || md.Name != "fruits" || !slices.Equal(md.Labels, kerastest.FruitCNNLabels) {
				t.Errorf("%s: int8 metadata %+v (%v), want name fruits and the 16 fruit labels", c.name, md, err)
			}
		}
	})
	t.Run("outputs", func(t *testing.T) {
		crun, err := tfliteref.CRunPath()
		if err != nil {
			testdata.Missing(t, err)
		}
		set, err := dataset.Scan(testdata.Path(t, "images/fruits360/Test"))
		if err != nil {
			t.Fatal(err)
		}
		set = set.Sample(4)
		var across, engines float64
		identical := true
		for _, kind := range []string{"float", "int8"} {
			for _, item := range set.Items {
				img, err := preprocess.DecodeFile(item.Path)
				if err != nil {
					t.Fatal(err)
				}
				// Output 0 of every model in our engine, then in TFLite.
				var ours, theirs [][]byte
				for _, c := range convs {
					data := c.flt
					if kind == "int8" {
						data = c.quant
					}
					o, th := runFruit(t, crun, data, img)
					ours, theirs = append(ours, o), append(theirs, th)
				}
				for i := range convs {
					if kind == "float" {
						// The same engine across the three models, and
						// our engine against TFLite.
						identical = identical && bytes.Equal(ours[i], ours[0]) && bytes.Equal(theirs[i], theirs[0])
						o, o0 := tfliteref.BytesFloat32(ours[i]), tfliteref.BytesFloat32(ours[0])
						th, th0 := tfliteref.BytesFloat32(theirs[i]), tfliteref.BytesFloat32(theirs[0])
						for k := range o0 {
							across = max(across, math.Abs(float64(o[k]-o0[k])), math.Abs(float64(th[k]-th0[k])))
							engines = max(engines, math.Abs(float64(o[k]-th[k])))
						}
						continue
					}
					// Each engine gives the three int8 models the same
					// output; ours and TFLite's kernels round alike to
					// within one step.
					if !bytes.Equal(ours[i], ours[0]) || !bytes.Equal(theirs[i], theirs[0]) {
						t.Errorf("%s: int8 outputs of %s differ from %s's", filepath.Base(item.Path), convs[i].name, convs[0].name)
					}
					for k := range ours[i] {
						if d := int(int8(ours[i][k])) - int(int8(theirs[i][k])); d < -1 || d > 1 {
							t.Errorf("%s: %s int8 output %d: ours %d, TFLite %d", filepath.Base(item.Path), convs[i].name, k, int8(ours[i][k]), int8(theirs[i][k]))
						}
					}
				}
			}
		}
		t.Logf("float outputs of the Keras 2 .h5, Keras 3 .h5 and Keras 3 .keras conversions on %d images: "+
			"max |Δ| between the three models %.3g in each engine (bit-identical: %v); our engine vs TFLite %.3g",
			len(set.Items), across, identical, engines)
		if across > 1e-6 {
			t.Errorf("the three float models' outputs differ by %g, want at most 1e-6", across)
		}
		if engines > 1e-5 {
			t.Errorf("our engine and TFLite differ by %g, want at most 1e-5", engines)
		}
	})
}

// runFruit runs one fruit CNN model on img in our engine and in the real
// TFLite runtime and returns output 0 of each. The input is filled as the
// workshop trained: nearest resize to 20x20, x/255, quantised for an int8
// input.
func runFruit(t *testing.T, crun string, data []byte, img image.Image) (ours, theirs []byte) {
	t.Helper()
	m, err := tfl.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	sg := &m.Subgraphs[0]
	in := &sg.Tensors[sg.Inputs[0]]
	dst := preprocess.Tensor{Type: in.Type}
	if in.Quant != nil {
		dst.Scale, dst.ZeroPoint = in.Quant.Scale[0], int32(in.Quant.ZeroPoint[0])
	}
	p, err := preprocess.New(preprocess.Spec{Width: 20, Height: 20, Channels: 3}, dst)
	if err != nil {
		t.Fatal(err)
	}
	input := make([]byte, p.SlotBytes())
	if err := p.Into(input, 0, img); err != nil {
		t.Fatal(err)
	}
	it, err := native.New(m, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	copy(it.Inputs()[0].Data, input)
	if err := it.Invoke(); err != nil {
		t.Fatal(err)
	}
	outs, err := tfliteref.RunCLI(context.Background(), crun, data, [][]byte{input}, 0)
	if err != nil {
		t.Fatalf("the real TFLite runtime refused the model: %v", err)
	}
	return slices.Clone(it.Outputs()[0].Data), outs[0]
}

// normalised returns the model data with its description and/or the
// names of its input tensors blanked, and the fruitcam metadata's name
// blanked always, serialised again. The model must serialise back to its
// own bytes first, so that blanking hides nothing else.
func normalised(t *testing.T, data []byte, description, inputNames bool) []byte {
	t.Helper()
	m, err := tfl.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	again, err := tfl.Write(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Fatalf("the model does not serialise back to its own %d bytes (got %d): cannot compare models field by field", len(data), len(again))
	}
	if description {
		m.Description = ""
	}
	if inputNames {
		sg := &m.Subgraphs[0]
		for _, i := range sg.Inputs {
			sg.Tensors[i].Name = "input"
		}
	}
	for _, e := range m.Metadata {
		if e.Name != infer.MetadataName {
			continue
		}
		md, err := infer.ParseMetadata(m.Buffer(e.Buffer))
		if err != nil {
			t.Fatal(err)
		}
		md.Name = "model"
		b, err := md.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		m.Buffers[e.Buffer] = b
	}
	out, err := tfl.Write(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestKeras3Unsupported converts Keras 3 .keras files whose config has a
// layer class the converter does not handle: exit 1, an error naming the
// layer and its class, and no output file.
func TestKeras3Unsupported(t *testing.T) {
	policy := map[string]any{"module": "keras", "class_name": "DTypePolicy",
		"config": map[string]any{"name": "float32"}, "registered_name": nil}
	tests := []struct {
		class, replaces string
		config          map[string]any
	}{
		// A recurrent head where the hidden Dense was.
		{"GRU", "dense", map[string]any{"name": "gru", "trainable": true, "dtype": policy,
			"units": 512, "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": true,
			"dropout": 0.0, "recurrent_dropout": 0.0, "reset_after": true, "return_sequences": false,
			"return_state": false, "go_backwards": false, "stateful": false, "unroll": false, "seed": nil}},
		// A volumetric convolution in place of the second Conv2D.
		{"Conv3D", "conv2d_1", map[string]any{"name": "conv3d", "trainable": true, "dtype": policy,
			"filters": 16, "kernel_size": []any{3, 3, 3}, "strides": []any{1, 1, 1}, "padding": "same",
			"data_format": "channels_last", "dilation_rate": []any{1, 1, 1}, "groups": 1,
			"activation": "linear", "use_bias": true}},
	}
	src := kerastest.FruitCNNKeras3(t, "keras")
	for _, tt := range tests {
		t.Run(tt.class, func(t *testing.T) {
			in := kerastest.EditKerasConfig(t, src, func(config map[string]any) {
				for _, l := range kerastest.SequentialLayers(t, config) {
					l := l.(map[string]any)
					if l["config"].(map[string]any)["name"] == tt.replaces {
						l["class_name"], l["config"] = tt.class, tt.config
						return
					}
				}
				t.Fatalf("no layer %q", tt.replaces)
			})
			out := filepath.Join(t.TempDir(), "out.tflite")
			code, _, stderr := convert(t, "keras", in, "-o", out, "--quiet")
			name := `"` + tt.config["name"].(string) + `"`
			if code != 1 || !strings.Contains(stderr, name) || !strings.Contains(stderr, "class "+tt.class) {
				t.Errorf("exit %d, stderr %q; want exit 1 naming layer %s and class %s", code, stderr, name, tt.class)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a failed conversion left %s", out)
			}
		})
	}
}
