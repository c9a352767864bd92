// Package kerasref is an independent float forward pass of a Keras layer
// graph (internal/keras), the oracle the Keras to TFLite converter is
// checked against.
//
// It is written from Keras' documented semantics, not from fruitcam's TFLite
// kernels, so that a converter bug and a kernel bug cannot agree with each
// other: every layer is a plain loop over the output in Keras' own layouts
// (channels-last activations, Dense kernels [in, out], convolution kernels
// [kh, kw, in, out], depthwise kernels [kh, kw, in, multiplier] whose output
// channel is in*multiplier + m, separable pointwise kernels
// [1, 1, in*multiplier, out]). Sums are accumulated in float64 and every
// layer output is rounded to float32, as a float32 Keras model stores it.
//
// Padding follows TensorFlow: "same" gives ceil(in/stride) outputs and pads
// max((out-1)*stride + (k-1)*dilation + 1 - in, 0) in total, the odd element
// after (bottom/right). Same-padded average pooling divides by the number of
// real input elements under the window, max pooling ignores the padding.
//
// Speed is not a goal: the pass is meant for tests, one sample at a time.
//
// Activations follow the Keras that saved the model (Model.KerasVersion):
// hard_sigmoid is clip(0.2x + 0.5, 0, 1) in Keras 2 and relu6(x + 3)/6 in
// Keras 3. A model that does not say which is taken as Keras 2.
package kerasref
