//go:build tfliteref && cgo

package tfliteref

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunC(t *testing.T) {
	_, model, in := helloWorld(t)
	r, err := RunC(model, [][]byte{in}, Options{Repeat: 3, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := dequantised(t, r); math.Abs(got-1) > 0.1 {
		t.Errorf("sin(π/2) = %.3f, want about 1", got)
	}
	if len(r.Invoke) != 3 {
		t.Errorf("got %d timings, want 3", len(r.Invoke))
	}
	if got, want := r.Outputs[0].Scale, float32(0.008290957); got != want {
		t.Errorf("output scale %g, want %g", got, want)
	}
	if !strings.HasPrefix(CVersion(), "2.9") {
		t.Errorf("C library version %q, want 2.9.x", CVersion())
	}
}

func TestRunCBatch(t *testing.T) {
	_, model, in := helloWorld(t)
	r, err := RunC(model, [][]byte{append(append([]byte{}, in...), in...)}, Options{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	if d := r.Outputs[0].Data; len(d) != 2 || d[0] != d[1] {
		t.Errorf("batch of two equal inputs gave %v, want two equal outputs", d)
	}
}

func TestRunCErrors(t *testing.T) {
	path, model, _ := helloWorld(t)
	custom, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(path)), "coral", "model_invoking_error.tflite"))
	if err != nil {
		t.Skip(err)
	}
	tests := []struct {
		name   string
		model  []byte
		inputs [][]byte
		want   string
	}{
		{"input size", model, [][]byte{{1, 2}}, "needs 1 bytes, got 2"},
		{"input count", model, nil, "model has 1 inputs, got 0"},
		{"custom op", custom, [][]byte{{1, 2, 3}}, "unresolved custom op: fake-op-double"},
		{"not a model", []byte("hello, world"), [][]byte{{0}}, "TfLiteModelCreate refused the model"},
		{"empty", nil, nil, "empty model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RunC(tt.model, tt.inputs, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
