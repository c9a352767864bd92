package lower

import (
	"fmt"
	"github.com/fruitcam/fruitcam/internal/tfliteref"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/keras"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// fruitImages returns up to n fruits360 test images, one per class in
// sorted class order, preprocessed for a float input of shape [1, h, w, 3].
func fruitImages(t *testing.T, n, h, w int, norm preprocess.Normalize) [][]float32 {
	t.Helper()
	root := testdata.Path(t, "images/fruits360/Test")
	classes, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := preprocess.ShapeSpec([]int{1, h, w, 3})
	if err != nil {
		t.Fatal(err)
	}
	spec.Normalize = norm
	p, err := preprocess.New(spec, preprocess.Tensor{Type: tfl.Float32})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]float32
	for _, c := range classes {
		if len(out) == n {
			break
		}
		files, _ := filepath.Glob(filepath.Join(root, c.Name(), "*.jpg"))
		if len(files) == 0 {
			continue
		}
		slices.Sort(files)
		img, err := preprocess.DecodeFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, p.SlotBytes())
		if err := p.Into(buf, 0, img); err != nil {
			t.Fatal(err)
		}
		out = append(out, tfliteref.BytesFloat32(buf))
	}
	if len(out) == 0 {
		t.Fatal("no fruits360 images")
	}
	return out
}

// TestMatchesTensorFlowConverter is the converter's acceptance test: our
// float lowering of the MLPerf Tiny Keras models computes what TensorFlow's
// own converter produced from the same files, on real images and random
// inputs, in our engine and in the real TensorFlow Lite runtime.
func TestMatchesTensorFlowConverter(t *testing.T) {
	cases := []struct {
		keras, tflite string
		norm          preprocess.Normalize
		hi            float32 // random inputs are uniform in [0, hi)
	}{
		{"keras/mlperf_tiny/vww_96.h5", "models/mlperf_tiny/vww_96_float.tflite", preprocess.Unit, 1},
		{"keras/mlperf_tiny/pretrainedResnet.h5", "models/mlperf_tiny/pretrainedResnet.tflite", preprocess.None, 255},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.keras), func(t *testing.T) {
			km, err := keras.ReadFile(testdata.Path(t, c.keras))
			if err != nil {
				t.Fatal(err)
			}
			theirs, err := os.ReadFile(testdata.Path(t, c.tflite))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res, err := Lower(km, Options{Description: "test: " + filepath.Base(c.keras)})
			if err != nil {
				t.Fatal(err)
			}
			elapsed := time.Since(start)
			ours := mustWrite(t, res.Model)
			t.Logf("Lower took %v (%d operators, %d notes)", elapsed, len(res.Model.Subgraphs[0].Operators), len(res.Notes))
			if elapsed > time.Second {
				t.Errorf("Lower took %v, want well under a second", elapsed)
			}
			if res.InputNormalize != "" {
				t.Errorf("InputNormalize = %q, want \"\" (the model has no Rescaling layer)", res.InputNormalize)
			}
			// The same graph as TensorFlow's: operator for operator, with
			// the same versions and fused activations.
			tm, err := tfl.Parse(theirs)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := opSummary(res.Model), opSummary(tm); !slices.Equal(a, b) {
				t.Errorf("operators differ from TensorFlow's:\nours   %v\ntheirs %v", a, b)
			}
			in := res.Model.Subgraphs[0].Tensors[res.Model.Subgraphs[0].Inputs[0]]
			h, w := in.Shape[1], in.Shape[2]
			examples := fruitImages(t, 6, h, w, c.norm)
			r := rand.New(rand.NewPCG(1, 2))
			for range 4 {
				examples = append(examples, randomFloats(r, h*w*3, 0, c.hi))
			}
			n := len(examples)
			batch := batchOf(func() [][][]float32 {
				var ex [][][]float32
				for _, e := range examples {
					ex = append(ex, [][]float32{e})
				}
				return ex
			}())

			// Softmax outputs near 0 or 1 hide differences, so the
			// logits before the final SOFTMAX are compared too.
			oursLogits, theirsLogits := logits(t, ours), logits(t, theirs)
			la, lb := runRef(t, oursLogits, batch, n), runRef(t, theirsLogits, batch, n)
			lscale := max(maxAbs(lb), 1)
			ldiff := maxDiff(t, "logits", la, lb)
			t.Logf("TFLite runtime: ours vs TensorFlow's logits: max |diff| %.3g (logit scale %.3g, relative %.3g)", ldiff, lscale, ldiff/lscale)
			if ldiff > 1e-4*lscale {
				t.Errorf("logits differ by %g, more than 1e-4 of their scale %g", ldiff, lscale)
			}
			ln := runNative(t, oursLogits, batch, n)
			if d := maxDiff(t, "logits", ln, la); d > 1e-4*lscale {
				t.Errorf("our logits: our engine vs TFLite runtime differ by %g", d)
			}

			oursNative := runNative(t, ours, batch, n)
			theirsNative := runNative(t, theirs, batch, n)
			oursRef := runRef(t, ours, batch, n)
			theirsRef := runRef(t, theirs, batch, n)
			scale := max(maxAbs(theirsRef), 1)
			const tol = 1e-4
			for _, d := range []struct {
				what string
				a, b [][]float32
			}{
				{"our engine: ours vs TensorFlow's", oursNative, theirsNative},
				{"TFLite runtime: ours vs TensorFlow's", oursRef, theirsRef},
				{"ours: our engine vs TFLite runtime", oursNative, oursRef},
			} {
				diff := maxDiff(t, d.what, d.a, d.b)
				t.Logf("%s: max |diff| %.3g over %d inputs (%d images, %d random; output scale %.3g)", d.what, diff, n, n-4, 4, scale)
				if diff > tol*scale {
					t.Errorf("%s: max |diff| %g > %g", d.what, diff, tol*scale)
				}
			}
		})
	}
}

