// Package tfl reads and writes TensorFlow Lite model files.
//
// A .tflite file is a FlatBuffer (file identifier "TFL3") described by
// TensorFlow's tensorflow/lite/schema/schema.fbs. This package implements
// the subset of that schema fruitcam needs with hand-written accessors
// instead of generated code, because the generated Go accessors trust the
// file: a corrupt offset makes them panic or read out of bounds. Here every
// offset, vector length and index is checked before use and Parse decodes
// the whole model into plain Go structs up front, so later stages work on
// validated data only:
//
//   - tensor shapes are non-negative, of bounded rank and size;
//   - a constant tensor's buffer holds exactly shape×type-size bytes;
//   - operator, tensor, buffer and opcode indices are in range;
//   - quantisation parameters are consistent (one zero point per scale,
//     finite non-negative scales, a valid quantized_dimension).
//
// Errors are *FormatError (the file is broken) or *UnsupportedError (well
// formed, not implemented); files that are not TFLite at all wrap
// ErrNotTFLite and say what they look like instead.
//
// Operator codes: files written before schema version 3a keep the builtin
// code in deprecated_builtin_code; newer ones put 127 there and the real
// code in builtin_code, so the reader takes the larger of the two.
//
// Writing: Write turns a Model back into a file (the converter's output),
// checking it first as Parse checks a file so it never writes one Parse
// would refuse, and writing both operator code fields. Model.WithOutputs
// cuts a model so that intermediate tensors become its outputs, for
// feature-map extraction.
package tfl
