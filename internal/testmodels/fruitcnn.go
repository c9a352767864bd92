package testmodels

import (
	"os"
	"path/filepath"
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

// CalibrationImages is how many Fruits-360 training images calibrate the
// int8 fruit CNN.
const CalibrationImages = 32

// FruitCNN returns the workshop's fruit CNN (kerastest.FruitCNN: its exact
// architecture with seeded random weights) lowered to float32, and the
// same model quantised to int8 on CalibrationImages Fruits-360 training
// images, as `convert keras [--quantize int8]` makes them; both carry the
// metadata the converter writes: name, labels, unit normalisation,
// nearest resize (the workshop's training).
func FruitCNN(tb testing.TB) (float, int8 *tfl.Model) {
	tb.Helper()
	check := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	km, err := keras.ReadFile(kerastest.FruitCNN(tb))
	check(err)
	res, err := lower.Lower(km, lower.Options{Description: "fruit CNN"})
	check(err)
	md := &infer.Metadata{
		Schema: infer.MetadataSchema, Name: "fruit_cnn", Labels: kerastest.FruitCNNLabels,
		Normalize: string(preprocess.Unit), Resize: string(preprocess.Nearest),
	}
	check(infer.SetMetadata(res.Model, md))
	sg := &res.Model.Subgraphs[0]
	spec, err := preprocess.ShapeSpec(sg.Tensors[sg.Inputs[0]].Shape)
	check(err)
	spec.Normalize, spec.Resize = preprocess.Unit, preprocess.Nearest
	pre, err := preprocess.New(spec, preprocess.Tensor{Type: tfl.Float32})
	check(err)
	cal, err := ptq.NewCalibrator(res.Model, ptq.Options{InputRange: &[2]float64{0, 1}})
	check(err)
	set, err := dataset.Scan(testdata.Path(tb, "images/fruits360/Training"))
	check(err)
	in := make([]byte, pre.SlotBytes())
	for _, it := range set.Sample(CalibrationImages).Items {
		img, err := preprocess.DecodeFile(it.Path)
		check(err)
		check(pre.Into(in, 0, img))
		check(cal.Add(in))
	}
	q, err := cal.Quantize()
	check(err)
	check(infer.SetMetadata(q, md))
	return res.Model, q
}

// Write writes m as name in a temporary directory of tb and returns the
// path: tests then run the file a user would have, not the graph in
// memory.
func Write(tb testing.TB, m *tfl.Model, name string) string {
	tb.Helper()
	data, err := tfl.Write(m)
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}
