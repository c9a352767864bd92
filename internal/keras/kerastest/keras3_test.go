package kerastest_test

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/internal/keras"
	"github.com/fruitcam/fruitcam/internal/keras/kerastest"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// TestFruitCNNKeras3Read reads both Keras 3 files and checks they hold
// exactly the Keras 2 fixture's network: the same layers with the same
// typed configuration and bit-identical weights. Only the input layer's
// name and the Keras version differ.
func TestFruitCNNKeras3Read(t *testing.T) {
	k2, err := keras.ReadFile(kerastest.FruitCNN(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"keras", "h5"} {
		t.Run(format, func(t *testing.T) {
			m, err := keras.ReadFile(kerastest.FruitCNNKeras3(t, format))
			if err != nil {
				t.Fatal(err)
			}
			if m.KerasVersion != "3.10.0" {
				t.Errorf("keras version %q, want 3.10.0", m.KerasVersion)
			}
			if !slices.Equal(m.Inputs, []string{"input_layer"}) || !slices.Equal(m.Outputs, []string{"dense_1"}) {
				t.Errorf("inputs %v outputs %v, want [input_layer] [dense_1]", m.Inputs, m.Outputs)
			}
			sameModel(t, m, k2, map[string]string{"input_layer": "conv2d_input"})
		})
	}
}

// sameModel checks that got is want's network: layer by layer the same
// class, typed configuration, graph and weights. rename maps got's layer
// names to want's where they differ.
func sameModel(t *testing.T, got, want *keras.Model, rename map[string]string) {
	t.Helper()
	name := func(n string) string {
		if r, ok := rename[n]; ok {
			return r
		}
		return n
	}
	if len(got.Layers) != len(want.Layers) {
		t.Fatalf("got %d layers, want %d", len(got.Layers), len(want.Layers))
	}
	for i, g := range got.Layers {
		w := want.Layers[i]
		if name(g.Name) != w.Name || g.Class != w.Class {
			t.Errorf("layer %d: got %s %s, want %s %s", i, g.Name, g.Class, w.Name, w.Class)
			continue
		}
		var in []string
		for _, n := range g.Inbound {
			in = append(in, name(n))
		}
		if !slices.Equal(in, w.Inbound) {
			t.Errorf("%s: inbound %v, want %v", g.Name, g.Inbound, w.Inbound)
		}
		if gt, wt := typed(g), typed(w); gt != wt {
			t.Errorf("%s: typed config\n got %s\nwant %s", g.Name, gt, wt)
		}
		if len(g.Weights) != len(w.Weights) {
			t.Errorf("%s: %d weights, want %d", g.Name, len(g.Weights), len(w.Weights))
		}
		for wn, wt := range w.Weights {
			gt := g.Weights[wn]
			if gt == nil || !slices.Equal(gt.Shape, wt.Shape) || !slices.Equal(gt.Data, wt.Data) {
				t.Errorf("%s/%s differs from the Keras 2 fixture's", g.Name, wn)
			}
		}
	}
}

// typed prints the fields the converter uses, not the raw config, whose
// keys differ between Keras 2 and 3 (alpha vs negative_slope, axis [3]
// vs -1).
func typed(l *keras.Layer) string {
	axis := l.Axis
	if l.Class == "BatchNormalization" && slices.Equal(axis, []int{3}) {
		axis = []int{-1} // the same axis of a rank-4 input
	}
	return fmt.Sprint(l.Shape, l.Filters, l.Units, l.KernelSize, l.Strides, l.Dilation, l.PoolSize,
		l.Padding, l.UseBias, l.Activation, l.Alpha, axis, l.Epsilon, l.Center, l.Scale, l.Rate)
}

// TestFruitCNNKeras3Layout pins the parts of the Keras 3 layouts that
// readers depend on, as keras/src/saving/saving_lib.py and
// keras/src/legacy/saving/legacy_h5_format.py write them.
func TestFruitCNNKeras3Layout(t *testing.T) {
	t.Run("keras", func(t *testing.T) {
		zr, err := zip.OpenReader(kerastest.FruitCNNKeras3(t, "keras"))
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		var names []string
		files := map[string][]byte{}
		for _, zf := range zr.File {
			names = append(names, zf.Name)
			if zf.Method != zip.Store {
				t.Errorf("%s is compressed; Keras stores its entries", zf.Name)
			}
			rc, err := zf.Open()
			if err != nil {
				t.Fatal(err)
			}
			files[zf.Name], err = io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		if want := []string{"metadata.json", "config.json", "model.weights.h5"}; !slices.Equal(names, want) {
			t.Errorf("zip entries %v, want %v", names, want)
		}
		var meta struct {
			KerasVersion string `json:"keras_version"`
			DateSaved    string `json:"date_saved"`
		}
		if err := json.Unmarshal(files["metadata.json"], &meta); err != nil || meta.KerasVersion != "3.10.0" || meta.DateSaved == "" {
			t.Errorf("metadata.json %s (%v)", files["metadata.json"], err)
		}
		var config struct {
			ClassName string `json:"class_name"`
			Config    struct {
				Layers []struct {
					Module         string
					ClassName      string `json:"class_name"`
					RegisteredName any    `json:"registered_name"`
					Config         map[string]any
					BuildConfig    map[string]any `json:"build_config"`
				}
			}
			CompileConfig map[string]any `json:"compile_config"`
		}
		if err := json.Unmarshal(files["config.json"], &config); err != nil {
			t.Fatal(err)
		}
		if config.ClassName != "Sequential" || len(config.Config.Layers) != 12 || config.CompileConfig == nil {
			t.Fatalf("config.json: class %q, %d layers, compile_config %v", config.ClassName, len(config.Config.Layers), config.CompileConfig)
		}
		for _, l := range config.Config.Layers {
			if l.Module != "keras.layers" || l.RegisteredName != nil {
				t.Errorf("%s: module %q registered_name %v", l.ClassName, l.Module, l.RegisteredName)
			}
			if l.ClassName == "InputLayer" {
				if fmt.Sprint(l.Config["batch_shape"]) != "[<nil> 20 20 3]" {
					t.Errorf("input batch_shape %v", l.Config["batch_shape"])
				}
				continue
			}
			if d, _ := l.Config["dtype"].(map[string]any); d["class_name"] != "DTypePolicy" {
				t.Errorf("%s: dtype %v, want a DTypePolicy", l.ClassName, l.Config["dtype"])
			}
		}
		want := []string{
			"layers/batch_normalization/vars/0", "layers/batch_normalization/vars/1",
			"layers/batch_normalization/vars/2", "layers/batch_normalization/vars/3",
			"layers/conv2d/vars/0", "layers/conv2d/vars/1", "layers/conv2d_1/vars/0", "layers/conv2d_1/vars/1",
			"layers/dense/vars/0", "layers/dense/vars/1", "layers/dense_1/vars/0", "layers/dense_1/vars/1",
		}
		for i := range 22 {
			want = append(want, fmt.Sprintf("optimizer/vars/%d", i))
		}
		checkDatasets(t, files["model.weights.h5"], want)
	})
	t.Run("h5", func(t *testing.T) {
		var want []string
		for _, l := range []struct {
			name    string
			weights []string
		}{
			{"batch_normalization", []string{"beta", "gamma", "moving_mean", "moving_variance"}},
			{"conv2d", []string{"bias", "kernel"}}, {"conv2d_1", []string{"bias", "kernel"}},
			{"dense", []string{"bias", "kernel"}}, {"dense_1", []string{"bias", "kernel"}},
		} {
			for _, w := range l.weights {
				want = append(want, "model_weights/"+l.name+"/sequential/"+l.name+"/"+w)
			}
		}
		want = append(want, "optimizer_weights/adam/iteration", "optimizer_weights/adam/learning_rate")
		for _, v := range []string{"batch_normalization_beta", "batch_normalization_gamma", "conv2d_1_bias", "conv2d_1_kernel",
			"conv2d_bias", "conv2d_kernel", "dense_1_bias", "dense_1_kernel", "dense_bias", "dense_kernel"} {
			for _, slot := range []string{"momentum", "velocity"} {
				want = append(want, "optimizer_weights/adam/sequential_"+v+"_"+slot)
			}
		}
		checkDatasets(t, nil, want, kerastest.FruitCNNKeras3(t, "h5"))
	})
}

// checkDatasets lists the HDF5 datasets of data (or of the file at
// path[0]) with h5py and compares them with want.
func checkDatasets(t *testing.T, data []byte, want []string, path ...string) {
	t.Helper()
	const script = `
import h5py, io, sys
src = sys.argv[1] if len(sys.argv) > 1 else io.BytesIO(sys.stdin.buffer.read())
out = []
h5py.File(src, "r").visititems(lambda n, o: out.append(n) if isinstance(o, h5py.Dataset) else None)
print("\n".join(sorted(out)))
`
	py := ""
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import h5py").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		testdata.Missing(t, fmt.Errorf("python3 with h5py not found"))
	}
	cmd := exec.Command(py, append([]string{"-c", script}, path...)...)
	cmd.Stdin = strings.NewReader(string(data))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("h5py: %v", err)
	}
	got := strings.Fields(string(out))
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("datasets\n got %v\nwant %v", got, want)
	}
}

