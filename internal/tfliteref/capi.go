//go:build tfliteref && cgo

package tfliteref

/*
#cgo LDFLAGS: -ltensorflowlite_c
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "tensorflow/lite/c/c_api.h"
#include "tensorflow/lite/c/common.h"

// errbuf collects what the interpreter reports, so failures carry
// TensorFlow Lite's own message instead of a bare status code.
typedef struct { char buf[4096]; size_t n; } errbuf;

static void errbuf_report(void* user, const char* format, va_list args) {
	errbuf* e = (errbuf*)user;
	size_t room = sizeof(e->buf) - e->n;
	if (room < 2) return;
	if (e->n > 0) { e->buf[e->n++] = '\n'; room--; }
	int k = vsnprintf(e->buf + e->n, room, format, args);
	if (k < 0) return;
	e->n += (size_t)k < room ? (size_t)k : room - 1;
}

static void set_reporter(TfLiteInterpreterOptions* o, errbuf* e) {
	TfLiteInterpreterOptionsSetErrorReporter(o, errbuf_report, e);
}
*/
import "C"

import (
	"fmt"
	"strings"
	"time"
	"unsafe"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// cTypes maps TfLiteType (c_api_types.h) to the schema's TensorType; the two
// enums number the same types differently.
var cTypes = map[C.TfLiteType]tfl.TensorType{
	C.kTfLiteFloat32: tfl.Float32, C.kTfLiteInt32: tfl.Int32, C.kTfLiteUInt8: tfl.Uint8,
	C.kTfLiteInt64: tfl.Int64, C.kTfLiteString: tfl.String, C.kTfLiteBool: tfl.Bool,
	C.kTfLiteInt16: tfl.Int16, C.kTfLiteInt8: tfl.Int8, C.kTfLiteFloat16: tfl.Float16,
	C.kTfLiteFloat64: tfl.Float64,
}

// HaveC reports whether RunC can run models in this binary.
const HaveC = true

// CVersion is the version string of the linked TensorFlow Lite C library.
func CVersion() string { return C.GoString(C.TfLiteVersion()) }

// RunC runs model once per Options.Repeat with the TensorFlow Lite C
// library on inputs (raw bytes, one slice per input tensor, each exactly
// the tensor's size) and returns every output.
func RunC(model []byte, inputs [][]byte, opts Options) (*Result, error) {
	if len(model) == 0 {
		return nil, fmt.Errorf("tfliteref: empty model")
	}
	// The model keeps pointing into its buffer, so it lives in C memory
	// for the interpreter's lifetime.
	mbuf := C.CBytes(model)
	defer C.free(mbuf)
	m := C.TfLiteModelCreate(mbuf, C.size_t(len(model)))
	if m == nil {
		return nil, fmt.Errorf("tfliteref: TfLiteModelCreate refused the model")
	}
	defer C.TfLiteModelDelete(m)
	eb := (*C.errbuf)(C.calloc(1, C.size_t(unsafe.Sizeof(C.errbuf{}))))
	defer C.free(unsafe.Pointer(eb))
	o := C.TfLiteInterpreterOptionsCreate()
	defer C.TfLiteInterpreterOptionsDelete(o)
	C.TfLiteInterpreterOptionsSetNumThreads(o, C.int32_t(opts.threads()))
	C.set_reporter(o, eb)
	it := C.TfLiteInterpreterCreate(m, o)
	if it == nil {
		return nil, cError(eb, "create interpreter")
	}
	defer C.TfLiteInterpreterDelete(it)
	nIn := int(C.TfLiteInterpreterGetInputTensorCount(it))
	if len(inputs) != nIn {
		return nil, fmt.Errorf("tfliteref: model has %d inputs, got %d", nIn, len(inputs))
	}
	if opts.Batch > 0 {
		for i := range nIn {
			t := C.TfLiteInterpreterGetInputTensor(it, C.int32_t(i))
			dims := shape(t)
			if len(dims) == 0 || dims[0] == opts.Batch {
				continue
			}
			cd := make([]C.int, len(dims))
			for k, d := range dims {
				cd[k] = C.int(d)
			}
			cd[0] = C.int(opts.Batch)
			if C.TfLiteInterpreterResizeInputTensor(it, C.int32_t(i), &cd[0], C.int32_t(len(cd))) != C.kTfLiteOk {
				return nil, cError(eb, fmt.Sprintf("resize input %d to batch %d", i, opts.Batch))
			}
		}
	}
	if C.TfLiteInterpreterAllocateTensors(it) != C.kTfLiteOk {
		return nil, cError(eb, "allocate tensors")
	}
	res := &Result{Runtime: "TensorFlow Lite " + CVersion() + " C library"}
	for i := range nIn {
		t := C.TfLiteInterpreterGetInputTensor(it, C.int32_t(i))
		info := describe(t)
		res.Inputs = append(res.Inputs, info)
		size := int(C.TfLiteTensorByteSize(t))
		if len(inputs[i]) != size {
			return nil, fmt.Errorf("tfliteref: input %d (%s %s%v) needs %d bytes, got %d", i, info.Name, info.Type, info.Shape, size, len(inputs[i]))
		}
	}
	for range opts.repeat() {
		// Inputs are copied before every invocation: kernels may not
		// modify them, but a reference should not rely on that.
		for i, in := range inputs {
			if len(in) == 0 {
				continue
			}
			t := C.TfLiteInterpreterGetInputTensor(it, C.int32_t(i))
			if C.TfLiteTensorCopyFromBuffer(t, unsafe.Pointer(&in[0]), C.size_t(len(in))) != C.kTfLiteOk {
				return nil, cError(eb, fmt.Sprintf("copy input %d", i))
			}
		}
		start := time.Now()
		st := C.TfLiteInterpreterInvoke(it)
		res.Invoke = append(res.Invoke, time.Since(start))
		if st != C.kTfLiteOk {
			return nil, cError(eb, "invoke")
		}
	}
	for i := range int(C.TfLiteInterpreterGetOutputTensorCount(it)) {
		t := C.TfLiteInterpreterGetOutputTensor(it, C.int32_t(i))
		info := describe(t)
		if n := int(C.TfLiteTensorByteSize(t)); n > 0 {
			info.Data = C.GoBytes(C.TfLiteTensorData(t), C.int(n))
		} else {
			info.Data = []byte{}
		}
		res.Outputs = append(res.Outputs, info)
	}
	return res, nil
}

func shape(t *C.TfLiteTensor) []int {
	n := int(C.TfLiteTensorNumDims(t))
	s := make([]int, n)
	for k := range s {
		s[k] = int(C.TfLiteTensorDim(t, C.int32_t(k)))
	}
	return s
}

func describe(t *C.TfLiteTensor) Tensor {
	q := C.TfLiteTensorQuantizationParams(t)
	typ, ok := cTypes[C.TfLiteTensorType(t)]
	if !ok {
		typ = tfl.TensorType(-1)
	}
	return Tensor{
		Name:      C.GoString(C.TfLiteTensorName(t)),
		Type:      typ,
		Shape:     shape(t),
		Scale:     float32(q.scale),
		ZeroPoint: int32(q.zero_point),
	}
}

func cError(eb *C.errbuf, what string) error {
	msg := strings.TrimSpace(C.GoStringN(&eb.buf[0], C.int(eb.n)))
	if msg == "" {
		msg = "no message from the runtime"
	}
	return fmt.Errorf("tfliteref: %s: %s", what, msg)
}
