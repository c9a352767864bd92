package infer

import (
	"fmt"
	"slices"

	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/tfl"
)

// nativeEngine adapts the pure-Go interpreter to the Engine contract.
//
// A batch of n images runs one of two ways, chosen once per model by
// batchPays:
//
//   - per image (most models): the interpreter stays planned for one image
//     and Invoke runs it n times over the engine's own batch buffers. A
//     conveyor's batches vary in size (a timeout flushes a part batch);
//     this way a new size costs nothing, and the activations of one image
//     stay in cache, which for convolutional networks is faster than
//     running n images layer by layer (MobileNet v2 here: 2.14 ms per
//     image at batch 8 against 1.95 ms at batch 1);
//   - as one batch, through ResizeInput, when fully connected layers hold
//     a good part of the work: their weights are then read once per batch
//     instead of once per image (the workshop's fruit CNN, float: 0.079
//     ms per image at batch 8 against 0.14 ms at batch 1).
//
// Either way the results are bit-identical: every kernel computes each
// image's rows the same whatever the batch.
type nativeEngine struct {
	it        *native.Interpreter
	ins, outs []TensorInfo // described once per shape: asked for per frame

	perImage bool     // batches run image by image (see above)
	batch    int      // the current batch size
	in, out  [][]byte // per-image mode with batch > 1: the batch's buffers
	// inCap, outCap back in and out at the largest batch seen, so that
	// batches of varying size allocate nothing once the largest came;
	// inBuf, outBuf hold the slices in and out point at.
	inCap, outCap, inBuf, outBuf [][]byte
}

// NewNative builds a native-backend engine for a parsed model.
func NewNative(m *tfl.Model, threads int) (Engine, error) {
	it, err := native.New(m, native.Options{Threads: threads})
	if err != nil {
		return nil, err
	}
	e := &nativeEngine{it: it, batch: 1, perImage: !batchPays(m) && leadingOnes(it)}
	e.describe()
	return e, nil
}

// leadingOnes reports whether every input and output has a leading
// dimension of 1: the batch, which per-image runs can stack.
func leadingOnes(it *native.Interpreter) bool {
	for _, t := range append(slices.Clone(it.Inputs()), it.Outputs()...) {
		if len(t.Shape) == 0 || t.Shape[0] != 1 {
			return false
		}
	}
	return true
}

// batchPays reports whether running images as one batch beats running
// them one by one: when fully connected layers do at least a tenth of the
// multiply-adds. Convolutions already work on many rows per image, so
// batching only grows their working set; a fully connected layer on one
// image is a matrix-vector product that reads every weight for a single
// row.
func batchPays(m *tfl.Model) bool {
	sg := m.Subgraphs[0]
	var fc, all float64
	elems := func(i int) float64 {
		if i < 0 || i >= len(sg.Tensors) {
			return 0
		}
		return float64(tfl.NumElements(sg.Tensors[i].Shape))
	}
	for _, op := range sg.Operators {
		if op.OpcodeIndex < 0 || op.OpcodeIndex >= len(m.OperatorCodes) || len(op.Inputs) < 2 || len(op.Outputs) < 1 {
			continue
		}
		out, w := elems(op.Outputs[0]), op.Inputs[1]
		if w < 0 || w >= len(sg.Tensors) {
			continue
		}
		ws := sg.Tensors[w].Shape
		switch m.OperatorCodes[op.OpcodeIndex].Builtin {
		case tfl.OpConv2D: // filter [outC, kh, kw, inC]
			if len(ws) == 4 {
				all += out * float64(ws[1]*ws[2]*ws[3])
			}
		case tfl.OpDepthwiseConv: // filter [1, kh, kw, outC]
			if len(ws) == 4 {
				all += out * float64(ws[1]*ws[2])
			}
		case tfl.OpFullyConnected: // weights [units, k]
			if len(ws) == 2 {
				macs := out * float64(ws[1])
				fc += macs
				all += macs
			}
		}
	}
	return all > 0 && fc >= all/10
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
func (e *nativeEngine) Close() error          { return nil }

func (e *nativeEngine) Input(i int) []byte {
	if e.in != nil {
		return e.in[i]
	}
	return e.it.Inputs()[i].Data
}

func (e *nativeEngine) Output(i int) []byte {
	if e.out != nil {
		return e.out[i]
	}
	return e.it.Outputs()[i].Data
}

func (e *nativeEngine) Invoke() error {
	if e.in == nil {
		return e.it.Invoke()
	}
	ins, outs := e.it.Inputs(), e.it.Outputs()
	for b := range e.batch {
		for i, t := range ins {
			n := len(t.Data)
			copy(t.Data, e.in[i][b*n:(b+1)*n])
		}
		if err := e.it.Invoke(); err != nil {
			return fmt.Errorf("image %d of %d: %w", b+1, e.batch, err)
		}
		for i, t := range outs {
			n := len(t.Data)
			copy(e.out[i][b*n:(b+1)*n], t.Data)
		}
	}
	return nil
}

func (e *nativeEngine) SetBatch(n int) error {
	if n < 1 {
		return fmt.Errorf("infer: batch %d: want 1 or more", n)
	}
	if n == e.batch {
		return nil
	}
	if e.perImage {
		// Nothing is re-planned: the buffers are cut for n images and the
		// descriptions say so, both in place (a conveyor's batch size
		// changes all the time).
		e.batch = n
		e.in, e.out = nil, nil
		if n > 1 {
			e.inCap, e.inBuf = batchBuffers(e.inCap, e.inBuf, e.it.Inputs(), n)
			e.outCap, e.outBuf = batchBuffers(e.outCap, e.outBuf, e.it.Outputs(), n)
			e.in, e.out = e.inBuf, e.outBuf
		}
		for _, ts := range [][]TensorInfo{e.ins, e.outs} {
			for i := range ts {
				ts[i].Shape[0] = n
			}
		}
		return nil
	}
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
	e.batch = n
	return nil
}

// batchBuffers cuts n images' worth of each tensor from backing (grown
// when too small) into bufs, and returns both.
func batchBuffers(backing, bufs [][]byte, ts []*native.Tensor, n int) ([][]byte, [][]byte) {
	if backing == nil {
		backing, bufs = make([][]byte, len(ts)), make([][]byte, len(ts))
	}
	for i, t := range ts {
		size := n * len(t.Data)
		if len(backing[i]) < size {
			backing[i] = make([]byte, size)
		}
		bufs[i] = backing[i][:size:size]
	}
	return backing, bufs
}
