package native

import (
	"unsafe"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// Tensor is one tensor of a running interpreter. Data is either a constant
// buffer from the model (read-only) or a window of the interpreter's arena,
// valid until the next ResizeInput.
type Tensor struct {
	Index int
	Name  string
	Type  tfl.TensorType
	Shape []int
	Data  []byte
	// Quant is nil for unquantised tensors. ZeroPoint32 mirrors
	// Quant.ZeroPoint as int32 for kernels.
	Quant       *tfl.Quantization
	ZeroPoint32 []int32
	Const       bool
	Variable    bool
}

// NumElements is the number of elements of the tensor's current shape.
func (t *Tensor) NumElements() int { return tfl.NumElements(t.Shape) }

// ByteSize is the number of bytes the tensor's current shape needs.
func (t *Tensor) ByteSize() int { return t.NumElements() * t.Type.Size() }

// Scale returns the per-tensor scale (the first one for per-channel tensors), 0 when unquantised.
func (t *Tensor) Scale() float32 {
	if t.Quant == nil || len(t.Quant.Scale) == 0 {
		return 0
	}
	return t.Quant.Scale[0]
}

// ZeroPoint returns the per-tensor zero point (the first one for per-channel tensors).
func (t *Tensor) ZeroPoint() int32 {
	if len(t.ZeroPoint32) == 0 {
		return 0
	}
	return t.ZeroPoint32[0]
}

// Dim returns dimension i, counting from the end when i < 0.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.Shape)
	}
	return t.Shape[i]
}

// The typed views below reinterpret Data without copying. Data is always
// aligned for its type: the arena is 64-byte aligned and constant buffers
// are copied at load when the file leaves them misaligned.

func (t *Tensor) Float32s() []float32 { return view[float32](t.Data) }
func (t *Tensor) Int32s() []int32     { return view[int32](t.Data) }
func (t *Tensor) Int64s() []int64     { return view[int64](t.Data) }
func (t *Tensor) Int8s() []int8       { return view[int8](t.Data) }
func (t *Tensor) Uint8s() []uint8     { return t.Data }

func view[T any](b []byte) []T {
	var z T
	n := len(b) / int(unsafe.Sizeof(z))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}
