package tfl

import (
	"errors"
	"fmt"
)

// FormatError reports a file that is not a well-formed TFLite model: the
// input is broken, not merely unusual.
type FormatError struct{ Msg string }

func (e *FormatError) Error() string { return "tflite: malformed model: " + e.Msg }

// UnsupportedError reports a well-formed model that uses something this
// reader does not implement.
type UnsupportedError struct{ Msg string }

func (e *UnsupportedError) Error() string { return "tflite: unsupported: " + e.Msg }

func formatErrorf(format string, a ...any) error {
	return &FormatError{Msg: fmt.Sprintf(format, a...)}
}

// ErrNotTFLite is wrapped by the error Parse returns for files that are not
// TFLite FlatBuffers at all (a JPEG, a Keras .h5, a text file).
var ErrNotTFLite = errors.New("not a TensorFlow Lite model")
