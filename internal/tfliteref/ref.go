package tfliteref

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// Options configures one reference run.
type Options struct {
	// Threads for the runtime's interpreter; 0 means 1.
	Threads int
	// Repeat is the number of timed invocations on the same inputs; 0
	// means 1. Outputs are those of the last invocation.
	Repeat int
	// Batch, when above 0, resizes the leading dimension of every input
	// before tensors are allocated (C library only).
	Batch int
}

func (o Options) threads() int { return max(o.Threads, 1) }
func (o Options) repeat() int  { return max(o.Repeat, 1) }

// Tensor is an input or output tensor as the runtime reports it.
type Tensor struct {
	Name      string
	Type      tfl.TensorType
	Shape     []int
	Scale     float32
	ZeroPoint int32
	// Data is set for outputs only.
	Data []byte
}

// Result is what one reference run produced.
type Result struct {
	// Runtime names the runtime and its version.
	Runtime string
	Inputs  []Tensor
	Outputs []Tensor
	// Invoke holds the duration of each invocation.
	Invoke []time.Duration
}

// OutputBytes returns the raw bytes of every output in order.
func (r *Result) OutputBytes() [][]byte {
	out := make([][]byte, len(r.Outputs))
	for i, t := range r.Outputs {
		out[i] = t.Data
	}
	return out
}

// Median is the median invocation time.
func (r *Result) Median() time.Duration {
	if len(r.Invoke) == 0 {
		return 0
	}
	s := slices.Clone(r.Invoke)
	slices.Sort(s)
	return s[len(s)/2]
}

// ErrNoCLibrary is returned by RunC in binaries built without the
// tfliteref build tag (or without cgo).
var ErrNoCLibrary = errors.New("tfliteref: this binary was built without the TensorFlow Lite C library; " +
	"build with CGO_ENABLED=1 -tags tfliteref and CGO_CFLAGS/CGO_LDFLAGS pointing at .tflite-ref/c (see package doc)")

// SharedDir is the shared tooling and test data directory: $FRUITCAM_SHARED,
// else ../shared beside the module root.
func SharedDir() (string, error) {
	if d := os.Getenv("FRUITCAM_SHARED"); d != "" {
		return d, nil
	}
	root, err := testdata.ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(root), "shared"), nil
}

// RefDir is where make ref put the runtimes: $TFLITE_REF_DIR, else
// .tflite-ref in the module root.
func RefDir() (string, error) {
	if d := os.Getenv("TFLITE_REF_DIR"); d != "" {
		return d, nil
	}
	root, err := testdata.ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".tflite-ref"), nil
}
