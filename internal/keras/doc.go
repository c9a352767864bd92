// Package keras reads a trained Keras model (Keras 2 or 3 ".h5", or a Keras 3
// ".keras" zip) into a plain Go graph: layers in topological order, each with
// its class, raw and typed configuration, graph edges and float32 weights.
//
// It is the first half of fruitcam's Keras to TFLite converter; it does no
// conversion itself. Only the layer classes the converter understands are
// accepted: anything else is refused with an UnsupportedLayerError naming the
// layer, so users learn at read time rather than from a half-built model.
//
// Weights are validated against the configuration (kernel sizes, filters,
// units and input channels where they can be tracked), because a model whose
// weights disagree with its config would otherwise convert into a .tflite
// that fails, or worse runs, with garbage.
package keras

// Known limit: github.com/scigolib/hdf5 v0.14.0 trusts the sizes stored in
// the file (for example a group's local-heap size) and allocates them before
// checking them against the file, so a deliberately corrupted .h5 can make
// hdf5.Open exhaust memory. This package validates everything it reads, but
// cannot guard the library's own parsing; only read model files you trust,
// or read them in a separate process.
