//go:build tfliteref

package conformance

import (
	"context"
	"flag"
	"path/filepath"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/tfliteref"
)

var update = flag.Bool("update", false, "TestGenerateGoldens: rewrite testdata/*.json from the real TFLite runtimes")

// reference runs one input through both real runtimes.
type reference struct {
	wasm *tfliteref.WASM
}

func (r reference) c(model []byte, in Input) (*tfliteref.Result, error) {
	return tfliteref.RunC(model, in.Data, tfliteref.Options{Threads: 1})
}

func (r reference) wasmRun(path string, in Input) (*tfliteref.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return r.wasm.Run(ctx, path, in.Data, tfliteref.Options{Threads: 1})
}

// TestGenerateGoldens writes the golden files from the real runtimes:
//
//	make ref   # once: fetch the runtimes into .tflite-ref
//	REF=$PWD/.tflite-ref CGO_ENABLED=1 CGO_CFLAGS=-I$REF/c/include \
//	CGO_LDFLAGS="-L$REF/c/linux_amd64 -Wl,-rpath,$REF/c/linux_amd64" \
//	go test -tags tfliteref ./infer/conformance -run TestGenerateGoldens -update
func TestGenerateGoldens(t *testing.T) {
	if !*update {
		t.Skip("pass -update to rewrite the golden files")
	}
	root := testdataRoot(t)
	w, err := tfliteref.FindWASM()
	if err != nil {
		t.Fatal(err)
	}
	ref := reference{wasm: w}
	for _, c := range Cases {
		t.Run(c.Name(), func(t *testing.T) {
			path := filepath.Join(root, c.Model)
			f, data, m := readModel(t, path)
			inputs, err := c.MakeInputs(root, m)
			if err != nil {
				t.Fatal(err)
			}
			g := &Golden{Model: c.Model, ModelSHA256: f, Runtimes: map[string]string{}}
			for _, in := range inputs {
				cr, err := ref.c(data, in)
				if err != nil {
					t.Fatal(err)
				}
				wr, err := ref.wasmRun(path, in)
				if err != nil {
					t.Fatal(err)
				}
				g.Runtimes["c"] = cr.Runtime + ", default kernels, 1 thread"
				g.Runtimes["wasm"] = wr.Runtime + ", XNNPACK, 1 thread"
				if g.Outputs == nil {
					for _, o := range cr.Outputs {
						g.Outputs = append(g.Outputs, TensorDesc{Name: o.Name, Type: o.Type.String(), Shape: o.Shape, Scale: o.Scale, ZeroPoint: o.ZeroPoint})
					}
				}
				if len(wr.Outputs) != len(cr.Outputs) {
					t.Fatalf("wasm has %d outputs, C %d", len(wr.Outputs), len(cr.Outputs))
				}
				g.Inputs = append(g.Inputs, GoldenInput{Name: in.Name, Source: in.Source, SHA256: in.SHA256(),
					C: cr.OutputBytes(), WASM: wr.OutputBytes()})
			}
			if err := WriteGolden(c, g); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s (%d inputs)", GoldenPath(c), len(g.Inputs))
		})
	}
}

func readModel(t *testing.T, path string) (sha string, data []byte, m *tfl.Model) {
	t.Helper()
	fx, err := infer.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fx.SHA256, fx.Data, fx.Model
}

// TestLive runs the real runtimes now, checks that they still produce the
// golden outputs, and compares the native engine with both (make
// conformance). WASM is skipped with a note when node is missing.
func TestLive(t *testing.T) {
	root := testdataRoot(t)
	w, werr := tfliteref.FindWASM()
	if werr != nil {
		t.Logf("WASM runtime not run: %v", werr)
	}
	t.Logf("C library: TensorFlow Lite %s", tfliteref.CVersion())
	var rows []row
	for _, c := range Cases {
		t.Run(c.Name(), func(t *testing.T) {
			fx := loadFixture(t, root, c)
			path := filepath.Join(root, c.Model)
			for k, in := range fx.inputs {
				cr, err := tfliteref.RunC(fx.file.Data, in.Data, tfliteref.Options{Threads: 1})
				if err != nil {
					t.Fatal(err)
				}
				if !equalOutputs([][][]byte{cr.OutputBytes()}, [][][]byte{fx.golden.Inputs[k].C}) {
					t.Errorf("input %d (%s): the C library's output is not the golden one: regenerate the goldens (doc.go) and find out why", k, in.Name)
				}
				if w == nil {
					continue
				}
				wr, err := w.Run(context.Background(), path, in.Data, tfliteref.Options{Threads: 1})
				if err != nil {
					t.Fatal(err)
				}
				if !equalOutputs([][][]byte{wr.OutputBytes()}, [][][]byte{fx.golden.Inputs[k].WASM}) {
					t.Errorf("input %d (%s): the WASM runtime's output is not the golden one", k, in.Name)
				}
			}
			r := checkCase(t, fx, false)
			rows = append(rows, r)
			if r.err == "" && !r.vsC.OK() {
				bisect(t, fx, worstInput(fx))
			}
		})
	}
	printTable(t, rows)
}

// worstInput is the input whose native outputs are furthest from the C
// library's golden ones.
func worstInput(fx *fixture) Input {
	got, err := runNative(fx.file, fx.inputs, 1, 1)
	if err != nil {
		return fx.inputs[0]
	}
	best, worst := 0, -1.0
	for k, in := range fx.golden.Inputs {
		for o, desc := range fx.golden.Outputs {
			typ, _ := desc.TensorType()
			d, _ := Compare(typ, desc.Shape, got[k][o], in.C[o])
			if v := d.MaxRel + float64(d.MaxSteps); v > worst {
				best, worst = k, v
			}
		}
	}
	return fx.inputs[best]
}
