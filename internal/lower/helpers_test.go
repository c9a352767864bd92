package lower

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/testdata"
	"github.com/fruitcam/fruitcam/internal/tfliteref"
)

// batchOf stacks examples into one batch per model input: examples[k][i]
// is input i of example k.
func batchOf(examples [][][]float32) [][]float32 {
	out := make([][]float32, len(examples[0]))
	for _, ex := range examples {
		for i, x := range ex {
			out[i] = append(out[i], x...)
		}
	}
	return out
}

// runNative runs model bytes (parsed back, so the writer is part of what
// is tested) in our engine on a batch of n examples.
func runNative(t *testing.T, data []byte, inputs [][]float32, n int) [][]float32 {
	t.Helper()
	if len(inputs) > 1 && n > 1 {
		// The engine resizes one input at a time and re-prepares after
		// each, so inputs that meet (CONCATENATION) cannot change batch
		// together: run the examples one by one.
		var outs [][]float32
		for k := range n {
			var ex [][]float32
			for _, in := range inputs {
				per := len(in) / n
				ex = append(ex, in[k*per:(k+1)*per])
			}
			o := runNative(t, data, ex, 1)
			if outs == nil {
				outs = make([][]float32, len(o))
			}
			for i := range o {
				outs[i] = append(outs[i], o[i]...)
			}
		}
		return outs
	}
	m, err := tfl.Parse(data)
	if err != nil {
		t.Fatalf("parse lowered model: %v", err)
	}
	it, err := native.New(m, native.Options{Threads: 1})
	if err != nil {
		t.Fatalf("native engine refuses the model: %v", err)
	}
	for i, in := range it.Inputs() {
		if in.Shape[0] != n {
			shape := slices.Clone(in.Shape)
			shape[0] = n
			if err := it.ResizeInput(i, shape); err != nil {
				t.Fatalf("resize input %d to batch %d: %v", i, n, err)
			}
		}
	}
	for i, in := range it.Inputs() {
		dst := in.Float32s()
		if len(dst) != len(inputs[i]) {
			t.Fatalf("input %d %v takes %d values, got %d", i, in.Shape, len(dst), len(inputs[i]))
		}
		copy(dst, inputs[i])
	}
	if err := it.Invoke(); err != nil {
		t.Fatalf("native invoke: %v", err)
	}
	var outs [][]float32
	for _, o := range it.Outputs() {
		outs = append(outs, slices.Clone(o.Float32s()))
	}
	return outs
}

// crun is the real TensorFlow Lite runner, or the test is skipped (failed
// under CI) when it has not been built.
func crun(t *testing.T) string {
	t.Helper()
	p, err := tfliteref.CRunPath()
	if err != nil {
		testdata.Missing(t, err)
	}
	return p
}

// haveRef reports whether the real runtime is available. Without it the
// tests that also have another oracle (kerasref) go on without the
// runtime, except under CI=true, where a missing runner fails.
func haveRef(t *testing.T) bool {
	t.Helper()
	if _, err := tfliteref.CRunPath(); err != nil {
		if testdata.Required() {
			t.Fatal(err)
		}
		t.Logf("not checked against the TensorFlow Lite runtime: %v", err)
		return false
	}
	return true
}

// runRef runs model bytes in the real TensorFlow Lite 2.9 runtime on a
// batch of n examples.
func runRef(t *testing.T, data []byte, inputs [][]float32, n int) [][]float32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var raw [][]byte
	for _, in := range inputs {
		raw = append(raw, tfliteref.Float32Bytes(in))
	}
	outs, err := tfliteref.RunCLI(ctx, crun(t), data, raw, n)
	if err != nil {
		t.Fatalf("TensorFlow Lite runtime: %v", err)
	}
	var res [][]float32
	for _, o := range outs {
		res = append(res, tfliteref.BytesFloat32(o))
	}
	return res
}

// maxDiff is the largest |a-b| over all outputs; shapes must agree.
func maxDiff(t *testing.T, what string, a, b [][]float32) float64 {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d outputs vs %d", what, len(a), len(b))
	}
	d := 0.0
	for i := range a {
		if len(a[i]) != len(b[i]) {
			t.Fatalf("%s: output %d has %d values vs %d", what, i, len(a[i]), len(b[i]))
		}
		for k := range a[i] {
			x, y := float64(a[i][k]), float64(b[i][k])
			if math.IsNaN(x) || math.IsNaN(y) {
				t.Fatalf("%s: output %d holds NaN at %d", what, i, k)
			}
			d = max(d, math.Abs(x-y))
		}
	}
	return d
}

// maxAbs is the largest |v| over all outputs, the scale a tolerance is
// relative to.
func maxAbs(outs [][]float32) float64 {
	m := 0.0
	for _, o := range outs {
		for _, x := range o {
			m = max(m, math.Abs(float64(x)))
		}
	}
	return m
}

func randomFloats(r *rand.Rand, n int, lo, hi float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = lo + (hi-lo)*r.Float32()
	}
	return v
}

func mustWrite(t *testing.T, m *tfl.Model) []byte {
	t.Helper()
	data, err := tfl.Write(m)
	if err != nil {
		t.Fatalf("write lowered model: %v", err)
	}
	return data
}
