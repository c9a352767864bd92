// Package lower turns a Keras layer graph (internal/keras) into a float32
// TensorFlow Lite model (infer/tfl) that computes what Keras computes at
// inference, operator for operator the way TensorFlow's own converter
// writes it, so that the model runs in fruitcam's native engine and in the
// real TensorFlow Lite runtime alike. It is the middle of `convert keras`:
// reading is internal/keras's job, int8 quantisation comes after.
//
// # What each layer becomes
//
//	InputLayer              model input [1, ...], ShapeSignature [-1, ...] (dynamic batch)
//	Conv2D                  CONV_2D, kernel [kh,kw,in,out] -> [out,kh,kw,in]
//	DepthwiseConv2D         DEPTHWISE_CONV_2D, kernel [kh,kw,c,m] -> [1,kh,kw,c*m] (same bytes)
//	SeparableConv2D         DEPTHWISE_CONV_2D (zero bias) then a 1x1 VALID CONV_2D with the bias
//	Dense                   FULLY_CONNECTED, kernel [in,out] -> [out,in]; keep_num_dims for rank > 2
//	BatchNormalization      folded into the producer, else MUL then ADD (see below)
//	Activation, ReLU, ...   RELU, RELU6, LOGISTIC, TANH, SOFTMAX (beta 1), LEAKY_RELU,
//	                        HARD_SWISH; swish/silu = MUL(x, LOGISTIC(x)); ReLU(max_value=1) =
//	                        RELU(RELU_N1_TO_1(x)); hard_sigmoid per Keras version (below);
//	                        LeakyReLU with Options.EdgeTPU: PRELU, constant alpha (below)
//	MaxPooling2D            MAX_POOL_2D
//	AveragePooling2D        AVERAGE_POOL_2D (SAME padding averages real elements only, as Keras)
//	GlobalAveragePooling2D  MEAN over axes [1, 2], keep_dims as the layer's keepdims
//	ZeroPadding2D           PAD with int32 paddings [4, 2]
//	Flatten, Reshape        RESHAPE to an int32 shape [-1, ...]
//	Dropout, linear         nothing: the output is the input tensor
//	Add, Multiply           ADD / MUL, a left-to-right chain for more than two inputs
//	Concatenate             CONCATENATION, axis made non-negative
//	Rescaling               MUL then ADD (identity parts left out)
//	Normalization           ADD(-mean) then MUL(1/max(sqrt(var), 1e-7)); inverted: MUL then ADD
//
// Layers that do not reach a model output are dropped. Anything else is an
// *UnsupportedError naming the layer, its class and what to do; a graph
// whose shapes or weights do not fit together is a *ModelError naming the
// layer. Activations the engine cannot run (elu, gelu, ...) are refused
// rather than approximated.
//
// Every convolution and dense layer gets a bias tensor, zeros when the
// layer has none, as TensorFlow's converter does: later folding and int8
// quantisation then treat all of them alike.
//
// # Fusion and batch-norm folding
//
// RELU and RELU6 become the fused activation of the CONV_2D,
// DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD or MUL that produces their input,
// and an inference-time BatchNormalization, y = x*s + t with
// s = gamma/sqrt(var+eps) and t = beta - mean*s, is folded into the
// convolution or dense layer before it: w' = w*s per output channel,
// b' = b*s + t, computed in float64 and rounded once. Both rewrites change
// the producer's output tensor, so they are done only when that is exact:
// the producer's output is linear (no activation of its own, nothing fused
// yet), the batch normalisation runs along the output channels, and no
// other layer (and no model output) reads the tensor being rewritten.
// Otherwise the batch normalisation becomes MUL and ADD with per-channel
// constants that broadcast from its axis, and the activation its own
// operator. A layer's own activation (Conv2D(activation="relu")) is always
// fused, since Keras never exposes the value before it.
//
// # Names
//
// Tensors are named after Keras layers so that `convert inspect` and
// feature maps read like the Keras summary: a layer's output is its name
// ("conv2d_1"), its constants "conv2d_1/kernel", "conv2d_1/bias",
// "flatten/shape"; intermediate results "dense/linear" (before a separate
// activation), "sep/depthwise", "add/partial_1". When a layer is folded or
// fused into its producer, the producer's output takes the name of the
// last layer it now computes (conv2d -> batch_normalization -> activation
// gives one CONV_2D whose output is "activation"). Result.Notes records
// every such rewrite in one line.
//
// # Input normalisation
//
// Keras models often begin with Rescaling(1/255) or a Normalization. When
// the model has one image input (1 or 3 channels) and its first layers are
// such affine layers, and the affine map of the first k of them equals one
// of package preprocess's presets applied to raw pixels 0..255 - unit
// (x/255), symmetric (x/127.5 - 1) or none (identity) - those k layers are
// removed and Result.InputNormalize names the preset (the longest such
// prefix wins). The agent then normalises exactly that way when it fills
// the input, so the model is one operator shorter and its int8 input
// quantisation maps pixels directly. Leading affine layers that do not
// match are lowered to MUL/ADD and InputNormalize is none: the model takes
// raw pixels. Without leading affine layers InputNormalize is "" and the
// normalisation the model was trained with must come from elsewhere
// (`convert keras --normalize`).
//
// # Operator versions and activation formulas
//
// Operator versions are those TensorFlow's converter writes for float32
// (tensorflow/lite/tools/versioning/op_version.cc): 1, except
// DEPTHWISE_CONV_2D with dilation (2) and FULLY_CONNECTED with
// keep_num_dims (5). Keras' hard_sigmoid changed with Keras 3: Keras 2
// computes clip(0.2x + 0.5, 0, 1) (MUL, ADD, RELU_N1_TO_1, RELU), Keras 3
// relu6(x + 3)/6 (ADD with fused RELU6, MUL); the version comes from
// keras.Model.KerasVersion and a file that does not record it is refused.
// Keras 3's leaky_relu activation has slope 0.2.
//
// # Edge TPU
//
// The Edge TPU compiler maps PRELU but not LEAKY_RELU, and cuts the graph
// at the first operator it cannot map: everything after it runs on the
// CPU. With Options.EdgeTPU, LeakyReLU(a) - the layer, ReLU with a
// negative_slope and the leaky_relu activation - becomes PRELU(x, alpha)
// with a constant alpha that repeats float32(a) once per channel, shaped
// 1 everywhere but the last dimension: [1, 1, C] for an [N, H, W, C] map
// (Keras' PReLU with shared_axes=[1, 2]), [C] for a dense layer's
// [N, C]. That is the alpha shape the compiler requires (only the
// innermost dimension above 1), and TFLite broadcasts it over the batch
// and spatial dimensions. PRELU computes x for x >= 0 and a·x otherwise,
// LEAKY_RELU x for x > 0 and a·x otherwise: the same values (at 0 both
// give 0). PRELU is version 1, the only version TFLite 2.9 registers.
// Quantised, PRELU's alpha is an int8 constant of its own and its kernel
// multiplies codes where LEAKY_RELU's applies a fixed multiplier, so the
// two int8 models may differ by a step where rounding falls differently.
// TFLite broadcasts PRELU's alpha up to rank 4 only; a LeakyReLU on a
// deeper tensor stays LEAKY_RELU, with a note. Nothing else changes.
package lower
