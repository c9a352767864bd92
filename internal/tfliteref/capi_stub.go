//go:build !tfliteref || !cgo

package tfliteref

// CVersion is empty in binaries built without the C library.
func CVersion() string { return "" }

// RunC needs the TensorFlow Lite C library; this build does not have it.
func RunC(model []byte, inputs [][]byte, opts Options) (*Result, error) {
	return nil, ErrNoCLibrary
}

// HaveC reports whether RunC can run models in this binary.
const HaveC = false
