package kerasref_test

import (
	"context"
	"fmt"
	"image"
	_ "image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/keras"
	"github.com/fruitcam/fruitcam/internal/kerasref"
	"github.com/fruitcam/fruitcam/internal/testdata"
	"github.com/fruitcam/fruitcam/internal/tfliteref"
)

// TestMatchesTensorFlow runs the real Keras models through Forward and their
// float twins, made by TensorFlow's own converter, through the real
// TensorFlow Lite runtime, on fruit photos and uniform noise. Agreement to
// 1e-4 on every output is what makes Forward usable as the converter's
// oracle: both sides compute in float32 (ours in float64 accumulation, so
// the difference is float32 rounding of the reference). Softmax squashes
// differences in confident outputs, so the logits feeding it are compared
// too, with the twin cut at the softmax input and the Keras head made
// linear.
func TestMatchesTensorFlow(t *testing.T) {
	crun, err := tfliteref.CRunPath()
	if err != nil {
		testdata.Missing(t, err)
	}
	images := []string{
		"images/fruits360/Test/Banana/102_100.jpg",
		"images/fruits360/Test/Kiwi/33_100.jpg",
		"images/fruits360/Test/Strawberry/325_100.jpg",
	}
	for _, tc := range []struct {
		keras, tflite string
		size          int
		scale         float32 // pixel value multiplier: the model's own preprocessing
	}{
		// vww_96 was trained on x/255, pretrainedResnet on raw 0..255 pixels.
		{"keras/mlperf_tiny/vww_96.h5", "models/mlperf_tiny/vww_96_float.tflite", 96, 1.0 / 255},
		{"keras/mlperf_tiny/pretrainedResnet.h5", "models/mlperf_tiny/pretrainedResnet.tflite", 32, 1},
	} {
		t.Run(tc.keras, func(t *testing.T) {
			m, err := keras.ReadFile(testdata.Path(t, tc.keras))
			if err != nil {
				t.Fatal(err)
			}
			twin, err := os.ReadFile(testdata.Path(t, tc.tflite))
			if err != nil {
				t.Fatal(err)
			}
			mLogits, twinLogits := logitModels(t, m, twin)
			var samples [][]float32
			var names []string
			for _, p := range images {
				samples = append(samples, loadImage(t, testdata.Path(t, p), tc.size, tc.scale))
				names = append(names, p)
			}
			rng := rand.New(rand.NewPCG(3, uint64(tc.size)))
			for k := range 2 {
				x := make([]float32, tc.size*tc.size*3)
				for i := range x {
					x[i] = 255 * tc.scale * rng.Float32()
				}
				samples = append(samples, x)
				names = append(names, fmt.Sprintf("noise %d", k))
			}
			worst := map[string]float64{}
			for s, x := range samples {
				for _, run := range []struct {
					what  string
					model *keras.Model
					twin  []byte
				}{{"output", m, twin}, {"logits", mLogits, twinLogits}} {
					start := time.Now()
					got, err := kerasref.Forward(run.model, [][]float32{x})
					if err != nil {
						t.Fatal(err)
					}
					took := time.Since(start)
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					raw, err := tfliteref.RunCLI(ctx, crun, run.twin, [][]byte{tfliteref.Float32Bytes(x)}, 0)
					cancel()
					if err != nil {
						t.Fatal(err)
					}
					if len(raw) != len(got) {
						t.Fatalf("%s %s: TFLite gave %d outputs, Forward %d", names[s], run.what, len(raw), len(got))
					}
					for o := range raw {
						want := tfliteref.BytesFloat32(raw[o])
						if len(want) != len(got[o]) {
							t.Fatalf("%s %s %d: TFLite gave %d values, Forward %d", names[s], run.what, o, len(want), len(got[o]))
						}
						diff := 0.0
						for i := range want {
							diff = max(diff, math.Abs(float64(got[o][i])-float64(want[i])))
						}
						worst[run.what] = max(worst[run.what], diff)
						t.Logf("%s %s %d: max abs diff %.3g (Forward %v in %v; TFLite %v)", names[s], run.what, o, diff, round(got[o]), took.Round(time.Millisecond), round(want))
						if diff > 1e-4 {
							t.Errorf("%s %s %d: max abs diff %g > 1e-4", names[s], run.what, o, diff)
						}
					}
				}
			}
			t.Logf("worst max abs diff over %d samples: outputs %.3g, logits %.3g", len(samples), worst["output"], worst["logits"])
		})
	}
}

// logitModels returns m with its softmax head made linear and the twin cut
// at the input of its final SOFTMAX.
func logitModels(t *testing.T, m *keras.Model, twin []byte) (*keras.Model, []byte) {
	t.Helper()
	if len(m.Outputs) != 1 {
		t.Fatalf("model has %d outputs, want 1", len(m.Outputs))
	}
	head := *m.Layer(m.Outputs[0])
	if head.Class != "Dense" || head.Activation != "softmax" {
		t.Fatalf("output layer %q is a %s with activation %q, want a Dense softmax head", head.Name, head.Class, head.Activation)
	}
	head.Activation = "linear"
	lm := *m
	lm.Layers = make([]*keras.Layer, len(m.Layers))
	for i, l := range m.Layers {
		lm.Layers[i] = l
		if l.Name == head.Name {
			lm.Layers[i] = &head
		}
	}
	tm, err := tfl.Parse(twin)
	if err != nil {
		t.Fatal(err)
	}
	sg := tm.Subgraphs[0]
	logits := -1
	for _, op := range sg.Operators {
		if tm.OperatorCodes[op.OpcodeIndex].Builtin == tfl.OpSoftmax && op.Outputs[0] == sg.Outputs[0] {
			logits = op.Inputs[0]
		}
	}
	if logits < 0 {
		t.Fatal("twin has no SOFTMAX producing its output")
	}
	cut, err := tm.WithOutputs(logits)
	if err != nil {
		t.Fatal(err)
	}
	data, err := tfl.Write(cut)
	if err != nil {
		t.Fatal(err)
	}
	return &lm, data
}

// loadImage decodes a photo, resizes it to size x size by nearest neighbour
// and returns RGB values times scale, HWC.
func loadImage(t *testing.T, path string, size int, scale float32) []float32 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	out := make([]float32, 0, size*size*3)
	for y := range size {
		for x := range size {
			r, g, bl, _ := img.At(b.Min.X+x*b.Dx()/size, b.Min.Y+y*b.Dy()/size).RGBA()
			out = append(out, float32(r>>8)*scale, float32(g>>8)*scale, float32(bl>>8)*scale)
		}
	}
	return out
}

// round shortens values for the log.
func round(v []float32) []float32 {
	out := make([]float32, len(v))
	for i, f := range v {
		out[i] = float32(math.Round(float64(f)*1e4) / 1e4)
	}
	return out
}
