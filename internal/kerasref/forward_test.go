package kerasref

import (
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/internal/keras"
)

// graphConfig is a Keras 2 functional model with two inputs and two
// outputs: a = Conv2D 1x1 (x2 per channel) of in_a; both inputs are
// concatenated with a, summed with in_b, and reduced by a Dense head.
const graphConfig = `{"class_name": "Functional", "config": {"name": "g",
 "layers": [
  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 1, 2, 1], "name": "in_a"}, "name": "in_a", "inbound_nodes": []},
  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 1, 2, 2], "name": "in_b"}, "name": "in_b", "inbound_nodes": []},
  {"class_name": "Conv2D", "config": {"name": "conv", "filters": 1, "kernel_size": [1, 1], "use_bias": false, "activation": "linear"}, "name": "conv",
   "inbound_nodes": [[["in_a", 0, 0, {}]]]},
  {"class_name": "Concatenate", "config": {"name": "cat", "axis": -1}, "name": "cat",
   "inbound_nodes": [[["in_a", 0, 0, {}], ["conv", 0, 0, {}]]]},
  {"class_name": "Add", "config": {"name": "add"}, "name": "add",
   "inbound_nodes": [[["cat", 0, 0, {}], ["in_b", 0, 0, {}]]]},
  {"class_name": "Flatten", "config": {"name": "flat"}, "name": "flat", "inbound_nodes": [[["add", 0, 0, {}]]]},
  {"class_name": "Dense", "config": {"name": "head", "units": 1, "use_bias": true, "activation": "linear"}, "name": "head",
   "inbound_nodes": [[["flat", 0, 0, {}]]]}
 ],
 "input_layers": [["in_a", 0, 0], ["in_b", 0, 0]],
 "output_layers": [["head", 0, 0], ["add", 0, 0]]}}`

func graphModel(t *testing.T) *keras.Model {
	t.Helper()
	m, err := keras.ParseConfig([]byte(graphConfig))
	if err != nil {
		t.Fatal(err)
	}
	m.Layer("conv").Weights = map[string]*keras.Tensor{"kernel": w([]int{1, 1, 1, 1}, 2)}
	m.Layer("head").Weights = map[string]*keras.Tensor{
		"kernel": w([]int{4, 1}, 1, 1, 1, 1),
		"bias":   w([]int{1}, -1),
	}
	return m
}

func TestForwardGraph(t *testing.T) {
	m := graphModel(t)
	// in_a = [3, 5]: conv 6, 10; cat [[3,6],[5,10]]; + in_b [[1,2],[3,4]].
	outs, err := Forward(m, [][]float32{{3, 5}, {1, 2, 3, 4}})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float32{{4 + 8 + 8 + 14 - 1}, {4, 8, 8, 14}}
	if len(outs) != len(want) {
		t.Fatalf("got %d outputs, want %d", len(outs), len(want))
	}
	for i := range want {
		for j := range want[i] {
			if len(outs[i]) != len(want[i]) || outs[i][j] != want[i][j] {
				t.Errorf("output %d: got %v, want %v", i, outs[i], want[i])
				break
			}
		}
	}
}

func TestForwardInputErrors(t *testing.T) {
	m := graphModel(t)
	tests := []struct {
		name   string
		inputs [][]float32
		want   string
	}{
		{"one input missing", [][]float32{{3, 5}}, "has 2 inputs, got 1"},
		{"short input", [][]float32{{3}, {1, 2, 3, 4}}, `input "in_a": got 1 values, want 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Forward(m, tt.inputs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := Forward(nil, nil); err == nil {
		t.Error("nil model: got no error")
	}
	// A layer failing names itself.
	m.Layer("head").Weights["kernel"] = w([]int{3, 1}, 1, 1, 1)
	_, err := Forward(m, [][]float32{{3, 5}, {1, 2, 3, 4}})
	if err == nil || !strings.Contains(err.Error(), `layer "head" (Dense)`) {
		t.Errorf("bad kernel: got error %v, want one naming layer \"head\" (Dense)", err)
	}
}

// TestForwardUnknownDimension infers one unknown input dimension from the
// data length, and refuses two.
func TestForwardUnknownDimension(t *testing.T) {
	const cfg = `{"class_name": "Sequential", "config": {"name": "s", "layers": [
	 {"class_name": "InputLayer", "config": {"batch_input_shape": [null, null, 2], "name": "x"}},
	 {"class_name": "Dense", "config": {"name": "d", "units": 1, "use_bias": false, "activation": "relu"}}]}}`
	m, err := keras.ParseConfig([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	m.Layer("d").Weights = map[string]*keras.Tensor{"kernel": w([]int{2, 1}, 1, -1)}
	outs, err := Forward(m, [][]float32{{5, 1, 1, 5, 2, 0}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{4, 0, 2}; len(outs[0]) != 3 || outs[0][0] != want[0] || outs[0][1] != want[1] || outs[0][2] != want[2] {
		t.Errorf("got %v, want %v", outs[0], want)
	}
	if _, err := Forward(m, [][]float32{{1, 2, 3}}); err == nil || !strings.Contains(err.Error(), "do not fit") {
		t.Errorf("odd length: got error %v", err)
	}
	m.Layer("x").Shape = []int{-1, 0, 2}
	if _, err := Forward(m, [][]float32{{1, 2}}); err == nil || !strings.Contains(err.Error(), "invalid dimension 0") {
		t.Errorf("zero dimension: got error %v", err)
	}
	m.Layer("x").Shape = []int{-1, -1, -1}
	if _, err := Forward(m, [][]float32{{1, 2}}); err == nil || !strings.Contains(err.Error(), "more than one unknown") {
		t.Errorf("two unknown dimensions: got error %v", err)
	}
}
