//go:build !tflite || !cgo

package infer

import "fmt"

// newCgoEngine is the stand-in for the TFLite C library backends in the
// default, cgo-free build.
func newCgoEngine(f *File, opts Options) (Engine, error) {
	return nil, fmt.Errorf("infer: backend %q needs the TensorFlow Lite C library: this binary was built without it; rebuild with `-tags tflite` (see README, \"Building for boards\") or use backend native", opts.Backend)
}
