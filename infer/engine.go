package infer

import (
	"fmt"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// TensorInfo describes an input or output tensor of a loaded model.
type TensorInfo struct {
	Name  string
	Type  tfl.TensorType
	Shape []int
	// Scale and ZeroPoint are the per-tensor quantisation parameters;
	// Scale is 0 for float tensors.
	Scale     float32
	ZeroPoint int32
}

// Quantized reports whether the tensor holds quantised integers.
func (t TensorInfo) Quantized() bool { return t.Scale != 0 && t.Type != tfl.Float32 }

// Bytes is the size of the tensor's data.
func (t TensorInfo) Bytes() int { return tfl.NumElements(t.Shape) * t.Type.Size() }

func (t TensorInfo) String() string {
	s := fmt.Sprintf("%s %s%v", t.Name, t.Type, t.Shape)
	if t.Quantized() {
		s += fmt.Sprintf(" scale=%g zero_point=%d", t.Scale, t.ZeroPoint)
	}
	return s
}

// Engine is the backend contract: one interpreter of one model. Every
// backend (native, tflite, edgetpu) implements it and runs the conformance
// suite in infer/infertest. An Engine is not safe for concurrent use; run
// one per worker.
type Engine interface {
	// Inputs and Outputs describe the tensors at the current batch size.
	// The slices are the engine's own, valid until the next SetBatch: read
	// them, do not modify them (they are asked for on every frame, so
	// they are not copied).
	Inputs() []TensorInfo
	Outputs() []TensorInfo
	// SetBatch resizes the leading dimension of every input, where the
	// model allows it.
	SetBatch(n int) error
	// Input and Output return the raw little-endian bytes of a tensor;
	// callers write inputs and read outputs in place. The slices are
	// valid until the next SetBatch.
	Input(i int) []byte
	Output(i int) []byte
	Invoke() error
	Close() error
}
