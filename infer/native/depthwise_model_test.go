package native

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// BenchmarkModelOps times, per operator type, all the operators of that
// type in a few real models on the activations of one real invocation,
// and (op "all") a whole invocation. Models given by an absolute path
// (the generated fruit CNN, see .ci/bench.sh) are skipped when absent.
func BenchmarkModelOps(b *testing.B) {
	for _, mt := range []struct {
		rel     string
		threads int
	}{
		{"coral/mobilenet_v2_1.0_224_quant.tflite", 1},
		{"coral/mobilenet_v2_1.0_224_quant.tflite", 2},
		{"mlperf_tiny/pretrainedResnet.tflite", 1},
		{"mlperf_tiny/pretrainedResnet_quant.tflite", 1},
		{"mlperf_tiny/vww_96_int8.tflite", 1},
		{"/tmp/fruitcnn_float.tflite", 1},
		{"/tmp/fruitcnn_int8.tflite", 1},
	} {
		rel := mt.rel
		var it *Interpreter
		if filepath.IsAbs(rel) {
			if _, err := os.Stat(rel); err != nil {
				continue
			}
			it = loadModelFile(b, rel, mt.threads)
		} else {
			it = loadModelThreads(b, "models/"+rel, mt.threads)
		}
		byOp := map[string][]kernel{}
		var names []string
		for i, n := range it.nodes {
			name := n.code.Name()
			if byOp[name] == nil {
				names = append(names, name)
			}
			byOp[name] = append(byOp[name], it.kernels[i])
		}
		sort.Strings(names)
		model := strings.TrimSuffix(filepath.Base(rel), ".tflite")
		b.Run(fmt.Sprintf("%s/threads=%d/all", model, mt.threads), func(b *testing.B) {
			for b.Loop() {
				if err := it.Invoke(); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, name := range names {
			b.Run(fmt.Sprintf("%s/threads=%d/%s", model, mt.threads, name), func(b *testing.B) {
				for b.Loop() {
					for _, k := range byOp[name] {
						k.eval()
					}
				}
			})
		}
	}
}

// loadModel builds a one-thread interpreter for the test model rel and
// runs it once on a fixed input.
func loadModel(tb testing.TB, rel string) *Interpreter {
	tb.Helper()
	return loadModelThreads(tb, rel, 1)
}

// loadModelThreads is loadModel with threads threads.
func loadModelThreads(tb testing.TB, rel string, threads int) *Interpreter {
	tb.Helper()
	return loadModelFile(tb, testdata.Path(tb, rel), threads)
}

// loadModelFile is loadModelThreads for a model file outside the test data.
func loadModelFile(tb testing.TB, path string, threads int) *Interpreter {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := tfl.Parse(data)
	if err != nil {
		tb.Fatal(err)
	}
	it, err := New(m, Options{Threads: threads})
	if err != nil {
		tb.Fatal(err)
	}
	fillInputs(it)
	if err := it.Invoke(); err != nil {
		tb.Fatal(err)
	}
	return it
}

// fillInputs sets every input to a fixed pattern.
func fillInputs(it *Interpreter) {
	for _, x := range it.Inputs() {
		if x.Type == tfl.Float32 {
			for i := range x.Float32s() {
				x.Float32s()[i] = float32(i%255) / 255
			}
			continue
		}
		for i := range x.Data {
			x.Data[i] = byte(i * 7)
		}
	}
}

// TestMobileNetV2InvokeDoesNotAllocate: one-thread invocations of a whole
// real model allocate nothing.
func TestMobileNetV2InvokeDoesNotAllocate(t *testing.T) {
	it := loadModel(t, "models/coral/mobilenet_v2_1.0_224_quant.tflite")
	if got := testing.AllocsPerRun(3, func() { _ = it.Invoke() }); got != 0 {
		t.Errorf("Invoke allocates %v times", got)
	}
}

// TestSmallModelsInvokeDoNotAllocate: one-thread invocations of the small
// models (table lookups, column gathering, one-row GEMMs) allocate nothing
// either.
func TestSmallModelsInvokeDoNotAllocate(t *testing.T) {
	for _, rel := range []string{"mlperf_tiny/pretrainedResnet.tflite", "mlperf_tiny/pretrainedResnet_quant.tflite", "mlperf_tiny/vww_96_int8.tflite"} {
		it := loadModel(t, "models/"+rel)
		if got := testing.AllocsPerRun(3, func() { _ = it.Invoke() }); got != 0 {
			t.Errorf("%s: Invoke allocates %v times", rel, got)
		}
	}
}
