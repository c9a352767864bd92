// Package infer is fruitcam's inference API: load a .tflite model, learn
// its inputs, outputs, labels and preprocessing, and classify images in
// batches on one of several backends.
//
// Backends implement Engine, a small contract over one interpreter:
//
//   - native (default): fruitcam's own pure-Go TensorFlow Lite interpreter
//     (package infer/native). No cgo, so the agent is one static binary for
//     linux/amd64, arm64 and arm.
//   - tflite: the real TensorFlow Lite C library through go-tflite, built
//     only with -tags tflite.
//   - edgetpu: tflite plus the Coral Edge TPU delegate.
//
// The file format is read by package infer/tfl; quantisation arithmetic is
// in package quant.
package infer
