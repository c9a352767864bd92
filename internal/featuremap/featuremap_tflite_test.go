package featuremap_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/featuremap"
	"github.com/fruitcam/fruitcam/internal/testdata"
	"github.com/fruitcam/fruitcam/internal/tfliteref"
)

// agreement is how far our feature maps are from the real TFLite's.
type agreement struct {
	tensors int
	// worstSteps is the largest difference of a quantised tensor in
	// quantisation steps; worstFloat the largest difference of a float
	// tensor relative to the largest magnitude in that tensor.
	worstSteps, worstFloat float64
	where                  string
	// nonzero counts elements that are not 0 in the reference, so that a
	// comparison of empty tensors cannot pass for agreement.
	nonzero int
}

// agreeWithTFLite runs e on img, then runs the same input through the
// model cut so that every chosen tensor is an output (Extractor.Cut: our
// WithOutputs and our .tflite writer) in the real TensorFlow Lite C
// library (tfliteref.RunCLI), and compares the dequantised values.
func agreeWithTFLite(t *testing.T, e *featuremap.Extractor, f *infer.File, imagePath string) agreement {
	t.Helper()
	crun, err := tfliteref.CRunPath()
	if err != nil {
		testdata.Missing(t, err)
	}
	return agreeWith(t, e, f, imagePath, func(model, input []byte) ([][]byte, error) {
		return tfliteref.RunCLI(context.Background(), crun, model, [][]byte{input}, 0)
	})
}

// agreeWith is agreeWithTFLite with the reference runtime as a function
// of the cut model and the input bytes, returning every output's bytes.
func agreeWith(t *testing.T, e *featuremap.Extractor, f *infer.File, imagePath string, run func(model, input []byte) ([][]byte, error)) agreement {
	t.Helper()
	img, err := preprocess.DecodeFile(imagePath)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := e.Run(img)
	if err != nil {
		t.Fatal(err)
	}
	cut, err := e.Cut()
	if err != nil {
		t.Fatal(err)
	}
	outs, err := run(cut, e.Input())
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != len(ours) {
		t.Fatalf("the cut model has %d outputs, want %d", len(outs), len(ours))
	}
	sg := &f.Model.Subgraphs[0]
	a := agreement{tensors: len(ours)}
	for k := range ours {
		m := &ours[k]
		q := sg.Tensors[m.Tensor].Quant
		ref := *m
		ref.Values = make([]float32, len(m.Values))
		if err := ref.Dequantize(outs[k], q); err != nil {
			t.Fatalf("reference: %v", err)
		}
		var worst, big float64
		for i, v := range m.Values {
			worst = max(worst, math.Abs(float64(v)-float64(ref.Values[i])))
			big = max(big, math.Abs(float64(ref.Values[i])))
			if ref.Values[i] != 0 {
				a.nonzero++
			}
		}
		if m.Type == tfl.Float32 {
			if r := worst / max(big, 1e-30); r > a.worstFloat {
				a.worstFloat, a.where = r, fmt.Sprintf("#%d %s", m.Tensor, m.Name)
			}
			continue
		}
		// Both sides dequantise with the same table, so the difference
		// is a whole number of steps up to float32 rounding.
		if s := math.Round(worst / float64(q.Scale[0])); s > a.worstSteps {
			a.worstSteps, a.where = s, fmt.Sprintf("#%d %s", m.Tensor, m.Name)
		}
	}
	return a
}

