package infer_test

import (
	"fmt"
	"testing"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// BenchmarkNative runs whole real models on the native backend. `make
// bench` sets these figures beside the real TFLite runtimes.
func BenchmarkNative(b *testing.B) {
	models := []string{
		"models/coral/mobilenet_v2_1.0_224_quant.tflite",
		"models/coral/mobilenet_v1_0.25_128_quant.tflite",
		"models/mlperf_tiny/pretrainedResnet_quant.tflite",
	}
	for _, rel := range models {
		path := testdata.Path(b, rel)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", rel[len("models/"):], threads), func(b *testing.B) {
				f, err := infer.ReadFile(path)
				if err != nil {
					b.Fatal(err)
				}
				e, err := infer.NewEngine(f, infer.Options{Threads: threads})
				if err != nil {
					b.Fatal(err)
				}
				in := e.Input(0)
				for i := range in {
					in[i] = byte(i * 7)
				}
				b.ReportAllocs()
				for b.Loop() {
					if err := e.Invoke(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
