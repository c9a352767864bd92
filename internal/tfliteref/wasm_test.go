package tfliteref

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// helloWorld is TFLite Micro's sine model (int8 in, int8 out) and an
// input of x = π/2, quantised with its input scale and zero point.
func helloWorld(t *testing.T) (path string, model, input []byte) {
	t.Helper()
	root := os.Getenv("FRUITCAM_TESTDATA")
	if root == "" {
		shared, err := SharedDir()
		if err != nil {
			t.Fatal(err)
		}
		root = filepath.Join(shared, "testdata")
	}
	path = filepath.Join(root, "models", "tflm", "hello_world_int8.tflite")
	model, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("test data: %v", err)
	}
	// Input scale 0.024480116, zero point -128: round(1.5708/0.02448)-128.
	return path, model, []byte{0xc0} // int8 -64
}

// dequantised reads the single int8 output with the model's output
// parameters (scale 0.008290957, zero point 5).
func dequantised(t *testing.T, r *Result) float64 {
	t.Helper()
	if len(r.Outputs) != 1 || len(r.Outputs[0].Data) != 1 || r.Outputs[0].Type != tfl.Int8 {
		t.Fatalf("outputs %+v, want one int8 scalar", r.Outputs)
	}
	return 0.008290957 * float64(int8(r.Outputs[0].Data[0])-5)
}

func TestWASMRun(t *testing.T) {
	w, err := FindWASM()
	if err != nil {
		t.Skip(err)
	}
	path, _, in := helloWorld(t)
	r, err := w.Run(context.Background(), path, [][]byte{in}, Options{Repeat: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := dequantised(t, r); math.Abs(got-1) > 0.1 {
		t.Errorf("sin(π/2) = %.3f, want about 1", got)
	}
	if len(r.Invoke) != 2 {
		t.Errorf("got %d timings, want 2", len(r.Invoke))
	}
	if !strings.Contains(r.Runtime, "wasm") {
		t.Errorf("runtime %q does not say wasm", r.Runtime)
	}
	_, err = w.Run(context.Background(), path, [][]byte{{1, 2}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "got 2 bytes") {
		t.Errorf("wrong input size: got error %v, want the oracle's size complaint", err)
	}
}
