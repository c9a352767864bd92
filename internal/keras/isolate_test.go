package keras

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/internal/testdata"
)

// TestReadFileIsolatedMatchesReadFile checks that the child's reply
// round-trips the whole Model, raw configs included: callers must not be
// able to tell the two readers apart.
func TestReadFileIsolatedMatchesReadFile(t *testing.T) {
	files := map[string]string{}
	for _, f := range []string{"keras/go-tflite/xor_model.h5", "keras/mlperf_tiny/pretrainedResnet.h5", "keras/mlperf_tiny/vww_96.h5"} {
		files[f] = testdata.Path(t, f)
	}
	for name, path := range files {
		t.Run(name, func(t *testing.T) {
			want, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			got, err := ReadFileIsolated(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("isolated read: %v", time.Since(start))
			if !reflect.DeepEqual(got, want) {
				for i := range want.Layers {
					if i < len(got.Layers) && !reflect.DeepEqual(got.Layers[i], want.Layers[i]) {
						t.Fatalf("layer %d: got %+v, want %+v", i, got.Layers[i], want.Layers[i])
					}
				}
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
}

// TestReadFileIsolatedKeras3 checks the Keras 3 .h5 and .keras paths (h5py
// writes the fixtures).
func TestReadFileIsolatedKeras3(t *testing.T) {
	dir := t.TempDir()
	h5 := filepath.Join(dir, "k3.h5")
	writeFixture(t, h5, "h5", keras3Config)
	weights := filepath.Join(dir, "model.weights.h5")
	writeFixture(t, weights, "vars", "")
	wb, err := os.ReadFile(weights)
	if err != nil {
		t.Fatal(err)
	}
	zp := filepath.Join(dir, "k3.keras")
	writeZip(t, zp, map[string][]byte{"config.json": []byte(keras3Config), "model.weights.h5": wb})
	for _, path := range []string{h5, zp} {
		got, err := ReadFileIsolated(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		checkFixtureModel(t, got)
		want, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: isolated and in-process reads differ", path)
		}
	}
}

// localHeapSizeOffset is where xor_model.h5 stores the data-segment size of
// its root group's local heap: the heap's "HEAP" signature is at 0x2a8, then
// version (1 byte), 3 reserved bytes, and the size as 8 bytes little-endian
// (88). Found by setting each byte of the file to 0xff in turn and reading it
// in a child under a 1 GiB RLIMIT_AS: this is one of the ~1300 single-byte
// changes that crash the Go runtime. With byte 4 of the size set to 0xff the
// size reads 0xff00000058 (~1 TiB), which scigolib/hdf5 v0.14.0 allocates
// before comparing it with the file's 22 KB, and ReadFile in-process dies
// with "fatal error: runtime: out of memory" even with no limit at all.
const localHeapSizeOffset = 0x2b0

func xorModel(t testing.TB) []byte {
	t.Helper()
	src, err := os.ReadFile(testdata.Path(t, "keras/go-tflite/xor_model.h5"))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// hugeHeap returns xor_model.h5 with its local heap claiming ~1 TiB.
func hugeHeap(t testing.TB) []byte {
	t.Helper()
	b := xorModel(t)
	if string(b[localHeapSizeOffset-8:localHeapSizeOffset-4]) != "HEAP" || binary.LittleEndian.Uint64(b[localHeapSizeOffset:]) != 88 {
		t.Fatal("xor_model.h5 changed: its local heap is no longer at 0x2a8 with 88 bytes; find a new huge-size mutation")
	}
	b[localHeapSizeOffset+4] = 0xff
	return b
}

func writeTemp(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReadFileIsolatedCorrupt: every broken file gives an error naming it,
// and the file whose sizes would exhaust memory gives the "corrupt or too
// large" error instead of killing the test binary.
func TestReadFileIsolatedCorrupt(t *testing.T) {
	src := xorModel(t)
	dir := t.TempDir()
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"huge local heap", hugeHeap(t), "the file is corrupt or too large: reading it needed more than 2048 MiB ("},
		{"truncated", src[:len(src)/2], "keras: "},
		{"header only", src[:1024], "keras: "},
		{"not hdf5", []byte("hello, not a model"), "neither an HDF5 (.h5) nor a zip (.keras) file"},
		{"empty", nil, "neither an HDF5"},
		{"zip garbage", []byte("PK\x03\x04garbage"), "cannot open zip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeTemp(t, dir, strings.ReplaceAll(tt.name, " ", "_")+".h5", tt.data)
			_, err := ReadFileIsolated(context.Background(), p)
			if err == nil {
				t.Fatal("got no error")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("got error %q, want one naming %s and containing %q", err, p, tt.want)
			}
		})
	}
}

// TestReadFileRecoversLibraryPanics: the HDF5 library panics on some
// corrupt files; ReadFile (in-process) must turn that into an error.
func TestReadFileRecoversLibraryPanics(t *testing.T) {
	src := xorModel(t)
	dir := t.TempDir()
	// Found like localHeapSizeOffset: each makes scigolib/hdf5 panic.
	tests := []struct {
		name   string
		offset int
		value  byte
		want   string
	}{
		// Byte 6 of the heap size: 0xff000000000058 overflows make.
		{"make length", localHeapSizeOffset + 6, 0xff, "makeslice: len out of range"},
		{"slice bounds", 3767, 0xff, "slice bounds out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Clone(src)
			b[tt.offset] = tt.value
			p := writeTemp(t, dir, strings.ReplaceAll(tt.name, " ", "_")+".h5", b)
			_, err := ReadFile(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("got error %v, want one naming %s and containing %q", err, p, tt.want)
			}
			_, ierr := ReadFileIsolated(context.Background(), p)
			if ierr == nil || ierr.Error() != err.Error() {
				t.Errorf("isolated: got error %v, want %v", ierr, err)
			}
		})
	}
}

// TestReadFileIsolatedTypedErrors: errors the child reports come back with
// ReadFile's message and type.
func TestReadFileIsolatedTypedErrors(t *testing.T) {
	dir := t.TempDir()
	// Rename the class of xor_model's first Dense layer in place (same
	// length, so the HDF5 structure is untouched).
	h5 := bytes.Replace(xorModel(t), []byte(`"class_name": "Dense"`), []byte(`"class_name": "Densx"`), 1)
	bad := strings.Replace(keras3Config, `"class_name": "LeakyReLU"`, `"class_name": "GRU"`, 1)
	zp := filepath.Join(dir, "gru.keras")
	writeZip(t, zp, map[string][]byte{"config.json": []byte(bad), "model.weights.h5": []byte("unused")})
	for _, tt := range []struct {
		path         string
		layer, class string
	}{
		{writeTemp(t, dir, "densx.h5", h5), "dense", "Densx"},
		{zp, "lrelu", "GRU"},
	} {
		_, want := ReadFile(tt.path)
		_, err := ReadFileIsolated(context.Background(), tt.path)
		var unsup *UnsupportedLayerError
		if !errors.As(err, &unsup) || unsup.Layer != tt.layer || unsup.Class != tt.class {
			t.Errorf("%s: got %v, want an UnsupportedLayerError for %s/%s", tt.path, err, tt.layer, tt.class)
		}
		if err == nil || want == nil || err.Error() != want.Error() {
			t.Errorf("%s: got error %v, want ReadFile's %v", tt.path, err, want)
		}
	}

	missing := filepath.Join(dir, "missing.h5")
	_, want := ReadFile(missing)
	_, err := ReadFileIsolated(context.Background(), missing)
	if !errors.Is(err, fs.ErrNotExist) || err.Error() != want.Error() {
		t.Errorf("missing file: got %v, want %v matching fs.ErrNotExist", err, want)
	}
}

// TestReadFileIsolatedContext: a cancelled read stops the child and says
// why; a read over the time limit is reported as such.
func TestReadFileIsolatedContext(t *testing.T) {
	path := testdata.Path(t, "keras/go-tflite/xor_model.h5")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadFileIsolated(ctx, path); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before: got %v, want context.Canceled", err)
	}

	// Cancel while the child is running.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	testHookStarted = cancel
	defer func() { testHookStarted = nil }()
	_, err := ReadFileIsolated(ctx, path)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), path) {
		t.Errorf("cancelled during: got %v, want context.Canceled naming the file", err)
	}
	testHookStarted = nil

	// No child starts, let alone reads, within a millisecond.
	_, err = readIsolated(context.Background(), path, minReadMemory, time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "the file is corrupt or too large: reading it took more than 1ms") {
		t.Errorf("timeout: got %v", err)
	}
}

