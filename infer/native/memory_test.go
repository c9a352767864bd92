package native_test

import (
	"os"
	"runtime"
	"testing"

	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// footprint is what a model needs at the least: its constant tensors (the
// weights) and the largest set of activations alive at once when the
// operators run in order.
func footprint(m *tfl.Model) (weights, activations int) {
	sg := m.Subgraphs[0]
	first := make([]int, len(sg.Tensors))
	last := make([]int, len(sg.Tensors))
	for i := range first {
		first[i], last[i] = len(sg.Operators), -1
	}
	for _, i := range sg.Inputs {
		first[i] = -1
	}
	for k, op := range sg.Operators {
		for _, i := range op.Outputs {
			first[i] = min(first[i], k)
		}
		for _, i := range op.Inputs {
			if i >= 0 {
				last[i] = max(last[i], k)
			}
		}
	}
	for _, i := range sg.Outputs {
		last[i] = len(sg.Operators)
	}
	for i, t := range sg.Tensors {
		size := tfl.NumElements(t.Shape) * t.Type.Size()
		if len(m.Buffer(t.Buffer)) > 0 {
			weights += size
			first[i], last[i] = len(sg.Operators), -1 // not an activation
		}
	}
	for k := -1; k <= len(sg.Operators); k++ {
		live := 0
		for i, t := range sg.Tensors {
			if first[i] <= k && k <= last[i] {
				live += tfl.NumElements(t.Shape) * t.Type.Size()
			}
		}
		activations = max(activations, live)
	}
	return weights, activations
}

// TestMemoryFootprint: everything the native engine allocates to build and
// run MobileNet v2 (packed weights, the activation arena, kernel tables and
// scratch; measured as all bytes allocated, an upper bound on its peak)
// stays within 1.5 times the weights plus the largest live activations.
// The model file itself, which the caller holds, is not counted. Other
// models are logged: small ones carry fixed costs (channel padding, tables)
// that weigh more.
func TestMemoryFootprint(t *testing.T) {
	for _, tt := range []struct {
		name  string
		bound float64 // 0: logged only
	}{
		{"models/coral/mobilenet_v2_1.0_224_quant.tflite", 1.5},
		{"models/coral/tf2_mobilenet_v2_1.0_224_ptq.tflite", 0},
		{"models/coral/mobilenet_v1_0.25_128_quant.tflite", 0},
		{"models/mlperf_tiny/pretrainedResnet.tflite", 0},
	} {
		name := tt.name
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(testdata.Path(t, name))
			if err != nil {
				t.Fatal(err)
			}
			m, err := tfl.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			weights, acts := footprint(m)
			got, arena := allocatedBy(t, m)
			ratio := float64(got) / float64(weights+acts)
			t.Logf("weights %.2f MB + largest live activations %.2f MB; the engine allocated %.2f MB (arena %.2f MB): %.2f×",
				mb(weights), mb(acts), mb(got), mb(arena), ratio)
			if tt.bound > 0 && ratio > tt.bound {
				t.Errorf("the engine allocated %.2f× the weights and activations, want at most %.1f×", ratio, tt.bound)
			}
		})
	}
}

// allocatedBy builds an interpreter for m, runs it once, and returns the
// bytes allocated meanwhile and its arena size.
func allocatedBy(t *testing.T, m *tfl.Model) (allocated, arena int) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	it, err := native.New(m, native.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := it.Invoke(); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(it)
	return int(after.TotalAlloc - before.TotalAlloc), it.ArenaBytes()
}

func mb(n int) float64 { return float64(n) / (1 << 20) }
