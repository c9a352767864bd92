package kerastest_test

import (
	"image"
	_ "image/jpeg"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/fruitcam/fruitcam/internal/keras"
	"github.com/fruitcam/fruitcam/internal/keras/kerastest"
	"github.com/fruitcam/fruitcam/internal/kerasref"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// TestFruitCNNRead reads the fixture with the converter's reader and checks
// every layer against design.md section 8.
func TestFruitCNNRead(t *testing.T) {
	m, err := keras.ReadFile(kerastest.FruitCNN(t))
	if err != nil {
		t.Fatal(err)
	}
	type layer struct {
		name, class string
		weights     map[string][]int
	}
	want := []layer{
		{"conv2d_input", "InputLayer", nil},
		{"conv2d", "Conv2D", map[string][]int{"kernel": {3, 3, 3, 32}, "bias": {32}}},
		{"activation", "Activation", nil},
		{"conv2d_1", "Conv2D", map[string][]int{"kernel": {3, 3, 32, 16}, "bias": {16}}},
		{"leaky_re_lu", "LeakyReLU", nil},
		{"batch_normalization", "BatchNormalization", map[string][]int{
			"gamma": {16}, "beta": {16}, "moving_mean": {16}, "moving_variance": {16}}},
		{"max_pooling2d", "MaxPooling2D", nil},
		{"dropout", "Dropout", nil},
		{"flatten", "Flatten", nil},
		{"dense", "Dense", map[string][]int{"kernel": {1600, 512}, "bias": {512}}},
		{"dropout_1", "Dropout", nil},
		{"dense_1", "Dense", map[string][]int{"kernel": {512, 16}, "bias": {16}}},
	}
	if len(m.Layers) != len(want) {
		t.Fatalf("got %d layers, want %d", len(m.Layers), len(want))
	}
	for i, l := range m.Layers {
		w := want[i]
		if l.Name != w.name || l.Class != w.class {
			t.Errorf("layer %d: got %s %s, want %s %s", i, l.Name, l.Class, w.name, w.class)
		}
		if len(l.Weights) != len(w.weights) {
			t.Errorf("%s: got %d weights, want %d", l.Name, len(l.Weights), len(w.weights))
		}
		for name, shape := range w.weights {
			got := l.Weights[name]
			if got == nil || !slices.Equal(got.Shape, shape) {
				t.Errorf("%s/%s: got %v, want shape %v", l.Name, name, got, shape)
			}
		}
	}
	if !slices.Equal(m.Inputs, []string{"conv2d_input"}) || !slices.Equal(m.Outputs, []string{"dense_1"}) {
		t.Errorf("inputs %v outputs %v, want [conv2d_input] [dense_1]", m.Inputs, m.Outputs)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"keras version", m.KerasVersion, "2.4.0"},
		{"input shape", m.Layer("conv2d_input").Shape, []int{-1, 20, 20, 3}},
		{"conv2d filters", m.Layer("conv2d").Filters, 32},
		{"conv2d kernel", m.Layer("conv2d").KernelSize, [2]int{3, 3}},
		{"conv2d padding", m.Layer("conv2d").Padding, "same"},
		{"conv2d activation", m.Layer("conv2d").Activation, "linear"},
		{"activation", m.Layer("activation").Activation, "relu"},
		{"conv2d_1 filters", m.Layer("conv2d_1").Filters, 16},
		{"conv2d_1 padding", m.Layer("conv2d_1").Padding, "same"},
		{"leaky alpha", m.Layer("leaky_re_lu").Alpha, 0.5},
		{"bn axis", m.Layer("batch_normalization").Axis, []int{3}},
		{"bn epsilon", m.Layer("batch_normalization").Epsilon, 0.001},
		{"pool size", m.Layer("max_pooling2d").PoolSize, [2]int{2, 2}},
		{"pool strides", m.Layer("max_pooling2d").Strides, [2]int{2, 2}},
		{"dense units", m.Layer("dense").Units, 512},
		{"dense activation", m.Layer("dense").Activation, "relu"},
		{"head units", m.Layer("dense_1").Units, 16},
		{"head activation", m.Layer("dense_1").Activation, "softmax"},
	}
	for _, c := range checks {
		if !equal(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
	for _, v := range m.Layer("batch_normalization").Weights["moving_variance"].Data {
		if v <= 0 {
			t.Errorf("moving_variance holds %g, want positive values", v)
		}
	}
}

func equal(a, b any) bool {
	switch x := a.(type) {
	case []int:
		return slices.Equal(x, b.([]int))
	default:
		return a == b
	}
}

// TestFruitCNNForward runs the fixture through the reference forward pass
// on a photo and on flat grey: 16 probabilities summing to 1, none of them
// taking (nearly) everything, so a converter that breaks a layer shows.
func TestFruitCNNForward(t *testing.T) {
	m, err := keras.ReadFile(kerastest.FruitCNN(t))
	if err != nil {
		t.Fatal(err)
	}
	grey := slices.Repeat([]float32{0.5}, 20*20*3)
	inputs := map[string][]float32{
		"banana photo": photo(t, testdata.Path(t, "images/fruits360/Test/Banana/102_100.jpg")),
		"grey":         grey,
	}
	outs := map[string][]float32{}
	for name, x := range inputs {
		got, err := kerasref.Forward(m, [][]float32{x})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || len(got[0]) != len(kerastest.FruitCNNLabels) {
			t.Fatalf("%s: got outputs %v, want one of %d values", name, got, len(kerastest.FruitCNNLabels))
		}
		p := got[0]
		sum, top := 0.0, 0
		for i, v := range p {
			if !(v > 0 && v < 1) {
				t.Errorf("%s: probability %d is %g", name, i, v)
			}
			sum += float64(v)
			if v > p[top] {
				top = i
			}
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("%s: probabilities sum to %g", name, sum)
		}
		if p[top] > 0.9 {
			t.Errorf("%s: top probability %g: the softmax is saturated, the fixture's weights are too large", name, p[top])
		}
		t.Logf("%s: top %s %.3f, probabilities %v", name, kerastest.FruitCNNLabels[top], p[top], p)
		outs[name] = p
	}
	if slices.Equal(outs["banana photo"], outs["grey"]) {
		t.Error("the photo and grey give the same output: the input does not reach the head")
	}
}

// TestFruitCNNLabels checks the labels are the sorted class folders of the
// fruit data set, which is how Keras numbered the classes in training.
func TestFruitCNNLabels(t *testing.T) {
	entries, err := os.ReadDir(testdata.Path(t, "images/fruits360/Training"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	slices.Sort(dirs)
	if !slices.Equal(kerastest.FruitCNNLabels, dirs) {
		t.Errorf("labels %v, want the class folders %v", kerastest.FruitCNNLabels, dirs)
	}
}

// photo loads a JPEG as the workshop feeds it: nearest resize to 20x20,
// RGB/255.
func photo(t *testing.T, path string) []float32 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	out := make([]float32, 0, 20*20*3)
	for y := range 20 {
		for x := range 20 {
			r, g, bl, _ := img.At(b.Min.X+x*b.Dx()/20, b.Min.Y+y*b.Dy()/20).RGBA()
			out = append(out, float32(r>>8)/255, float32(g>>8)/255, float32(bl>>8)/255)
		}
	}
	return out
}
