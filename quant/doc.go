// Package quant is the one home of fruitcam's int8/uint8 quantisation
// arithmetic, shared by the native interpreter and the converter.
//
// Real values are represented affinely, real = scale × (q − zeroPoint), as in
// the TensorFlow Lite quantisation specification
// (https://www.tensorflow.org/lite/performance/quantization_spec). Kernels
// never multiply by a float scale at run time: a real multiplier M is turned
// once, at load, into a Q31 fixed-point significand and a power-of-two
// exponent (QuantizeMultiplier), and applied with the same saturating,
// rounding integer operations as TFLite's reference kernels (gemmlowp's
// SaturatingRoundingDoublingHighMul and RoundingDivideByPOT). Matching those
// bit for bit is what lets our outputs equal TFLite's.
package quant
