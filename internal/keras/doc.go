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
//
// Reading untrusted files: github.com/scigolib/hdf5 v0.14.0 trusts the
// sizes stored in the file (for example a group's local-heap size) and
// allocates them before checking them against the file, so a corrupt .h5
// can make it ask for a terabyte. In Go that is "fatal error: out of
// memory", which no recover catches, and the library also panics on some
// corrupt files. ReadFile turns the library's panics into errors, but only
// ReadFileIsolated is safe on files from others: it reads in a child
// process (the same executable, which must call ServeChild first thing in
// main or TestMain) that caps its own address space at max(2 GiB, 16x the
// file size) on Linux and is killed after a time limit or when the context
// ends, so a hostile file costs a clear "the file is corrupt or too large"
// error rather than the caller. Results and errors come back exactly as
// ReadFile gives them; the isolation costs ~10-30 ms per file.
package keras