// TestFruitCNNKeras3Names reads .keras files whose layers are not named
// after their classes. Keras 3 stores a layer's variables under
// layers/<class in snake case, numbered per class>/vars, not under the
// layer's name (saving_lib._save_container_state), so a model built a
// second time in one notebook (conv2d_2, conv2d_3, ...) or with names of
// its own has the same model.weights.h5 as the fixture: only config.json
// changes, which is what EditKerasConfig makes.
func TestFruitCNNKeras3Names(t *testing.T) {
	want, err := keras.ReadFile(kerastest.FruitCNN(t))
	if err != nil {
		t.Fatal(err)
	}
	src := kerastest.FruitCNNKeras3(t, "keras")
	tests := []struct {
		name   string
		rename map[string]string // Keras 3 fixture name -> new name
	}{
		{"second session", map[string]string{
			"input_layer": "input_layer_1", "conv2d": "conv2d_2", "activation": "activation_1", "conv2d_1": "conv2d_3",
			"leaky_re_lu": "leaky_re_lu_1", "batch_normalization": "batch_normalization_1", "max_pooling2d": "max_pooling2d_1",
			"dropout": "dropout_2", "flatten": "flatten_1", "dense": "dense_2", "dropout_1": "dropout_3", "dense_1": "dense_3"}},
		// Swapped names are the worst case: a lookup by layer name finds
		// the other layer's weights, of the wrong shape.
		{"own names", map[string]string{
			"input_layer": "pixels", "conv2d": "conv2d_1", "activation": "relu", "conv2d_1": "conv2d",
			"leaky_re_lu": "leaky", "batch_normalization": "bn", "max_pooling2d": "pool",
			"dropout": "drop", "flatten": "flat", "dense": "dense_1", "dropout_1": "drop2", "dense_1": "dense"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := kerastest.EditKerasConfig(t, src, func(config map[string]any) {
				for _, l := range kerastest.SequentialLayers(t, config) {
					cfg := l.(map[string]any)["config"].(map[string]any)
					cfg["name"] = tt.rename[cfg["name"].(string)]
				}
			})
			m, err := keras.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			back := map[string]string{}
			for k3, n := range tt.rename {
				back[n] = k3
				if k3 == "input_layer" {
					back[n] = "conv2d_input"
				}
			}
			sameModel(t, m, want, back)
		})
	}
}
