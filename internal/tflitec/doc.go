// Package tflitec holds no Go code: its include directory completes the
// TensorFlow Lite C headers that github.com/mattn/go-tflite v1.0.5 compiles
// against, for the infer package's tflite backend (build tag tflite).
//
// go-tflite includes tensorflow/lite/c/c_api_experimental.h. The library
// we build and test against, libtensorflowlite_c.so 2.9.0 from the npm
// package tfjs-tflite-node 0.0.2 (unpacked into .tflite-ref by make ref),
// ships c_api.h, c_api_types.h and common.h but not that header, although
// it exports the functions. include/tensorflow/lite/c/c_api_experimental.h
// is our own declaration of the four functions go-tflite calls
// (TfLiteInterpreterOptionsAddBuiltinOp, TfLiteInterpreterOptionsAddCustomOp,
// TfLiteInterpreterOptionsSetUseNNAPI, TfLiteInterpreterResetVariableTensors),
// written for this project, not TensorFlow's file. It includes the
// library's own c_api.h and common.h, which must come first on the include
// path.
//
// Build and test the backend with both directories on the include path
// and the library on the link and run paths:
//
//	REF=$PWD/.tflite-ref
//	CGO_ENABLED=1 CGO_CFLAGS="-I$REF/c/include -I$PWD/internal/tflitec/include" \
//	CGO_LDFLAGS="-L$REF/c/linux_amd64 -Wl,-rpath,$REF/c/linux_amd64" \
//	go test -tags tflite ./infer/...
//
// On a board with a full TensorFlow Lite installation (headers including
// c_api_experimental.h), leave this directory off the include path.
package tflitec
