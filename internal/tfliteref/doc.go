// Package tfliteref runs models with the real TensorFlow Lite runtimes, the
// references the native engine is judged against.
//
// Two runtimes are available on every machine that ran
// ../shared/tools/tflite-ref/setup.sh (make ref):
//
//   - the TensorFlow Lite 2.9 C library (libtensorflowlite_c.so from the npm
//     package tfjs-tflite-node 0.0.2), through cgo: RunC. It uses TFLite's
//     default CPU kernels and is the reference the bars are set against.
//     The cgo shim is built only with the build tag tfliteref, so the
//     default CGO_ENABLED=0 build never links it; without the tag RunC
//     returns ErrNoCLibrary.
//   - TensorFlow Lite compiled to WebAssembly (npm @tensorflow/tfjs-tflite
//     0.0.1-alpha.10, XNNPACK always on) run by Node with the shared oracle
//     script tools/tflite-ref/tflite_oracle.js: WASM.Run. Pure Go (it
//     starts a process), so it needs no build tag, only node.
//
// Both take raw little-endian input bytes, exactly the size of each input
// tensor, and return every output tensor's bytes plus the time of each
// invocation, so the two runtimes and the native engine are compared on
// identical inputs. cmd/tflite-c-run is the command form used by scripts.
//
// Build and test with the C library (REF is the repository's .tflite-ref):
//
//	CGO_ENABLED=1 CGO_CFLAGS=-I$REF/c/include \
//	CGO_LDFLAGS="-L$REF/c/linux_amd64 -Wl,-rpath,$REF/c/linux_amd64" \
//	go test -tags tfliteref ./internal/tfliteref/
//
// The rpath makes the binaries find libtensorflowlite_c.so without
// LD_LIBRARY_PATH.
package tfliteref