// TestMatchesTensorFlowXor checks the go-tflite XOR model on its whole
// truth table.
func TestMatchesTensorFlowXor(t *testing.T) {
	km, err := keras.ReadFile(testdata.Path(t, "keras/go-tflite/xor_model.h5"))
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := os.ReadFile(testdata.Path(t, "models/go-tflite/xor_model.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Lower(km, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ours := mustWrite(t, res.Model)
	in := res.Model.Subgraphs[0].Tensors[res.Model.Subgraphs[0].Inputs[0]]
	if !slices.Equal(in.Shape, []int{1, 2}) || !slices.Equal(in.ShapeSignature, []int{-1, 2}) {
		t.Errorf("input shape %v signature %v, want [1 2] and [-1 2]", in.Shape, in.ShapeSignature)
	}
	table := [][]float32{{0, 0}, {0, 1}, {1, 0}, {1, 1}}
	oursNative := runNative(t, ours, [][]float32{slices.Concat(table...)}, 4)
	oursRef := runRef(t, ours, [][]float32{slices.Concat(table...)}, 4)
	// TensorFlow's twin has a fixed batch of 1 (TOCO wrote no shape
	// signature), so it runs one row at a time.
	var theirsRef, theirsNative []float32
	for _, row := range table {
		theirsRef = append(theirsRef, runRef(t, theirs, [][]float32{row}, 0)[0]...)
		theirsNative = append(theirsNative, runNative(t, theirs, [][]float32{row}, 1)[0]...)
	}
	const tol = 1e-5
	for _, d := range []struct {
		what string
		a, b [][]float32
	}{
		{"TFLite runtime: ours vs TensorFlow's", oursRef, [][]float32{theirsRef}},
		{"our engine: ours vs TensorFlow's", oursNative, [][]float32{theirsNative}},
		{"ours: our engine vs TFLite runtime", oursNative, oursRef},
	} {
		diff := maxDiff(t, d.what, d.a, d.b)
		t.Logf("%s: max |diff| %.3g on the 4 xor inputs (outputs %v)", d.what, diff, d.a[0])
		if diff > tol {
			t.Errorf("%s: max |diff| %g > %g", d.what, diff, tol)
		}
	}
}

// logits cuts a classifier whose output comes from SOFTMAX so that it
// outputs the softmax input instead.
func logits(t *testing.T, data []byte) []byte {
	t.Helper()
	m, err := tfl.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	sg := &m.Subgraphs[0]
	out := sg.Outputs[0]
	for _, op := range sg.Operators {
		if slices.Contains(op.Outputs, out) {
			if m.OperatorCodes[op.OpcodeIndex].Builtin != tfl.OpSoftmax {
				t.Fatalf("output %q is not computed by SOFTMAX", sg.Tensors[out].Name)
			}
			cut, err := m.WithOutputs(op.Inputs[0])
			if err != nil {
				t.Fatal(err)
			}
			return mustWrite(t, cut)
		}
	}
	t.Fatal("no operator computes the output")
	return nil
}

// opSummary lists each operator as "NAME vN ACT" (fused activation or -).
func opSummary(m *tfl.Model) []string {
	var out []string
	for _, op := range m.Subgraphs[0].Operators {
		c := m.OperatorCodes[op.OpcodeIndex]
		act := "-"
		switch o := op.Options.(type) {
		case *tfl.Conv2DOptions:
			act = o.Activation.String()
		case *tfl.DepthwiseConv2DOptions:
			act = o.Activation.String()
		case *tfl.FullyConnectedOptions:
			act = o.Activation.String()
		case *tfl.ActivationOptions:
			act = o.Activation.String()
		}
		out = append(out, fmt.Sprintf("%s v%d %s", c.Builtin, c.Version, act))
	}
	return out
}

// TestKerasVersion checks that the version hard_sigmoid depends on is
// read from real files (root attribute keras_version).
func TestKerasVersion(t *testing.T) {
	for file, want := range map[string]int{
		"keras/go-tflite/xor_model.h5": 2, // "2.2.4-tf"
		"keras/mlperf_tiny/vww_96.h5":  2, // "2.4.0"
	} {
		m, err := keras.ReadFile(testdata.Path(t, file))
		if err != nil {
			t.Fatal(err)
		}
		if got := kerasMajor(m.KerasVersion); got != want {
			t.Errorf("%s: Keras version %q (major %d), want major %d", file, m.KerasVersion, got, want)
		}
	}
}