func TestReadLimits(t *testing.T) {
	tests := []struct {
		size    int64
		memory  int64
		timeout time.Duration
	}{
		{0, 2 << 30, time.Minute},
		{3 << 20, 2 << 30, time.Minute + 3*time.Second},
		{1 << 30, 16 << 30, time.Minute + 1024*time.Second},
	}
	for _, tt := range tests {
		m, d := readLimits(tt.size)
		if m != tt.memory || d != tt.timeout {
			t.Errorf("readLimits(%d): got %d, %v, want %d, %v", tt.size, m, d, tt.memory, tt.timeout)
		}
	}
}

// TestReadReplyGarbage: whatever a child prints, the parent gets an error,
// allocating no more than the limit.
func TestReadReplyGarbage(t *testing.T) {
	header := func(js string) []byte {
		b := []byte(replyMagic)
		b = binary.LittleEndian.AppendUint64(b, uint64(len(js)))
		return append(b, js...)
	}
	valid := `{"Model":{"Name":"m","Layers":[{"Name":"d","Weights":{"kernel":{"Shape":[2],"Data":null}}}]},"Values":[2]}`
	tests := map[string][]byte{
		"nothing":         nil,
		"test output":     []byte("testing: warning: no tests to run\nPASS\n"),
		"magic only":      []byte(replyMagic),
		"huge header":     binary.LittleEndian.AppendUint64([]byte(replyMagic), 1<<62),
		"bad json":        header(`{"Model":`),
		"empty reply":     header(`{}`),
		"missing weights": header(valid),
		"count mismatch":  header(`{"Model":{"Name":"m"},"Values":[2]}`),
		"huge weights":    header(strings.Replace(valid, `[2]}`, `[1000000000000]}`, 1)),
		"trailing":        append(header(valid), make([]byte, 9)...),
	}
	for name, b := range tests {
		if _, err := readReply(bytes.NewReader(b), 1<<20); err == nil {
			t.Errorf("%s: got no error", name)
		}
	}
	rep, err := readReply(bytes.NewReader(append(header(valid), make([]byte, 8)...)), 1<<20)
	if err != nil || len(rep.model.Layers[0].Weights["kernel"].Data) != 2 {
		t.Errorf("valid reply: got %v, %v", rep, err)
	}
}

// TestRecoverHDF5: a panic inside the HDF5 library becomes an error (see
// TestReadFileRecoversLibraryPanics), but one in this package's own code is
// a bug and must not be dressed up as a corrupt file.
func TestRecoverHDF5(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Error("a panic in package keras was recovered")
		}
	}()
	recoverHDF5("x.h5", func(string) (*Model, error) {
		var layers []*Layer
		return &Model{Name: layers[len(layers)-1+1].Name}, nil
	})
}
