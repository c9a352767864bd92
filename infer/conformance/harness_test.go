package conformance

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// fixture is one case made ready to run: model, golden file and the
// regenerated inputs, checked against the golden's hashes.
type fixture struct {
	c      Case
	file   *infer.File
	golden *Golden
	inputs []Input
}

// testdataRoot returns the test data root or ends the test: skipped on a
// developer machine without it, failed under CI=true.
func testdataRoot(t *testing.T) string {
	t.Helper()
	return testdata.Root(t)
}

// loadFixture reads c's model and golden file and regenerates its inputs.
func loadFixture(t *testing.T, root string, c Case) *fixture {
	t.Helper()
	path := filepath.Join(root, c.Model)
	if _, err := os.Stat(path); err != nil {
		testdata.Missing(t, err)
	}
	f, err := infer.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := ReadGolden(c)
	if err != nil {
		t.Fatalf("%v (regenerate: see doc.go)", err)
	}
	if g.ModelSHA256 != f.SHA256 {
		t.Fatalf("model %s has sha256 %s, golden file was made from %s: regenerate the goldens", c.Model, f.SHA256, g.ModelSHA256)
	}
	inputs, err := c.MakeInputs(root, f.Model)
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) != len(g.Inputs) {
		t.Fatalf("case has %d inputs, golden file %d: regenerate the goldens", len(inputs), len(g.Inputs))
	}
	for i, in := range inputs {
		if got, want := in.SHA256(), g.Inputs[i].SHA256; got != want {
			t.Fatalf("input %d (%s) has sha256 %s, golden was made from %s: the input generator changed, regenerate the goldens", i, in.Name, got, want)
		}
	}
	return &fixture{c: c, file: f, golden: g, inputs: inputs}
}

// runNative runs inputs through the native engine and returns, per input,
// the bytes of every output. batch > 1 runs all inputs in one invocation
// (batch must equal len(inputs)).
func runNative(f *infer.File, inputs []Input, threads, batch int) ([][][]byte, error) {
	e, err := infer.NewEngine(f, infer.Options{Backend: infer.BackendNative, Threads: threads})
	if err != nil {
		return nil, err
	}
	defer e.Close()
	out := make([][][]byte, len(inputs))
	if batch <= 1 {
		for k, in := range inputs {
			if err := fill(e, in.Data); err != nil {
				return nil, err
			}
			if err := e.Invoke(); err != nil {
				return nil, err
			}
			for o := range e.Outputs() {
				out[k] = append(out[k], bytes.Clone(e.Output(o)))
			}
		}
		return out, nil
	}
	if batch != len(inputs) {
		return nil, fmt.Errorf("batch %d for %d inputs", batch, len(inputs))
	}
	if err := e.SetBatch(batch); err != nil {
		return nil, err
	}
	joined := make([][]byte, len(inputs[0].Data))
	for _, in := range inputs {
		for i, d := range in.Data {
			joined[i] = append(joined[i], d...)
		}
	}
	if err := fill(e, joined); err != nil {
		return nil, err
	}
	if err := e.Invoke(); err != nil {
		return nil, err
	}
	for o := range e.Outputs() {
		b := e.Output(o)
		if len(b)%batch != 0 {
			return nil, fmt.Errorf("output %d has %d bytes at batch %d", o, len(b), batch)
		}
		n := len(b) / batch
		for k := range inputs {
			out[k] = append(out[k], bytes.Clone(b[k*n:(k+1)*n]))
		}
	}
	return out, nil
}

func fill(e infer.Engine, data [][]byte) error {
	if len(data) != len(e.Inputs()) {
		return fmt.Errorf("%d input tensors given, model has %d", len(data), len(e.Inputs()))
	}
	for i, d := range data {
		dst := e.Input(i)
		if len(dst) != len(d) {
			return fmt.Errorf("input %d (%s) needs %d bytes, have %d", i, e.Inputs()[i], len(dst), len(d))
		}
		copy(dst, d)
	}
	return nil
}

// compareAll compares outputs (per input, per tensor) with a reference in
// the golden file.
func compareAll(g *Golden, got [][][]byte, ref func(GoldenInput) [][]byte) (Diff, error) {
	var total Diff
	for k, in := range g.Inputs {
		want := ref(in)
		if want == nil {
			continue
		}
		if len(got[k]) != len(g.Outputs) {
			return total, fmt.Errorf("input %d: %d outputs, golden has %d", k, len(got[k]), len(g.Outputs))
		}
		for o, desc := range g.Outputs {
			typ, err := desc.TensorType()
			if err != nil {
				return total, err
			}
			d, err := Compare(typ, desc.Shape, got[k][o], want[o])
			if err != nil {
				return total, fmt.Errorf("input %d (%s) output %d: %w", k, in.Name, o, err)
			}
			total.Add(d)
		}
	}
	return total, nil
}

func refC(in GoldenInput) [][]byte    { return in.C }
func refWASM(in GoldenInput) [][]byte { return in.WASM }

// row is one line of the per-model table.
type row struct {
	model    string
	inputs   int
	vsC, vsW Diff
	haveW    bool
	cVsW     Diff
	batch    string // "identical", "refused: …", "-"
	err      string
}

