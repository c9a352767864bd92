package native

import (
	"fmt"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// UnsupportedOpError says that the native backend cannot run an operator,
// and what can.
type UnsupportedOpError struct {
	Index int    // operator index, -1 for the whole model
	Op    string // operator name as TFLite prints it
	Hint  string // which backend or tool runs it
}

func (e *UnsupportedOpError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("native: unsupported model (%s): %s", e.Op, e.Hint)
	}
	return fmt.Sprintf("native: operator %d is %s, which the native backend does not support: %s", e.Index, e.Op, e.Hint)
}

// EdgeTPUCustomOp is the custom operator the Edge TPU compiler emits.
const EdgeTPUCustomOp = "edgetpu-custom-op"

func unsupported(i int, code tfl.OperatorCode) error {
	e := &UnsupportedOpError{Index: i, Op: code.Name()}
	switch {
	case code.Builtin == tfl.OpCustom && code.Custom == EdgeTPUCustomOp:
		e.Hint = "this model is compiled for the Coral Edge TPU; run it with backend \"edgetpu\" " +
			"(agent built with -tags tflite, libedgetpu installed, a TPU attached), or use the CPU .tflite it was compiled from"
	case code.Builtin == tfl.OpCustom:
		e.Hint = fmt.Sprintf("custom op %q is not a TFLite builtin; only a TensorFlow Lite build with that op registered can run it", code.Custom)
	default:
		e.Hint = "the \"tflite\" backend (agent built with -tags tflite, libtensorflowlite_c installed) runs it"
	}
	return e
}
