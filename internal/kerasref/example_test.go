package kerasref_test

import (
	"fmt"

	"github.com/fruitcam/fruitcam/internal/keras"
	"github.com/fruitcam/fruitcam/internal/kerasref"
)

// A two-layer model built from its Keras config: Dense 2 -> softmax.
func ExampleForward() {
	m, err := keras.ParseConfig([]byte(`{"class_name": "Sequential", "config": {"name": "tiny", "layers": [
	 {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 2], "name": "x"}},
	 {"class_name": "Dense", "config": {"name": "logits", "units": 2, "activation": "linear"}},
	 {"class_name": "Softmax", "config": {"name": "probs"}}]}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	// Weights in Keras layout: the kernel is [in, out].
	m.Layer("logits").Weights = map[string]*keras.Tensor{
		"kernel": {Shape: []int{2, 2}, Data: []float32{1, 0, 0, 1}},
		"bias":   {Shape: []int{2}, Data: []float32{0, 0}},
	}
	outs, err := kerasref.Forward(m, [][]float32{{0, 1.0986123}}) // logits 0, ln 3
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.3f\n", outs[0])
	// Output: [0.250 0.750]
}
