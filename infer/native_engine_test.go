package infer

import (
	"bytes"
	"testing"

	"github.com/fruitcam/fruitcam/internal/testdata"
)

// TestNativeBatch: a batch gives each image exactly what it gives alone,
// whether the engine runs it image by image (MobileNet) or as one batch
// (an all-dense model), and batch sizes that come and go allocate nothing
// once the largest has been seen.
func TestNativeBatch(t *testing.T) {
	for _, tt := range []struct {
		model    string
		perImage bool
	}{
		{"models/coral/mobilenet_v1_0.25_128_quant.tflite", true},
		{"models/go-tflite/fizzbuzz_model.tflite", false},
	} {
		t.Run(tt.model, func(t *testing.T) {
			f, err := ReadFile(testdata.Path(t, tt.model))
			if err != nil {
				t.Fatal(err)
			}
			if got := !batchPays(f.Model); got != tt.perImage {
				t.Fatalf("per image %v, want %v", got, tt.perImage)
			}
			e, err := NewNative(f.Model, 1)
			if err != nil {
				t.Fatal(err)
			}
			one := len(e.Input(0))
			images := make([][]byte, 4)
			alone := make([][]byte, 4)
			for b := range images {
				images[b] = make([]byte, one)
				for i := range images[b] {
					images[b][i] = byte(i*31 + b*97)
				}
				copy(e.Input(0), images[b])
				if err := e.Invoke(); err != nil {
					t.Fatal(err)
				}
				alone[b] = bytes.Clone(e.Output(0))
			}
			for _, n := range []int{4, 2, 3} {
				if err := e.SetBatch(n); err != nil {
					t.Fatal(err)
				}
				if got := e.Inputs()[0].Shape[0]; got != n {
					t.Fatalf("batch %d: input shape %v", n, e.Inputs()[0].Shape)
				}
				in := e.Input(0)
				if len(in) != n*one {
					t.Fatalf("batch %d: input of %d bytes, want %d", n, len(in), n*one)
				}
				for b := range n {
					copy(in[b*one:], images[b])
				}
				if err := e.Invoke(); err != nil {
					t.Fatal(err)
				}
				out, size := e.Output(0), len(alone[0])
				for b := range n {
					if !bytes.Equal(out[b*size:(b+1)*size], alone[b]) {
						t.Errorf("batch %d, image %d differs from its run alone", n, b)
					}
				}
			}
			if tt.perImage {
				if a := testing.AllocsPerRun(5, func() {
					e.SetBatch(1)
					e.Invoke()
					e.SetBatch(4)
					e.Invoke()
				}); a != 0 {
					t.Errorf("%v allocations per change of batch size", a)
				}
			}
		})
	}
}
