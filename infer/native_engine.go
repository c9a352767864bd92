package infer

import (
	"slices"

	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/tfl"
)

// nativeEngine adapts the pure-Go interpreter to the Engine contract.
type nativeEngine struct {
	it        *native.Interpreter
	ins, outs []TensorInfo // described once per shape: asked for per frame
}

// NewNative builds a native-backend engine for a parsed model.
func NewNative(m *tfl.Model, threads int) (Engine, error) {
	it, err := native.New(m, native.Options{Threads: threads})
	if err != nil {
		return nil, err
	}
	e := &nativeEngine{it: it}
	e.describe()
	return e, nil
}

// describe refreshes the tensor descriptions after the shapes changed.
func (e *nativeEngine) describe() {
	e.ins, e.outs = infos(e.it.Inputs()), infos(e.it.Outputs())
}

// Interpreter exposes the native interpreter behind an engine built by
// NewNative, for tools that read intermediate tensors.
func Interpreter(e Engine) (*native.Interpreter, bool) {
	ne, ok := e.(*nativeEngine)
	if !ok {
		return nil, false
	}
	return ne.it, true
}

func infos(ts []*native.Tensor) []TensorInfo {
	out := make([]TensorInfo, len(ts))
	for i, t := range ts {
		out[i] = TensorInfo{Name: t.Name, Type: t.Type, Shape: slices.Clone(t.Shape), Scale: t.Scale(), ZeroPoint: t.ZeroPoint()}
	}
	return out
}

func (e *nativeEngine) Inputs() []TensorInfo  { return e.ins }
func (e *nativeEngine) Outputs() []TensorInfo { return e.outs }
func (e *nativeEngine) Input(i int) []byte    { return e.it.Inputs()[i].Data }
func (e *nativeEngine) Output(i int) []byte   { return e.it.Outputs()[i].Data }
func (e *nativeEngine) Invoke() error         { return e.it.Invoke() }
func (e *nativeEngine) Close() error          { return nil }

func (e *nativeEngine) SetBatch(n int) error {
	defer e.describe()
	for i, t := range e.it.Inputs() {
		if len(t.Shape) == 0 || t.Shape[0] == n {
			continue
		}
		s := slices.Clone(t.Shape)
		s[0] = n
		if err := e.it.ResizeInput(i, s); err != nil {
			return err
		}
	}
	return nil
}
