package main

import (
	"context"
	"image"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/dataset"
	"github.com/fruitcam/fruitcam/internal/inspect"
	"github.com/fruitcam/fruitcam/internal/keras"
	"github.com/fruitcam/fruitcam/internal/keras/kerastest"
	"github.com/fruitcam/fruitcam/internal/kerasref"
	"github.com/fruitcam/fruitcam/internal/testdata"
	"github.com/fruitcam/fruitcam/internal/tfliteref"
)

// TestFruitCNN converts the workshop's fruit CNN (a Keras 2 .h5 with its
// exact architecture and random weights) and checks the float model, run
// by our engine and by the real TFLite, against kerasref's independent
// forward pass of the Keras graph, image by image.
func TestFruitCNN(t *testing.T) {
	h5 := kerastest.FruitCNN(t)
	km, err := keras.ReadFile(h5)
	if err != nil {
		t.Fatal(err)
	}
	flt := filepath.Join(t.TempDir(), "fruits.tflite")
	// No --labels: the class folders of the calibration set name the
	// classes, as flow_from_directory does when the workshop trains.
	train := testdata.Path(t, "images/fruits360/Training")
	mustConvert(t, "keras", h5, "-o", flt, "--quiet")
	q := filepath.Join(t.TempDir(), "fruits_int8.tflite")
	mustConvert(t, "keras", h5, "-o", q, "--quantize", "int8", "--calibrate", train, "--quiet")

	f, err := infer.ReadFile(flt)
	if err != nil {
		t.Fatal(err)
	}
	qf, err := infer.ReadFile(q)
	if err != nil {
		t.Fatal(err)
	}
	if md, err := qf.Metadata(); err != nil || strings.Join(md.Labels, ",") != strings.Join(kerastest.FruitCNNLabels, ",") {
		t.Fatalf("int8 labels %v (%v), want %v", md, err, kerastest.FruitCNNLabels)
	}
	crun, err := tfliteref.CRunPath()
	if err != nil {
		testdata.Missing(t, err)
	}
	set, err := dataset.Scan(testdata.Path(t, "images/fruits360/Test"))
	if err != nil {
		t.Fatal(err)
	}
	set = set.Sample(30)
	spec := preprocess.Spec{Width: 20, Height: 20, Channels: 3} // unit, nearest: the workshop's
	pf, err := preprocess.New(spec, preprocess.Tensor{Type: tfl.Float32})
	if err != nil {
		t.Fatal(err)
	}
	it, err := native.New(f.Model, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	qc, err := qClassifier(qf)
	if err != nil {
		t.Fatal(err)
	}
	var inputs [][]byte
	var worst float64
	agree := 0
	for _, item := range set.Items {
		img, err := preprocess.DecodeFile(item.Path)
		if err != nil {
			t.Fatal(err)
		}
		in := make([]byte, pf.SlotBytes())
		if err := pf.Into(in, 0, img); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, in)
		ref, err := kerasref.Forward(km, [][]float32{tfliteref.BytesFloat32(in)})
		if err != nil {
			t.Fatal(err)
		}
		copy(it.Inputs()[0].Data, in)
		if err := it.Invoke(); err != nil {
			t.Fatal(err)
		}
		ours := it.Outputs()[0].Float32s()
		outs, err := tfliteref.RunCLI(context.Background(), crun, f.Data, [][]byte{in}, 0)
		if err != nil {
			t.Fatal(err)
		}
		theirs := tfliteref.BytesFloat32(outs[0])
		for k := range ref[0] {
			worst = max(worst, math.Abs(float64(ours[k]-ref[0][k])), math.Abs(float64(theirs[k]-ref[0][k])))
		}
		res, err := qc.Classify([]image.Image{img}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Top[0].Index == argmax32(ref[0]) {
			agree++
		}
	}
	t.Logf("fruit CNN float vs kerasref over %d images: max |Δp| %.3g (our engine and the real TFLite); int8 top-1 = Keras top-1 on %d/%d",
		len(set.Items), worst, agree, len(set.Items))
	if worst > 1e-5 {
		t.Errorf("float model differs from the Keras forward pass by %g", worst)
	}
	if agree < len(set.Items)*9/10 {
		t.Errorf("int8 top-1 matches Keras on only %d of %d images", agree, len(set.Items))
	}
}

func argmax32(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// qClassifier classifies with the int8 model the way the agent does:
// preprocessing and labels from its metadata.
func qClassifier(f *infer.File) (*infer.Classifier, error) {
	e, err := infer.NewEngine(f, infer.Options{})
	if err != nil {
		return nil, err
	}
	md, err := f.Metadata()
	if err != nil {
		return nil, err
	}
	return infer.NewClassifier(e, md, infer.ClassifierOptions{Graph: f.Model})
}

// TestFruitCNNEdgeTPU: with --edgetpu the workshop CNN's LeakyReLU becomes
// PRELU, and the int8 model is one the Edge TPU runs whole; without it
// the compiler would stop at LEAKY_RELU.
func TestFruitCNNEdgeTPU(t *testing.T) {
	h5 := kerastest.FruitCNN(t)
	train := testdata.Path(t, "images/fruits360/Training")
	dir := t.TempDir()
	for _, tt := range []struct {
		flags   []string
		verdict string
	}{
		{nil, inspect.Partial},
		{[]string{"--edgetpu"}, inspect.Compatible},
	} {
		q := filepath.Join(dir, "q.tflite")
		mustConvert(t, append([]string{"keras", h5, "-o", q, "--quantize", "int8", "--calibrate", train, "--calibrate-max", "16", "--quiet"}, tt.flags...)...)
		f, err := infer.ReadFile(q)
		if err != nil {
			t.Fatal(err)
		}
		if v := inspect.CheckEdgeTPU(f.Model); v.Verdict != tt.verdict {
			t.Errorf("%v: Edge TPU verdict %s (%s), want %s", tt.flags, v.Verdict, v.Summary, tt.verdict)
		}
		ours, theirs, _, _ := runBoth(t, q)
		for i := range ours {
			if d := int(ours[i]) - int(theirs[i]); d < -1 || d > 1 {
				t.Errorf("%v: output %d: ours %d, TFLite %d", tt.flags, i, ours[i], theirs[i])
			}
		}
	}
}
