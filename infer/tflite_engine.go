//go:build tflite && cgo

package infer

/*
#cgo LDFLAGS: -ltensorflowlite_c
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "tensorflow/lite/c/c_api.h"

// fc_errbuf collects what the library reports. go-tflite v1.0.5's own
// reporter cannot be used: it passes the va_list to asprintf instead of
// vasprintf, so every argument of a message is garbage (and a %s can
// crash).
typedef struct { char buf[2048]; size_t n; } fc_errbuf;

static void fc_report(void* user, const char* format, va_list args) {
	fc_errbuf* e = (fc_errbuf*)user;
	size_t room = sizeof(e->buf) - e->n;
	if (room < 3) return;
	if (e->n > 0) { e->buf[e->n++] = ';'; e->buf[e->n++] = ' '; room -= 2; }
	int k = vsnprintf(e->buf + e->n, room, format, args);
	if (k < 0) return;
	e->n += (size_t)k < room ? (size_t)k : room - 1;
}

static void fc_set_reporter(void* options, fc_errbuf* e) {
	TfLiteInterpreterOptionsSetErrorReporter((TfLiteInterpreterOptions*)options, fc_report, e);
}

// TFLite 2.9's TfLiteXNNPackDelegateOptions (delegates/xnnpack/
// xnnpack_delegate.h, which the C distribution does not ship; the library
// exports the functions). Later versions append fields, so it is only
// used after TfLiteVersion() said 2.9.
typedef struct {
	int32_t num_threads;
	uint32_t flags;
	void* weights_cache;
} fc_xnnpack_options_2_9;

#define FC_XNNPACK_FLAG_QS8 0x00000001
#define FC_XNNPACK_FLAG_QU8 0x00000002

extern TfLiteDelegate* TfLiteXNNPackDelegateCreate(const fc_xnnpack_options_2_9* options);
extern void TfLiteXNNPackDelegateDelete(TfLiteDelegate* delegate);

static TfLiteDelegate* fc_xnnpack_create(int threads) {
	fc_xnnpack_options_2_9 o;
	o.num_threads = threads > 1 ? threads : 0;
	o.flags = FC_XNNPACK_FLAG_QS8;
	o.weights_cache = NULL;
	return TfLiteXNNPackDelegateCreate(&o);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"github.com/fruitcam/fruitcam/infer/delegate"
	"reflect"
	"slices"
	"strings"
	"unsafe"

	tflite "github.com/mattn/go-tflite"
	"github.com/mattn/go-tflite/delegates"

	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/tfl"
)

// haveTFLite: this build has the TensorFlow Lite C library.
const haveTFLite = true

// edgeTPUAvailable is nil when an Edge TPU answers for device: its delegate
// can be created (and is deleted at once).
func edgeTPUAvailable(device string) error {
	d, err := delegate.NewEdgeTPU(device)
	if err != nil {
		return err
	}
	d.Delete()
	return nil
}

// newCgoEngine builds the engines that need the TensorFlow Lite C library.
func newCgoEngine(f *File, opts Options) (Engine, error) {
	switch opts.Backend {
	case BackendTFLite:
		if opts.XNNPACK {
			d, err := newXNNPACK(opts.Threads)
			if err != nil {
				return nil, fmt.Errorf("infer: backend tflite for %s: %w", f.Path, err)
			}
			return newTFLiteEngine(f, opts.Threads, d)
		}
		return newTFLiteEngine(f, opts.Threads)
	case BackendEdgeTPU:
		// The delegate exists before the interpreter and is deleted after
		// it: the engine owns it from here (Close).
		d, err := delegate.NewEdgeTPU(opts.Device)
		if err != nil {
			return nil, fmt.Errorf("infer: backend edgetpu for %s: %w", f.Path, err)
		}
		return newTFLiteEngine(f, opts.Threads, d)
	}
	return nil, fmt.Errorf("infer: backend %q does not use the TensorFlow Lite C library", opts.Backend)
}

// Version is the TensorFlow Lite C library's version (TfLiteVersion).
func Version() string { return C.GoString(C.TfLiteVersion()) }

// xnnpack is TFLite's XNNPACK delegate, as go-tflite's Delegater.
type xnnpack struct{ d *C.TfLiteDelegate }

// newXNNPACK creates the XNNPACK delegate, with its quantised (signed and
// unsigned 8-bit) operators on, for threads threads.
func newXNNPACK(threads int) (*xnnpack, error) {
	if v := Version(); !strings.HasPrefix(v, "2.9.") {
		return nil, fmt.Errorf("XNNPACK: this binary knows the delegate's options of TensorFlow Lite 2.9, and the library is %s: turn model.xnnpack off, or rebuild against its headers", v)
	}
	d := C.fc_xnnpack_create(C.int(threads))
	if d == nil {
		return nil, errors.New("XNNPACK: TfLiteXNNPackDelegateCreate failed (the library may be built without XNNPACK)")
	}
	return &xnnpack{d: d}, nil
}

func (x *xnnpack) Ptr() unsafe.Pointer { return unsafe.Pointer(x.d) }

func (x *xnnpack) Delete() {
	if x.d != nil {
		C.TfLiteXNNPackDelegateDelete(x.d)
		x.d = nil
	}
}

// tfliteEngine runs a model with the TensorFlow Lite C library through
// github.com/mattn/go-tflite.
//
// The C objects are created in the order the C API requires and freed in
// reverse by Close: delegates (made by the caller), model, options (with
// the error reporter and the delegates), interpreter.
type tfliteEngine struct {
	path  string
	dels  []delegates.Delegater
	model *tflite.Model
	opts  *tflite.InterpreterOptions
	it    *tflite.Interpreter
	rep   *reporter

	// The C tensors (stable between AllocateTensors calls) and their
	// descriptions, refreshed by describe after every allocation.
	inT, outT []*tflite.Tensor
	ins, outs []TensorInfo
}

// reporter collects what the C library reports through its error
// reporter, so that a failed call returns TensorFlow Lite's own words. The
// buffer is C memory: the library holds its address.
type reporter struct{ eb *C.fc_errbuf }

func newReporter() *reporter {
	return &reporter{eb: (*C.fc_errbuf)(C.calloc(1, C.size_t(unsafe.Sizeof(C.fc_errbuf{}))))}
}

// take returns and clears the messages collected since the last take.
func (r *reporter) take() string {
	if r.eb.n == 0 {
		return "no message from the TensorFlow Lite library"
	}
	s := strings.TrimSpace(C.GoStringN(&r.eb.buf[0], C.int(r.eb.n)))
	r.eb.n = 0
	return s
}

// message takes what the library reported; with an Edge TPU delegate it
// adds what the message means and what to do (libedgetpu's messages are
// terse: "Unsupported data type in custom op handler" is a version
// mismatch).
func (e *tfliteEngine) message() string {
	m := e.rep.take()
	for _, d := range e.dels {
		if x, ok := d.(*delegate.External); ok {
			if _, tpu := x.EdgeTPUInfo(); tpu {
				return delegate.ExplainEdgeTPUError(m)
			}
		}
	}
	return m
}

// reset forgets earlier messages without reading them.
func (r *reporter) reset() { r.eb.n = 0 }

func (r *reporter) free() {
	C.free(unsafe.Pointer(r.eb))
	r.eb = nil
}

// optionsPointer returns the TfLiteInterpreterOptions* inside go-tflite's
// InterpreterOptions, to install our error reporter on it: go-tflite
// v1.0.5 keeps it as the struct's only, unexported field and offers no
// working reporter (see fc_report). goTFLiteLayout checks that shape once.
func optionsPointer(o *tflite.InterpreterOptions) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(o))
}

// goTFLiteLayout is nil when go-tflite's InterpreterOptions is what
// optionsPointer expects: a struct of one pointer.
var goTFLiteLayout = func() error {
	t := reflect.TypeFor[tflite.InterpreterOptions]()
	if t.NumField() != 1 || t.Field(0).Type.Kind() != reflect.Pointer {
		return fmt.Errorf("infer: github.com/mattn/go-tflite's InterpreterOptions is not the v1.0.5 layout this backend was written for (one C pointer); build with go-tflite v1.0.5")
	}
	return nil
}()

// newTFLiteEngine builds an interpreter for f with threads CPU threads
// (0 means 1) and the delegates dels, which the engine then owns: they
// are created before it and Close deletes them after the interpreter and
// its options, as TensorFlow Lite requires. Without delegates, models the
// CPU cannot run are refused first (see checkCPUModel).
func newTFLiteEngine(f *File, threads int, dels ...delegates.Delegater) (Engine, error) {
	e := &tfliteEngine{path: f.Path, dels: dels}
	if err := e.open(f, threads); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// open creates the C objects; on error Close frees what was made.
func (e *tfliteEngine) open(f *File, threads int) error {
	if len(e.dels) == 0 {
		if err := checkCPUModel(f.Model); err != nil {
			return fmt.Errorf("infer: load %s: %w", f.Path, err)
		}
	}
	if threads < 0 {
		return fmt.Errorf("infer: %d threads: want 0 (one) or more", threads)
	}
	if f.Path == "" {
		return errors.New("infer: backend tflite loads the model from its file: File.Path is empty (use infer.ReadFile)")
	}
	if goTFLiteLayout != nil {
		return goTFLiteLayout
	}
	// NewModelFromFile, not NewModel: go-tflite's NewModel copies the
	// buffer into C memory it never frees. From a file the library maps
	// it and TfLiteModelDelete unmaps it.
	if e.model = tflite.NewModelFromFile(f.Path); e.model == nil {
		return fmt.Errorf("infer: load %s: the TensorFlow Lite library could not read the model", f.Path)
	}
	if e.opts = tflite.NewInterpreterOptions(); e.opts == nil {
		return fmt.Errorf("infer: load %s: TfLiteInterpreterOptionsCreate failed", f.Path)
	}
	e.opts.SetNumThread(max(threads, 1))
	for _, d := range e.dels {
		e.opts.AddDelegate(d)
	}
	e.rep = newReporter()
	C.fc_set_reporter(optionsPointer(e.opts), e.rep.eb)
	if e.it = tflite.NewInterpreter(e.model, e.opts); e.it == nil {
		return fmt.Errorf("infer: load %s: the TensorFlow Lite library refused the model: %s", f.Path, e.message())
	}
	return e.allocate("allocate tensors")
}

// checkCPUModel refuses, before the C library sees them, models it would
// fail on obscurely: Edge TPU models are a single custom operator the
// library does not know.
func checkCPUModel(m *tfl.Model) error {
	for _, c := range m.OperatorCodes {
		if c.Builtin == tfl.OpCustom && c.Custom == native.EdgeTPUCustomOp {
			return fmt.Errorf("the model is compiled for the Coral Edge TPU (operator %s) and needs the edgetpu backend "+
				"(a TPU attached, libedgetpu installed), or use the CPU .tflite it was compiled from", c.Name())
		}
	}
	return nil
}

// allocate runs AllocateTensors and describes the tensors again.
func (e *tfliteEngine) allocate(what string) error {
	e.rep.reset()
	if e.it.AllocateTensors() != tflite.OK {
		return fmt.Errorf("infer: %s: %s: %s", e.path, what, e.message())
	}
	return e.describe()
}

// describe fetches the input and output tensors and their descriptions.
func (e *tfliteEngine) describe() error {
	var err error
	if e.inT, e.ins, err = tensors(e.it.GetInputTensorCount(), e.it.GetInputTensor, "input"); err != nil {
		return fmt.Errorf("infer: %s: %w", e.path, err)
	}
	if e.outT, e.outs, err = tensors(e.it.GetOutputTensorCount(), e.it.GetOutputTensor, "output"); err != nil {
		return fmt.Errorf("infer: %s: %w", e.path, err)
	}
	return nil
}

func tensors(n int, get func(int) *tflite.Tensor, kind string) ([]*tflite.Tensor, []TensorInfo, error) {
	ts := make([]*tflite.Tensor, n)
	infos := make([]TensorInfo, n)
	for i := range n {
		t := get(i)
		if t == nil {
			return nil, nil, fmt.Errorf("%s tensor %d: the library returned none", kind, i)
		}
		typ, ok := cTensorTypes[t.Type()]
		if !ok {
			return nil, nil, fmt.Errorf("%s tensor %d (%s) has TfLiteType %d, which infer does not handle", kind, i, t.Name(), int(t.Type()))
		}
		q := t.QuantizationParams()
		info := TensorInfo{Name: t.Name(), Type: typ, Shape: t.Shape()}
		if q.Scale != 0 {
			info.Scale, info.ZeroPoint = float32(q.Scale), int32(q.ZeroPoint)
		}
		if got, want := int(t.ByteSize()), info.Bytes(); got != want {
			return nil, nil, fmt.Errorf("%s tensor %d (%s) holds %d bytes, want %d", kind, i, info, got, want)
		}
		ts[i], infos[i] = t, info
	}
	return ts, infos, nil
}

// cTensorTypes maps TfLiteType (c_api_types.h) to the schema's
// TensorType: the two enums number the types differently. go-tflite names
// only the first ones.
var cTensorTypes = map[tflite.TensorType]tfl.TensorType{
	tflite.Float32: tfl.Float32, tflite.Int32: tfl.Int32, tflite.UInt8: tfl.Uint8,
	tflite.Int64: tfl.Int64, tflite.Bool: tfl.Bool, tflite.Int16: tfl.Int16,
	tflite.Int8: tfl.Int8, 10: tfl.Float16, 11: tfl.Float64,
}

func (e *tfliteEngine) Inputs() []TensorInfo  { return e.ins }
func (e *tfliteEngine) Outputs() []TensorInfo { return e.outs }
func (e *tfliteEngine) Input(i int) []byte    { return cBytes(e.inT[i]) }
func (e *tfliteEngine) Output(i int) []byte   { return cBytes(e.outT[i]) }

// cBytes is the tensor's C buffer as a Go slice, without copying. The
// pointer is asked for on every call: the library may move a dynamic
// tensor's buffer during Invoke.
func cBytes(t *tflite.Tensor) []byte {
	p, n := t.Data(), int(t.ByteSize())
	if p == nil || n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(p), n)
}

func (e *tfliteEngine) Invoke() error {
	if e.it == nil {
		return errors.New("infer: invoke: the engine is closed")
	}
	e.rep.reset()
	if e.it.Invoke() != tflite.OK {
		return fmt.Errorf("infer: %s: invoke: %s", e.path, e.message())
	}
	return nil
}

// SetBatch resizes the leading dimension of every input to n and
// reallocates the tensors. When the model cannot take n, the engine goes
// back to the shapes it had and stays usable.
func (e *tfliteEngine) SetBatch(n int) error {
	if e.it == nil {
		return errors.New("infer: set batch: the engine is closed")
	}
	if n < 1 {
		return fmt.Errorf("infer: batch %d: want 1 or more", n)
	}
	old := make([][]int, len(e.ins))
	changed := false
	for i, in := range e.ins {
		old[i] = slices.Clone(in.Shape)
		if len(in.Shape) > 0 && in.Shape[0] != n {
			changed = true
		}
	}
	if !changed {
		return nil
	}
	err := e.resize(func(i int, s []int) []int {
		if len(s) == 0 {
			return s
		}
		s = slices.Clone(s)
		s[0] = n
		return s
	})
	if err == nil {
		return nil
	}
	err = fmt.Errorf("infer: %s: batch %d: %w", e.path, n, err)
	if rerr := e.resize(func(i int, _ []int) []int { return old[i] }); rerr != nil {
		return errors.Join(err, fmt.Errorf("infer: %s: restoring the previous shapes: %w", e.path, rerr))
	}
	return err
}

// resize gives every input the shape shape(i, current) and reallocates.
func (e *tfliteEngine) resize(shape func(i int, cur []int) []int) error {
	e.rep.reset()
	for i, in := range e.ins {
		// The library's current shape, not in.Shape: after a failed
		// resize the two differ.
		cur := e.it.GetInputTensor(i).Shape()
		s := shape(i, cur)
		if len(s) == 0 || slices.Equal(s, cur) {
			continue
		}
		dims := make([]int32, len(s))
		for k, d := range s {
			dims[k] = int32(d)
		}
		if e.it.ResizeInputTensor(i, dims) != tflite.OK {
			return fmt.Errorf("resize input %d (%s) to %v: %s", i, in.Name, s, e.rep.take())
		}
	}
	if e.it.AllocateTensors() != tflite.OK {
		return fmt.Errorf("allocate tensors: %s", e.rep.take())
	}
	return e.describe()
}

// Close frees the interpreter, its options, the delegates, the model and
// the reporter's buffer, in that order.
// It is safe to call more than once.
func (e *tfliteEngine) Close() error {
	if e.it != nil {
		e.it.Delete()
		e.it = nil
	}
	if e.opts != nil {
		e.opts.Delete()
		e.opts = nil
	}
	for _, d := range e.dels {
		d.Delete()
	}
	e.dels = nil
	if e.model != nil {
		e.model.Delete()
		e.model = nil
	}
	if e.rep != nil {
		e.rep.free()
		e.rep = nil
	}
	e.inT, e.outT, e.ins, e.outs = nil, nil, nil, nil
	return nil
}
