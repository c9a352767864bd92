package ptq

import (
	"errors"
	"fmt"
)

// ErrAlreadyQuantized is returned (wrapped) by NewCalibrator for a model
// that already holds quantised tensors or QUANTIZE/DEQUANTIZE operators:
// post-training quantisation starts from the float32 model.
var ErrAlreadyQuantized = errors.New("ptq: model is already quantised; quantise the float32 model instead")

// ErrNoSamples is returned by Quantize before any calibration sample was
// added: without samples there are no activation ranges.
var ErrNoSamples = errors.New("ptq: no calibration samples: call Add with representative inputs before Quantize")

// UnsupportedError says that a valid float model holds something this
// quantiser cannot turn into int8: an operator without an int8 rule here,
// or an operator used in a way the int8 kernels do not support.
type UnsupportedError struct {
	Index  int    // operator index in subgraph 0, or -1 for the model as a whole
	Op     string // operator name, e.g. "CONV_2D"; empty when Index is -1
	Reason string
}

func (e *UnsupportedError) Error() string {
	if e.Index < 0 {
		return "ptq: " + e.Reason
	}
	return fmt.Sprintf("ptq: operator %d (%s): %s", e.Index, e.Op, e.Reason)
}
