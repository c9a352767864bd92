// Package inspect reports what a .tflite file holds, for `convert
// inspect`: the graph operator by operator (name, version, options such
// as padding, strides and fused activation, and the tensors each one
// reads and writes), the tensor table (type, shape, quantisation, whether
// constant, size), the model's inputs and outputs, the constant data
// ("weights") size, fruitcam's metadata entry (infer.ReadMetadata) and
// the other metadata entries, and an Edge TPU compatibility verdict.
//
// The file is parsed with infer/tfl, which validates it completely first
// (see that package), so a broken file gives tfl's *FormatError or
// *UnsupportedError naming the problem and nothing here reads unchecked
// data. Describe works on an already parsed model.
//
// Shapes print as [1?,96,96,3]: "?" marks a dimension that the tensor's
// shape_signature leaves dynamic (-1), which TensorFlow writes for the
// batch of every Keras model. Per-channel quantisation prints as its
// dimension, channel count and scale range; the JSON report has the same
// summary (not every scale).
//
// # Edge TPU verdict
//
// The rules are Coral's "TensorFlow models on the Edge TPU"
// (https://coral.ai/docs/edgetpu/models-intro/), sections "Model
// requirements" and "Supported operations" (the table of compiler
// version 16). CheckEdgeTPU checks, on subgraph 0:
//
//   - every tensor an operator reads or writes is int8 or uint8 ("tensor
//     parameters are quantized"); int32 is accepted only in the bias
//     positions (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED,
//     TRANSPOSE_CONV, the LSTM gate biases) and as the shape, axis,
//     padding or slice parameters of RESHAPE, PAD, MEAN, SUM,
//     STRIDED_SLICE and the like, and those must be constants ("model
//     parameters such as bias tensors are constant at compile-time");
//   - weights and biases are constants;
//   - sizes are static ("tensor sizes are constant at compile-time"):
//     a -1 in the shape signature is an offence in any dimension but the
//     first. A dynamic batch is accepted, with a note: the compiler takes
//     the batch of the stored shape, and the next rule makes that 1;
//   - activation tensors have at most 3 dimensions larger than 1, and
//     those innermost ("if a tensor has more than 3 dimensions, then only
//     the 3 innermost dimensions may have a size greater than 1"): a batch
//     above 1 fails here, as the compiler's "Tensor has unsupported rank
//     (up to 3 innermost dimensions mapped)" says (google-coral/edgetpu
//     issues 30 and 700). Constant weights are exempt: a CONV_2D filter
//     is [out, h, w, in] and compiles;
//   - the operator is in the supported table (ADD, AVERAGE_POOL_2D,
//     CONCATENATION, CONV_2D, DEPTHWISE_CONV_2D, EXPAND_DIMS,
//     FULLY_CONNECTED, L2_NORMALIZATION, LOGISTIC, LSTM (unidirectional),
//     MAXIMUM, MAX_POOL_2D, MEAN, MINIMUM, MUL, PACK, PAD, PRELU,
//     QUANTIZE, REDUCE_MAX, REDUCE_MIN, RELU, RELU6, RELU_N1_TO_1,
//     RESHAPE, RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR, RSQRT, SLICE,
//     SOFTMAX, SPACE_TO_DEPTH, SPLIT, SQUEEZE, SQUARED_DIFFERENCE,
//     STRIDED_SLICE, SUB, SUM, TANH, TRANSPOSE, TRANSPOSE_CONV), so
//     DEQUANTIZE, HARD_SWISH, LEAKY_RELU, PADV2 and every custom operator
//     offend;
//   - the table's known limitations that a file shows: no fused
//     activation on AVERAGE_POOL_2D, MAX_POOL_2D and CONCATENATION; the
//     same dilation in x and y for CONV_2D and DEPTHWISE_CONV_2D; only
//     the default weights format and a one-dimensional output for
//     FULLY_CONNECTED; no reduction of the batch dimension by MEAN, SUM,
//     REDUCE_MAX or REDUCE_MIN, and a channel reduction only over a
//     multiple of 4 channels; no padding of the batch dimension by PAD;
//   - the model has one subgraph (the compiler's "More than one subgraph
//     is not supported").
//
// Limitations that depend on the compiler's internal choices (large
// reshapes, resize sizes "that may lose precision", softmax sizes) are
// not judged. The verdict is Compatible (no offence), Partial (the first
// offence is after operator 0: the compiler maps the operators before it
// and leaves the rest of the graph to the CPU, as it cuts the graph at
// the first unsupported operator, google-coral/edgetpu issue 30),
// Incompatible (operator 0 or the whole model offends) or Compiled (the
// graph already contains an edgetpu-custom-op, the compiler's output).
// Offences of one kind are grouped per operator, so a float model reads
// one line per operator.
package inspect