func printTable(t *testing.T, rows []row) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-36s %6s %8s %8s %7s %-8s %-10s %s\n", "model", "inputs", "max|Δ|C", "max|Δ|W", "top1=C", "C↔W", "batch/2t", "histogram vs C | vs WASM")
	for _, r := range rows {
		if r.err != "" {
			fmt.Fprintf(&b, "%-36s %6d %8s %8s %7s %-8s FAIL: %s\n", r.model, r.inputs, "-", "-", "-", r.cVsW.Max(), r.err)
			continue
		}
		w := "-"
		if r.haveW {
			w = r.vsW.Max()
		}
		fmt.Fprintf(&b, "%-36s %6d %8s %8s %3d/%-3d %-8s %-10s %s | %s\n", r.model, r.inputs, r.vsC.Max(), w,
			r.vsC.Top1, r.vsC.Rows, r.cVsW.Max(), r.batch, r.vsC.Histogram(), r.vsW.Histogram())
	}
	b.WriteString("max|Δ|: quantisation steps for integer outputs, relative error for float outputs; C↔W: the two references' own difference\n")
	t.Log(b.String())
}

// checkCase runs the native engine on a fixture and checks it against the
// C library's outputs in the golden file; the row reports everything.
func checkCase(t *testing.T, fx *fixture, short bool) row {
	t.Helper()
	r := row{model: fx.c.Name(), inputs: len(fx.inputs), batch: "-"}
	inputs, golden := fx.inputs, *fx.golden
	if short {
		inputs, golden.Inputs = inputs[:1], golden.Inputs[:1]
		r.inputs = 1
	}
	var err error
	if r.cVsW, err = compareAll(&golden, refs(golden, refC), refWASM); err != nil {
		t.Fatal(err)
	}
	got, err := runNative(fx.file, inputs, 1, 1)
	if err != nil {
		r.err = strings.TrimPrefix(err.Error(), "infer: load "+fx.file.Path+": ")
		t.Error(err)
		return r
	}
	if r.vsC, err = compareAll(&golden, got, refC); err != nil {
		t.Fatal(err)
	}
	if r.vsW, err = compareAll(&golden, got, refWASM); err != nil {
		t.Fatal(err)
	}
	r.haveW = r.vsW.Elements > 0
	t.Logf("vs C:    max %s, top-1 %d/%d, histogram %s", r.vsC.Max(), r.vsC.Top1, r.vsC.Rows, r.vsC.Histogram())
	t.Logf("vs WASM: max %s, top-1 %d/%d, histogram %s", r.vsW.Max(), r.vsW.Top1, r.vsW.Rows, r.vsW.Histogram())
	if !r.vsC.OK() {
		if r.vsC.Float {
			t.Errorf("float outputs: max relative error %.3g, want <= %g; top-1 %d/%d", r.vsC.MaxRel, MaxRelErr, r.vsC.Top1, r.vsC.Rows)
		} else {
			t.Errorf("quantised outputs: max |Δ| %d steps, want <= %d; top-1 %d/%d", r.vsC.MaxSteps, MaxSteps, r.vsC.Top1, r.vsC.Rows)
		}
		for k, in := range golden.Inputs {
			var one Diff
			for o, desc := range golden.Outputs {
				typ, _ := desc.TensorType()
				d, _ := Compare(typ, desc.Shape, got[k][o], in.C[o])
				one.Add(d)
			}
			if !one.OK() {
				t.Logf("  input %d %s: max %s top-1 %d/%d", k, in.Name, one.Max(), one.Top1, one.Rows)
			}
		}
	}
	if short {
		return r
	}
	r.batch = checkBatchThreads(t, fx, got)
	return r
}

// checkBatchThreads runs all inputs as one batch with two threads, and the
// first input alone with two threads; both must reproduce the batch-1,
// one-thread outputs exactly: batching and threading split work, they must
// not change arithmetic.
func checkBatchThreads(t *testing.T, fx *fixture, want [][][]byte) string {
	t.Helper()
	two, err := runNative(fx.file, fx.inputs[:1], 2, 1)
	if err != nil {
		t.Errorf("threads=2: %v", err)
		return "2t error"
	}
	status := "identical"
	if !equalOutputs(two, want[:1]) {
		t.Errorf("threads=2 batch 1: outputs differ from threads=1")
		status = "2t differs"
	}
	n := len(fx.inputs)
	got, err := runNative(fx.file, fx.inputs, 2, n)
	if err != nil {
		// Models whose graph bakes in the batch (a RESHAPE to a fixed
		// [1, N] the engine cannot relax) are allowed to refuse.
		t.Logf("batch %d refused: %v", n, err)
		return "no batch"
	}
	if !equalOutputs(got, want) {
		for k := range want {
			if !equalOutputs(got[k:k+1], want[k:k+1]) {
				t.Errorf("batch %d threads=2: input %d (%s) differs from batch 1", n, k, fx.inputs[k].Name)
			}
		}
		return "batch differs"
	}
	return status
}

func equalOutputs(a, b [][][]byte) bool {
	return slices.EqualFunc(a, b, func(x, y [][]byte) bool { return slices.EqualFunc(x, y, bytes.Equal) })
}

func refs(g Golden, ref func(GoldenInput) [][]byte) [][][]byte {
	out := make([][][]byte, len(g.Inputs))
	for k, in := range g.Inputs {
		out[k] = ref(in)
	}
	return out
}
