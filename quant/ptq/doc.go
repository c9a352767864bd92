// Package ptq turns a float32 TensorFlow Lite model into a full-integer
// (int8) one by post-training quantisation, following the TFLite
// quantisation specification
// (https://www.tensorflow.org/lite/performance/quantization_spec) and the
// choices of TensorFlow's own quantiser (tensorflow/lite/tools/optimize:
// quantize_model.cc, operator_property.cc, quantization_utils.cc), so
// that the result runs in TensorFlow Lite 2.9, in the native engine and,
// being int8 throughout with static shapes, on the Edge TPU compiler.
// The arithmetic (choosing parameters, quantising weights and biases,
// histograms) lives in package quant; this package decides what each
// tensor needs.
//
// Use: NewCalibrator checks the model and prepares a float interpreter;
// Add runs one representative input (preprocessed exactly as at inference
// time) through the native engine, keeping every intermediate tensor, and
// records each activation's range; Quantize writes the int8 model.
//
// # Activations
//
// Every activation is int8 with one scale and zero point (asymmetric,
// per tensor). Its real range is the smallest and largest value seen over
// all samples (MinMax, what TensorFlow's calibrator does; NaN is skipped)
// or, with Percentile, the p-th percentile of each tail, estimated from a
// streaming histogram of bounded size. The range is widened to contain 0
// and the zero point rounded to an integer, so that real 0 (padding, ReLU
// floors) is exactly a code. Ranges are clamped by the producer's fused
// activation (RELU, RELU6, RELU_N1_TO_1), as the kernels clamp codes.
// Input 0 takes its parameters from Options.InputRange when given, so
// that every 8-bit pixel value maps to its own code.
//
// Some operators fix their output parameters, because the int8 kernels
// assume them: SOFTMAX and LOGISTIC output scale 1/256, zero point −128;
// TANH 1/128, 0. MAX_POOL_2D, AVERAGE_POOL_2D, RESHAPE, SQUEEZE, PAD and
// TRANSPOSE move or compare codes without rescaling, so their output has
// its input's parameters (TensorFlow's restrict_same_input_output_scale);
// both tensors then take the parameters of the union of their ranges.
//
// CONCATENATION needs every input to have the output's parameters:
// TensorFlow Lite 2.9's int8 kernel refuses to prepare otherwise
// (TestConcatNeedsSharedParams). TensorFlow's quantiser puts a
// requantising QUANTIZE in front of each input whose parameters differ.
// We first let an input's producer write the concatenation's parameters
// directly when nothing else reads that tensor (the output range covers
// every input's, so nothing is clipped and no operator is added), and add
// the QUANTIZE only for inputs that other operators also read, or whose
// parameters are fixed.
//
// # Weights and biases
//
// Weights are symmetric int8 in [−127, 127], zero point 0: per output
// channel for CONV_2D (axis 0 of [out, kh, kw, in]) and DEPTHWISE_CONV_2D
// (axis 3 of [1, kh, kw, out]), per tensor for FULLY_CONNECTED, as
// TensorFlow 2 does by default (per-channel FULLY_CONNECTED needs newer
// runtimes than the 2.9 we target). A channel whose weights are all zero
// gets the largest scale of its siblings rather than TensorFlow's 0, which
// would zero the channel's bias scale and drop its bias. Biases are int32
// with zero point 0 and scale s_in × s_w per channel, so they add straight
// onto the accumulator; where a bias would not fit in half the int32
// range, the weight scale is widened first, as TensorFlow's
// AdjustWeightsForBiasScale does. Float constants read by ADD, SUB and MUL
// (a folded batch normalisation, say) and PRELU's alpha are quantised like
// activations, from their own values (TensorFlow's
// quantize_input_as_activations; for PRELU's alpha TensorFlow uses a
// symmetric weight instead, which wastes half the codes on an alpha that is
// never negative).
//
// # The written model
//
// Operators keep their order and options; operator versions are the ones
// TensorFlow's converter writes for int8 (tools/versioning/op_version.cc:
// CONV_2D 3, FULLY_CONNECTED 4, or 6 without bias, MUL 3 when its
// effective multiplier is 1 or more, ...), one operator code per builtin at
// the highest version its operators need. Tensors keep their names and
// shapes but lose their shape signature: the int8 model has static shapes,
// which the Edge TPU delegate requires. The calibrated range is kept as
// min/max beside each activation's parameters, as TensorFlow does. The
// description and metadata entries (labels, normalisation, TensorFlow's
// min_runtime_version, which it too leaves as the float model had it) are
// copied. With Options.IO = Uint8 the model takes and returns uint8, with
// a QUANTIZE after the input and before each output, as TensorFlow does for
// inference_input_type=uint8: the uint8 tensors keep the original names
// and the int8 ones get the suffix "_int8". Quantize loads the result in
// the native engine before returning it.
//
// # Not handled
//
// Models that are already quantised (including float16 ones, whose
// DEQUANTIZE operators expand their weights), models with several inputs
// or subgraphs, operators without an int8 rule here (the error names the
// operator and its index), fused TANH or SIGN_BIT activations, PADV2
// (whose options the model writer does not model), int16 activations.
package ptq