// TestAgreesWithTFLite is the proof of the feature maps: every layer of
// float, int8 and uint8 models, as our engine computes it, against the
// real TensorFlow Lite 2.9 C library running the model cut at those
// layers.
//
// Tolerances. Quantised tensors: none, the same bytes. The native 8-bit
// kernels follow TFLite's integer arithmetic (rounding included), so any
// step of difference is a kernel bug, not noise.
// Float tensors: 1e-4 of the tensor's largest magnitude. Both engines
// compute in float32 but sum convolutions in different orders (blocked
// GEMM against TFLite's), so results differ by a few ulps per
// accumulation, and these grow through the layers; 1e-4 is far above
// that and far below anything a picture with 256 grey levels shows.
func TestAgreesWithTFLite(t *testing.T) {
	for _, tt := range []struct {
		model, image, normalize string
		// every > 0 chooses every so many layers instead of all, so
		// that the unchosen activations share memory in the engine's
		// arena and only the pins keep the chosen ones intact.
		every int
	}{
		{"models/mlperf_tiny/pretrainedResnet.tflite", "images/fruits360/Test/Banana", "unit", 0},
		{"models/mlperf_tiny/pretrainedResnet.tflite", "images/fruits360/Test/Banana", "unit", 3},
		{"models/mlperf_tiny/pretrainedResnet_quant.tflite", "images/fruits360/Test/Cocos", "none", 0},
		{"models/coral/mobilenet_v2_1.0_224_quant.tflite", "images/fruits360/Test/Apricot", "", 0},
		{"models/coral/mobilenet_v2_1.0_224_quant.tflite", "images/fruits360/Test/Apricot", "", 7},
		{"models/mlperf_tiny/vww_96_int8.tflite", "images/fruits360/Test/Avocado", "", 0},
	} {
		t.Run(fmt.Sprintf("%s/every=%d", tt.model, tt.every), func(t *testing.T) {
			f, err := infer.ReadFile(testdata.Path(t, tt.model))
			if err != nil {
				t.Fatal(err)
			}
			opts := featuremap.Options{All: true, Normalize: tt.normalize}
			if tt.every > 0 {
				all, err := featuremap.Select(f.Model, nil, true)
				if err != nil {
					t.Fatal(err)
				}
				opts.All = false
				for i := 1; i < len(all); i += tt.every {
					opts.Layers = append(opts.Layers, strconv.Itoa(all[i]))
				}
			}
			e, err := featuremap.New(f, opts)
			if err != nil {
				t.Fatal(err)
			}
			a := agreeWithTFLite(t, e, f, firstImage(t, tt.image))
			t.Logf("%d tensors: worst %.3g steps (quantised), %.3g relative (float), at %s", a.tensors, a.worstSteps, a.worstFloat, a.where)
			if a.nonzero == 0 {
				t.Fatalf("every reference value is 0: nothing was compared")
			}
			if a.worstSteps > 0 || a.worstFloat > 1e-4 {
				t.Errorf("feature maps differ from TFLite's by %.3g steps / %.3g relative at %s", a.worstSteps, a.worstFloat, a.where)
			}
		})
	}
}

// TestFruitCNNAgreesWithTFLite is the same proof for the workshop's fruit
// CNN, float and int8, on one Fruits-360 Test image of each of three
// classes, with the tolerances explained at TestAgreesWithTFLite.
func TestFruitCNNAgreesWithTFLite(t *testing.T) {
	flt, q8 := fruitCNN(t)
	for _, f := range []*infer.File{flt, q8} {
		e, err := featuremap.New(f, featuremap.Options{All: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, class := range []string{"Banana", "Clementine", "Cocos"} {
			a := agreeWithTFLite(t, e, f, firstImage(t, "images/fruits360/Test/"+class))
			t.Logf("%s, %s: %d tensors: worst %.3g steps (quantised), %.3g relative (float), at %s",
				filepath.Base(f.Path), class, a.tensors, a.worstSteps, a.worstFloat, a.where)
			if a.nonzero == 0 {
				t.Fatalf("every reference value is 0: nothing was compared")
			}
			if a.worstSteps > 0 || a.worstFloat > 1e-4 {
				t.Errorf("%s, %s: feature maps differ from TFLite's by %.3g steps / %.3g relative at %s",
					filepath.Base(f.Path), class, a.worstSteps, a.worstFloat, a.where)
			}
		}
	}
}
