package inspect

import (
	"encoding/json"
	"io"
	"os"
	"testing"

	"github.com/fruitcam/fruitcam/internal/testdata"
)

// FuzzInspect feeds arbitrary bytes to Inspect: a model from the network
// is untrusted input, so every file either errors or gives a report that
// prints and encodes without panicking (the Edge TPU rules read constant
// buffers as axes and paddings).
func FuzzInspect(f *testing.F) {
	for _, rel := range []string{"models/go-tflite/xor_model.tflite", "models/tflm/hello_world_int8.tflite", "models/mlperf_tiny/kws_ref_model.tflite"} {
		p, err := testdata.Lookup(rel)
		if err != nil {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("TFL3"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Inspect(data)
		if err != nil {
			return
		}
		if err := WriteText(io.Discard, r); err != nil {
			t.Fatal(err)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatal(err)
		}
	})
}
