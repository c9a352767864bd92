package lime_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/internal/lime"
	"github.com/fruitcam/fruitcam/internal/testdata"
	"github.com/fruitcam/fruitcam/internal/testmodels"
)

// BenchmarkLIME is one explanation with lime's defaults (1000 samples,
// mean hiding, all superpixels in the model) of a Fruits-360 image, on
// one engine of one thread per core: MobileNet v2 1.0 224 (uint8,
// ImageNet labels from the sidecar file) and the workshop's fruit CNN
// (int8, 20×20, converted and calibrated as `convert keras --quantize
// int8` does). An op is one explanation; s/op is its wall time. Goals on
// the 2-core development machine: MobileNet v2 under 15 s, fruit CNN
// under 1 s.
func BenchmarkLIME(b *testing.B) {
	img, err := preprocess.DecodeFile(testdata.Path(b, "images/fruits360/Test/Banana/102_100.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	models := []struct {
		name   string
		file   func(b *testing.B) string
		labels string
	}{
		{"mobilenet_v2", func(b *testing.B) string { return testdata.Path(b, "models/coral/mobilenet_v2_1.0_224_quant.tflite") }, "models/coral/imagenet_labels.txt"},
		{"fruit_cnn", fruitCNN, ""},
	}
	for _, m := range models {
		b.Run("model="+m.name, func(b *testing.B) {
			f, err := infer.ReadFile(m.file(b))
			if err != nil {
				b.Fatal(err)
			}
			var opts infer.ClassifierOptions
			if m.labels != "" {
				if opts.Labels, err = infer.ReadLabels(testdata.Path(b, m.labels)); err != nil {
					b.Fatal(err)
				}
			}
			cls, closeAll, err := lime.NativeClassifiers(f, runtime.NumCPU(), opts)
			if err != nil {
				b.Fatal(err)
			}
			defer closeAll()
			var e *lime.Explanation
			for b.Loop() {
				if e, err = lime.Explain(context.Background(), cls, img, lime.Options{Seed: 1}); err != nil {
					b.Fatal(err)
				}
			}
			c := e.Classes[0]
			b.ReportMetric(float64(e.NumSegments), "superpixels")
			b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/explanation")
			b.Logf("%s: %q %.3f, %d superpixels, %d workers, R² %.3f, last %.2f s", m.name, c.Label, c.Score, e.NumSegments, len(cls), c.R2, e.Elapsed.Seconds())
		})
	}
}

// fruitCNN writes the workshop's fruit CNN in int8 (testmodels.FruitCNN)
// and returns its path.
func fruitCNN(b *testing.B) string {
	_, q := testmodels.FruitCNN(b)
	return testmodels.Write(b, q, "fruit_cnn_int8.tflite")
}
