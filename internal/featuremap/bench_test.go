package featuremap_test

import (
	"bytes"
	"testing"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/internal/featuremap"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// BenchmarkFeatureMapsAll is `convert featuremaps --all` without the file
// reads: build the engine with every layer pinned, run one image, render
// every channel of every layer and encode the PNG. The bar is
// under one second for MobileNet v2 224.
func BenchmarkFeatureMapsAll(b *testing.B) {
	img, err := preprocess.DecodeFile(firstImage(b, "images/fruits360/Test/Banana"))
	if err != nil {
		b.Fatal(err)
	}
	mnv2, err := infer.ReadFile(testdata.Path(b, "models/coral/mobilenet_v2_1.0_224_quant.tflite"))
	if err != nil {
		b.Fatal(err)
	}
	flt, q8 := fruitCNN(b)
	for _, bb := range []struct {
		name string
		f    *infer.File
	}{{"mobilenet_v2_224_uint8", mnv2}, {"fruit_cnn_float", flt}, {"fruit_cnn_int8", q8}} {
		b.Run(bb.name, func(b *testing.B) {
			var buf bytes.Buffer
			var pixels int
			for b.Loop() {
				e, err := featuremap.New(bb.f, featuremap.Options{All: true})
				if err != nil {
					b.Fatal(err)
				}
				maps, err := e.Run(img)
				if err != nil {
					b.Fatal(err)
				}
				var r featuremap.Renderer
				pic, err := r.Render(maps, featuremap.Style{})
				if err != nil {
					b.Fatal(err)
				}
				buf.Reset()
				if err := featuremap.EncodePNG(&buf, pic); err != nil {
					b.Fatal(err)
				}
				pixels = len(pic.Pix)
			}
			b.ReportMetric(float64(pixels)/1e6, "Mpixels")
			b.ReportMetric(float64(buf.Len())/1e6, "MB_png")
		})
	}
}
