package keras

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/internal/testdata"
)

// python returns a Python interpreter with h5py, or skips the test: h5py is
// only a test-time aid for writing fixtures and cross-checking values.
func python(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import h5py, numpy").Run() == nil {
			return py
		}
	}
	// CI installs python3-h5py (.ci/deps.sh): there a missing h5py means
	// these checks silently did not run, which must fail.
	if testdata.Required() {
		t.Fatal("python3 with h5py and numpy not available (apt-get install python3-h5py)")
	}
	t.Skip("python3 with h5py and numpy not available")
	return ""
}

func runPython(t *testing.T, script string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(python(t), append([]string{"-c", script}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("python: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	return out
}

// TestWeightsMatchH5py compares every weight of the real models with what
// h5py reads from the same datasets.
func TestWeightsMatchH5py(t *testing.T) {
	const script = `
import h5py, json, sys
f = h5py.File(sys.argv[1], "r")
out = {}
def visit(name, obj):
    if isinstance(obj, h5py.Dataset) and name.startswith("model_weights/"):
        d = obj[()].astype("float64")
        out[name] = {"shape": list(obj.shape), "sum": float(d.sum()), "first": float(d.flat[0])}
f.visititems(visit)
print(json.dumps(out))
`
	for _, file := range []string{"keras/mlperf_tiny/pretrainedResnet.h5", "keras/mlperf_tiny/vww_96.h5", "keras/go-tflite/xor_model.h5"} {
		t.Run(file, func(t *testing.T) {
			path := testdata.Path(t, file)
			var want map[string]struct {
				Shape []int
				Sum   float64
				First float64
			}
			if err := json.Unmarshal(runPython(t, script, path), &want); err != nil {
				t.Fatal(err)
			}
			m, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, l := range m.Layers {
				for name, w := range l.Weights {
					key := "model_weights/" + l.Name + "/" + l.Name + "/" + name + ":0"
					ref, ok := want[key]
					if !ok {
						t.Errorf("%s: h5py has no such dataset", key)
						continue
					}
					n++
					if !slices.Equal(w.Shape, ref.Shape) {
						t.Errorf("%s shape: got %v, want %v", key, w.Shape, ref.Shape)
					}
					sum := 0.0
					for _, v := range w.Data {
						sum += float64(v)
					}
					if math.Abs(sum-ref.Sum) > 1e-5*(1+math.Abs(ref.Sum)) || float64(w.Data[0]) != ref.First {
						t.Errorf("%s: got sum %g first %g, want %g %g", key, sum, w.Data[0], ref.Sum, ref.First)
					}
				}
			}
			if n != len(want) {
				t.Errorf("read %d weights, h5py lists %d", n, len(want))
			}
		})
	}
}

// keras3Config is a Keras 3 style functional model exercising the
// args/keras_history inbound format and several typed layers.
const keras3Config = `{"module": "keras.src.models.functional", "class_name": "Functional", "config": {
 "name": "k3", "trainable": true,
 "layers": [
  {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 8, 8, 3], "dtype": "float32", "name": "input_layer"}, "name": "input_layer", "inbound_nodes": []},
  {"module": "keras.layers", "class_name": "Rescaling", "config": {"name": "rescaling", "scale": 0.00392156862745098, "offset": 0.0}, "name": "rescaling",
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 8, 8, 3], "dtype": "float32", "keras_history": ["input_layer", 0, 0]}}], "kwargs": {}}]},
  {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "conv", "filters": 4, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "relu", "use_bias": true,
   "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}}}, "name": "conv",
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 8, 8, 3], "dtype": "float32", "keras_history": ["rescaling", 0, 0]}}], "kwargs": {}}]},
  {"module": "keras.layers", "class_name": "DepthwiseConv2D", "config": {"name": "dw", "kernel_size": 3, "strides": 2, "padding": "valid", "depth_multiplier": 2, "activation": "linear", "use_bias": false}, "name": "dw",
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["conv", 0, 0]}}], "kwargs": {}}]},
  {"module": "keras.layers", "class_name": "BatchNormalization", "config": {"name": "bn", "axis": -1, "epsilon": 0.001, "center": true, "scale": false}, "name": "bn",
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["dw", 0, 0]}}], "kwargs": {"training": false}}]},
  {"module": "keras.layers", "class_name": "LeakyReLU", "config": {"name": "lrelu", "negative_slope": 0.5}, "name": "lrelu",
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["bn", 0, 0]}}], "kwargs": {}}]},
  {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "side", "filters": 8, "kernel_size": 1, "strides": 2, "padding": "valid", "activation": "linear", "use_bias": true}, "name": "side",
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["conv", 0, 0]}}], "kwargs": {}}]},
  {"module": "keras.layers", "class_name": "Add", "config": {"name": "add"}, "name": "add",
   "inbound_nodes": [{"args": [[{"class_name": "__keras_tensor__", "config": {"keras_history": ["lrelu", 0, 0]}}, {"class_name": "__keras_tensor__", "config": {"keras_history": ["side", 0, 0]}}]], "kwargs": {}}]},
  {"module": "keras.layers", "class_name": "GlobalAveragePooling2D", "config": {"name": "gap", "data_format": "channels_last", "keepdims": false}, "name": "gap",
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["add", 0, 0]}}], "kwargs": {}}]},
  {"module": "keras.layers", "class_name": "Dense", "config": {"name": "out", "units": 2, "activation": "softmax", "use_bias": true}, "name": "out",
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["gap", 0, 0]}}], "kwargs": {}}]}
 ],
 "input_layers": [["input_layer", 0, 0]], "output_layers": ["out", 0, 0]}}`

// keras3Weights lists the fixture's weights in Keras creation order.
var keras3Weights = []struct {
	layer string
	names []string
	shape [][]int
}{
	{"conv", []string{"kernel", "bias"}, [][]int{{3, 3, 3, 4}, {4}}},
	{"dw", []string{"kernel"}, [][]int{{3, 3, 4, 2}}},
	{"bn", []string{"beta", "moving_mean", "moving_variance"}, [][]int{{8}, {8}, {8}}},
	{"side", []string{"kernel", "bias"}, [][]int{{1, 1, 4, 8}, {8}}},
	{"out", []string{"kernel", "bias"}, [][]int{{8, 2}, {2}}},
}

// writeFixture has h5py write the weights with values 0.5*i + k, where i is
// the element index and k the weight's position in keras3Weights, so reads
// can be checked exactly. mode "h5" writes a Keras 3 model.save(".h5") style
// file, "vars" a .keras model.weights.h5.
func writeFixture(t *testing.T, path, mode string, config string) {
	t.Helper()
	spec := []any{}
	for _, w := range keras3Weights {
		spec = append(spec, []any{w.layer, w.names, w.shape})
	}
	js, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	const script = `
import h5py, json, sys, numpy as np
path, mode, spec, config = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
f = h5py.File(path, "w")
k = 0
if mode == "h5":
    f.attrs["model_config"] = config
    f.attrs["keras_version"] = "3.12.0"
    g = f.create_group("model_weights")
for layer, names, shapes in spec:
    for i, (n, s) in enumerate(zip(names, shapes)):
        data = (0.5 * np.arange(int(np.prod(s))) + k).reshape(s).astype("float32")
        if mode == "h5":
            g.create_dataset(layer + "/" + layer + "/" + n, data=data)
        else:
            f.create_dataset("layers/%s/vars/%d" % (layer, i), data=data)
        k += 1
f.close()
`
	runPython(t, script, path, mode, string(js), config)
}

func checkFixtureModel(t *testing.T, m *Model) {
	t.Helper()
	if got, want := len(m.Layers), 10; got != want {
		t.Fatalf("layers: got %d, want %d", got, want)
	}
	if !slices.Equal(m.Layer("add").Inbound, []string{"lrelu", "side"}) {
		t.Errorf("add inbound: got %v", m.Layer("add").Inbound)
	}
	if got := m.Layer("lrelu").Alpha; got != 0.5 {
		t.Errorf("lrelu alpha: got %g, want 0.5", got)
	}
	if dw := m.Layer("dw"); dw.KernelSize != [2]int{3, 3} || dw.Strides != [2]int{2, 2} || dw.DepthMultiplier != 2 || dw.UseBias {
		t.Errorf("dw typed config: got %+v", dw)
	}
	if got := m.Layer("rescaling").RescaleScale; len(got) != 1 || math.Abs(got[0]-1.0/255) > 1e-12 {
		t.Errorf("rescaling scale: got %v", got)
	}
	if !slices.Equal(m.Outputs, []string{"out"}) {
		t.Errorf("outputs: got %v", m.Outputs)
	}
	k := 0
	for _, w := range keras3Weights {
		l := m.Layer(w.layer)
		if got := len(l.Weights); got != len(w.names) {
			t.Errorf("%s: got %d weights, want %d", w.layer, got, len(w.names))
		}
		for i, n := range w.names {
			if n == "kernel" && l.Class == "DepthwiseConv2D" {
				n = "depthwise_kernel"
			}
			tw := l.Weights[n]
			if tw == nil {
				t.Errorf("%s/%s: missing", w.layer, n)
				k++
				continue
			}
			if !slices.Equal(tw.Shape, w.shape[i]) {
				t.Errorf("%s/%s shape: got %v, want %v", w.layer, n, tw.Shape, w.shape[i])
			}
			for j, v := range tw.Data {
				if want := float32(0.5*float64(j) + float64(k)); v != want {
					t.Errorf("%s/%s[%d]: got %g, want %g", w.layer, n, j, v, want)
					break
				}
			}
			k++
		}
	}
}

func TestReadKeras3H5(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k3.h5")
	writeFixture(t, path, "h5", keras3Config)
	m, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkFixtureModel(t, m)
}

func TestReadKerasZip(t *testing.T) {
	dir := t.TempDir()
	weights := filepath.Join(dir, "model.weights.h5")
	writeFixture(t, weights, "vars", "")
	wb, err := os.ReadFile(weights)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "m.keras")
	writeZip(t, path, map[string][]byte{"metadata.json": []byte(`{"keras_version": "3.12.0"}`), "config.json": []byte(keras3Config), "model.weights.h5": wb})
	m, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkFixtureModel(t, m)

	// A kernel disagreeing with the config must be refused, naming the layer.
	bad := strings.Replace(keras3Config, `"filters": 8, "kernel_size": 1`, `"filters": 8, "kernel_size": 3`, 1)
	writeZip(t, path, map[string][]byte{"config.json": []byte(bad), "model.weights.h5": wb})
	_, err = ReadFile(path)
	if err == nil || !strings.Contains(err.Error(), `"side"`) || !strings.Contains(err.Error(), "kernel") {
		t.Errorf("mismatched kernel: got error %v, want one naming layer \"side\" and its kernel", err)
	}

	writeZip(t, path, map[string][]byte{"config.json": []byte(keras3Config)})
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), "model.weights.h5") {
		t.Errorf("zip without weights: got error %v", err)
	}
}

func writeZip(t *testing.T, path string, files map[string][]byte) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
