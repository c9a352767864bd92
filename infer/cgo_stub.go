//go:build !tflite || !cgo

package infer

import "fmt"

// haveTFLite: this build has no TensorFlow Lite C library.
const haveTFLite = false

// Version is the TensorFlow Lite C library's version: none in this build.
func Version() string { return "" }

// edgeTPUAvailable says why no Edge TPU can be used by this build.
func edgeTPUAvailable(string) error {
	return fmt.Errorf("this binary was built without the TensorFlow Lite C library (rebuild with -tags tflite)")
}

// newCgoEngine is the stand-in for the TFLite C library backends in the
// default, cgo-free build.
func newCgoEngine(f *File, opts Options) (Engine, error) {
	return nil, fmt.Errorf("infer: backend %q needs the TensorFlow Lite C library: this binary was built without it; rebuild with `-tags tflite` (see README, \"Building for boards\") or use backend native", opts.Backend)
}
