package tfl_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// Bounds that keep one fuzz execution short: a mutated shape can ask for
// gigabytes that a real model never would.
const (
	fuzzMaxActivationBytes = 16 << 20 // skip native.New above this
	fuzzMaxInvokeArena     = 2 << 20  // skip Invoke above this
	// fuzzMaxSeedBytes leaves the MobileNets (0.5-4 MB) out of the seed
	// corpus: the fuzzer minimises every new interesting input, and on a
	// multi-megabyte one that stalls it for its whole minimisation budget.
	// The small real models use the same tables, quantisation and
	// operators; the big ones are parsed and run by infer/conformance.
	fuzzMaxSeedBytes = 128 << 10
)

// FuzzModel feeds arbitrary bytes to the reader and, when they parse, to
// the native interpreter: neither may panic, and a model that builds must
// survive one Invoke on zero inputs. Seeds are the real models of the test
// data (read at test time, not copied) plus small hand-made files.
//
//	go test ./infer/tfl -run '^$' -fuzz FuzzModel -fuzztime 60s
func FuzzModel(f *testing.F) {
	capMinimizeTime("5s")
	for _, s := range handMadeSeeds() {
		f.Add(s)
	}
	for _, path := range realModels(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := tfl.Parse(data)
		if err != nil {
			var fe *tfl.FormatError
			var ue *tfl.UnsupportedError
			if !errors.As(err, &fe) && !errors.As(err, &ue) && !errors.Is(err, tfl.ErrNotTFLite) {
				t.Fatalf("Parse error %q (%T) is neither FormatError, UnsupportedError nor ErrNotTFLite", err, err)
			}
			if !strings.Contains(err.Error(), "tflite: ") {
				t.Fatalf("Parse error %q does not say it comes from the tflite reader", err)
			}
			return
		}
		if activationBytes(m) > fuzzMaxActivationBytes {
			return
		}
		it, err := native.New(m, native.Options{})
		if err != nil {
			return
		}
		if it.ArenaBytes() > fuzzMaxInvokeArena {
			return
		}
		if err := it.Invoke(); err != nil {
			t.Logf("invoke: %v", err)
		}
	})
}

// activationBytes is the size of every tensor without constant data, an
// upper bound of what the interpreter allocates at load.
func activationBytes(m *tfl.Model) int64 {
	var n int64
	for _, sg := range m.Subgraphs {
		for _, t := range sg.Tensors {
			if len(m.Buffer(t.Buffer)) > 0 {
				continue
			}
			n += int64(tfl.NumElements(t.Shape)) * int64(max(t.Type.Size(), 1))
		}
	}
	return n
}

// handMadeSeeds are small inputs the mutator can grow from: empty and
// near-empty files, the identifier without a body, offsets pointing
// outside the file, and a root table whose vtable is cut short.
func handMadeSeeds() [][]byte {
	return [][]byte{
		nil,
		[]byte("TFL3"),
		[]byte("\x08\x00\x00\x00TFL3"),
		[]byte("\xff\xff\xff\x7fTFL3\x00\x00\x00\x00"),
		[]byte("\x0c\x00\x00\x00TFL3\x04\x00\x08\x00\x04\x00\x00\x00\x03\x00\x00\x00"),
		[]byte("\x0c\x00\x00\x00TFL3\x06\x00\x08\x00\x04\x00\x04\x00\x00\x00\x03\x00\x00\x00"),
		[]byte("\x89HDF\r\n\x1a\n"),
		[]byte("\xff\xd8\xff\xe0"),
	}
}

// realModels lists the .tflite files of at most fuzzMaxSeedBytes under $FRUITCAM_TESTDATA/models
// (default ../shared/testdata beside the module root); none when the test
// data is absent, so the fuzz target still runs on the hand-made seeds.
func realModels(f *testing.F) []string {
	root, _ := testdata.Dir()
	var out []string
	filepath.WalkDir(filepath.Join(root, "models"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".tflite") {
			return nil
		}
		if fi, err := d.Info(); err == nil && fi.Size() <= fuzzMaxSeedBytes {
			out = append(out, p)
		}
		return nil
	})
	if len(out) == 0 {
		f.Logf("no real models under %s: fuzzing from hand-made seeds only", root)
	}
	return out
}

// capMinimizeTime lowers -test.fuzzminimizetime unless the caller set it.
// The fuzzer minimises every new interesting input by re-running it with
// bytes removed; on inputs the size of a model its default 60 s budget
// stalls a one-minute fuzz run for most of its time.
func capMinimizeTime(d string) {
	set := false
	flag.Visit(func(fl *flag.Flag) { set = set || fl.Name == "test.fuzzminimizetime" })
	if fl := flag.Lookup("test.fuzzminimizetime"); fl != nil && !set {
		fl.Value.Set(d)
	}
}
