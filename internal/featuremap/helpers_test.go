package featuremap_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/dataset"
	"github.com/fruitcam/fruitcam/internal/keras"
	"github.com/fruitcam/fruitcam/internal/keras/kerastest"
	"github.com/fruitcam/fruitcam/internal/lower"
	"github.com/fruitcam/fruitcam/internal/testdata"
	"github.com/fruitcam/fruitcam/quant/ptq"
)

// firstImage returns the first file, by name, of a test-data folder.
func firstImage(t testing.TB, dir string) string {
	t.Helper()
	d := testdata.Path(t, dir)
	entries, err := os.ReadDir(d)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		t.Fatalf("%s holds no image", d)
	}
	slices.Sort(names)
	return filepath.Join(d, names[0])
}

// fruitCNN returns the workshop's fruit CNN (kerastest.FruitCNN: its exact
// architecture, random weights) lowered to float32, and the same model
// quantised to int8 on 20 Fruits-360 Training images, both with unit
// normalisation metadata, as `convert keras [--quantize int8]` makes them.
func fruitCNN(tb testing.TB) (flt, q8 *infer.File) {
	tb.Helper()
	km, err := keras.ReadFile(kerastest.FruitCNN(tb))
	if err != nil {
		tb.Fatal(err)
	}
	res, err := lower.Lower(km, lower.Options{Description: "fruit CNN"})
	if err != nil {
		tb.Fatal(err)
	}
	md := &infer.Metadata{Schema: 1, Normalize: "unit", Labels: kerastest.FruitCNNLabels}
	if err := infer.SetMetadata(res.Model, md); err != nil {
		tb.Fatal(err)
	}
	set, err := dataset.Scan(testdata.Path(tb, "images/fruits360/Training"))
	if err != nil {
		tb.Fatal(err)
	}
	pre, err := preprocess.New(preprocess.Spec{Width: 20, Height: 20, Channels: 3}, preprocess.Tensor{Type: tfl.Float32})
	if err != nil {
		tb.Fatal(err)
	}
	cal, err := ptq.NewCalibrator(res.Model, ptq.Options{InputRange: &[2]float64{0, 1}})
	if err != nil {
		tb.Fatal(err)
	}
	for _, item := range set.Sample(20).Items {
		img, err := preprocess.DecodeFile(item.Path)
		if err != nil {
			tb.Fatal(err)
		}
		in := make([]byte, pre.SlotBytes())
		if err := pre.Into(in, 0, img); err != nil {
			tb.Fatal(err)
		}
		if err := cal.Add(in); err != nil {
			tb.Fatal(err)
		}
	}
	qm, err := cal.Quantize()
	if err != nil {
		tb.Fatal(err)
	}
	if err := infer.SetMetadata(qm, md); err != nil {
		tb.Fatal(err)
	}
	return reparse(tb, res.Model, "fruits.tflite"), reparse(tb, qm, "fruits_int8.tflite")
}

// reparse writes m and reads it back, so that tests run the file a user
// would have rather than the in-memory graph.
func reparse(tb testing.TB, m *tfl.Model, name string) *infer.File {
	tb.Helper()
	data, err := tfl.Write(m)
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	f, err := infer.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}
