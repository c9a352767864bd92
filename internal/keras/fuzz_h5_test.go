package keras

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/internal/testdata"
)

// FuzzReadH5 feeds mutated model files through ReadFileIsolated, the way
// cmd/convert reads untrusted files: every input must give a Model or an
// error naming the file, and the fuzzer itself must never crash, whatever
// the HDF5 library does in the child. A child that fails without running
// out of memory, time or stack means a panic in this package (the
// library's own panics are recovered by ReadFile), and fails the target.
// Inputs the child read into a Model are read again in-process, for
// coverage.
//
// Each input costs a child process (~10 ms for small files), so expect
// ~50-150 execs/s:
//
//	go test -run '^$' -fuzz '^FuzzReadH5$' -fuzztime 60s -fuzzminimizetime 5s ./internal/keras
func FuzzReadH5(f *testing.F) {
	for _, file := range []string{"keras/go-tflite/xor_model.h5", "keras/mlperf_tiny/pretrainedResnet.h5", "keras/mlperf_tiny/vww_96.h5"} {
		if p, err := testdata.Lookup(file); err == nil {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	if p, err := testdata.Lookup("keras/go-tflite/xor_model.h5"); err == nil {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		// Small synthetic variants of the smallest real file: cut short,
		// with an unsupported class, with a heap claiming ~1 TiB.
		f.Add(src[:len(src)/2])
		f.Add(src[:1024])
		f.Add(bytes.Replace(src, []byte(`"class_name": "Dense"`), []byte(`"class_name": "Densx"`), 1))
		f.Add(hugeHeap(f))
		f.Add(zipOf(f, map[string][]byte{"config.json": []byte(keras3Config), "model.weights.h5": src}))
	}
	f.Add([]byte("\x89HDF\r\n\x1a\n"))
	f.Add([]byte("PK\x03\x04"))
	f.Add(zipOf(f, map[string][]byte{"config.json": []byte(keras3Config)}))

	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		tmp, err := os.CreateTemp(dir, "fuzz-*.h5")
		if err != nil {
			t.Fatal(err)
		}
		p := tmp.Name()
		defer os.Remove(p)
		_, err = tmp.Write(data)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		// Far shorter than the default limit (a real read takes well under
		// a second), so that a hang shows up as an error rather than a
		// stalled fuzzer that misses its own deadline.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		m, err := ReadFileIsolated(ctx, p)
		switch {
		case err == nil && m == nil:
			t.Fatal("got neither a model nor an error")
		case err != nil && m != nil:
			t.Fatalf("got a model and the error %v", err)
		case err != nil && !strings.Contains(err.Error(), p):
			t.Fatalf("error %q does not name the file", err)
		case err != nil && (strings.Contains(err.Error(), "the reader process crashed") || strings.Contains(err.Error(), "no valid reply")):
			t.Fatalf("the reader child crashed: %v", err)
		case err == nil && len(m.Layers) == 0:
			t.Fatal("got a model without layers")
		}
		if err != nil {
			return
		}
		// The child read this file within its limits, so reading it here
		// too is safe, and it is what gives the fuzzer coverage of the
		// reader: the child's coverage counters die with it. The results
		// are not compared: scigolib/hdf5 reuses pooled buffers without
		// clearing them and accepts short reads at the end of the file, so
		// in a process that has read other files a truncated structure can
		// parse differently (a 48-byte file's root group address comes
		// from the previous file's superblock).
		if _, err := ReadFile(p); err != nil {
			t.Logf("in-process read: %v", err)
		}
	})
}

// zipOf returns a zip archive holding files.
func zipOf(tb testing.TB, files map[string][]byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"config.json", "model.weights.h5"} {
		if b, ok := files[name]; ok {
			w, err := zw.Create(name)
			if err != nil {
				tb.Fatal(err)
			}
			if _, err := w.Write(b); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
