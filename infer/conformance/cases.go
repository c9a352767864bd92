package conformance

// Image inputs shared by every image classifier: the Coral test photos
// (BMP and the raw 224×224 RGB dumps), two Fruits-360 photos and two noise
// tensors. Noise exercises the whole input range, which photos do not.
var imageSources = []Source{
	{Kind: Image, Path: "images/coral/bird.bmp"},
	{Kind: Image, Path: "images/coral/cat.bmp"},
	{Kind: Image, Path: "images/coral/grace_hopper.bmp"},
	{Kind: Image, Path: "images/coral/sunflower.bmp"},
	{Kind: Image, Path: "images/fruits360/Test/Banana/102_100.jpg"},
	{Kind: Image, Path: "images/fruits360/Test/Pineapple/12_100.jpg"},
	{Kind: RawRGB, Path: "images/coral/bird.rgb", W: 224, H: 224},
	{Kind: RawRGB, Path: "images/coral/sunflower.rgb", W: 224, H: 224},
	{Kind: Random, Seed: 1},
	{Kind: Random, Seed: 2},
}

func randomSources(seeds ...uint64) []Source {
	out := make([]Source, len(seeds))
	for i, s := range seeds {
		out[i] = Source{Kind: Random, Seed: s}
	}
	return out
}

// bits is n as a little-endian binary vector of width w (the fizzbuzz
// model's input encoding).
func bits(n, w int) []float64 {
	out := make([]float64, w)
	for i := range out {
		out[i] = float64(n >> i & 1)
	}
	return out
}

// Cases lists every model in the test data that TensorFlow Lite runs and
// the native backend is meant to run. Left out, and covered by the refusal
// tests instead: the Edge TPU models, model_invoking_error.tflite (an
// unregistered custom op), person_detect.tflite (invalid
// quantized_dimension, refused by TFLite too) and keras_lstm_mnist_ptq.tflite
// (UNIDIRECTIONAL_SEQUENCE_LSTM is not a native op).
var Cases = []Case{
	{Model: "models/coral/mobilenet_v1_0.25_128_quant.tflite", Norm: NormSymmetric, Sources: imageSources},
	{Model: "models/coral/mobilenet_v1_0.5_160_quant.tflite", Norm: NormSymmetric, Sources: imageSources},
	{Model: "models/coral/mobilenet_v2_1.0_224_quant.tflite", Norm: NormSymmetric, Sources: imageSources},
	{Model: "models/coral/tf2_mobilenet_v2_1.0_224_ptq.tflite", Norm: NormSymmetric, Sources: imageSources},
	{Model: "models/mlperf_tiny/pretrainedResnet.tflite", Norm: NormNone, Lo: 0, Hi: 255, Sources: imageSources},
	{Model: "models/mlperf_tiny/pretrainedResnet_quant.tflite", Norm: NormNone, Sources: imageSources},
	{Model: "models/mlperf_tiny/vww_96_float.tflite", Norm: NormUnit, Lo: 0, Hi: 1, Sources: imageSources},
	{Model: "models/mlperf_tiny/vww_96_int8.tflite", Norm: NormUnit, Sources: imageSources},
	// The PyTorch MobileNet v2 takes NCHW: photos are transposed.
	{Model: "models/tflm/mobilenet_v2_quantized_1x3x224x224.tflite", Norm: NormImageNet, Layout: NCHW, Sources: imageSources},
	// Keyword spotting (49×10 MFCC) and anomaly detection (640 log-mel
	// features): no feature files in the test data, so seeded noise over
	// the whole int8 range.
	{Model: "models/mlperf_tiny/kws_ref_model.tflite", Sources: randomSources(1, 2, 3, 4)},
	{Model: "models/mlperf_tiny/ad01_int8.tflite", Sources: randomSources(1, 2, 3, 4)},
	// hello_world learns sin(x) on [0, 2π].
	{Model: "models/tflm/hello_world_int8.tflite", Sources: append([]Source{
		{Kind: Values, Values: []float64{0}},
		{Kind: Values, Values: []float64{1.5707963}},
		{Kind: Values, Values: []float64{3.1415927}},
		{Kind: Values, Values: []float64{4.712389}},
		{Kind: Values, Values: []float64{6}},
	}, randomSources(1, 2)...)},
	{Model: "models/go-tflite/xor_model.tflite", Lo: 0, Hi: 1, Sources: append([]Source{
		{Kind: Values, Values: []float64{0, 0}},
		{Kind: Values, Values: []float64{0, 1}},
		{Kind: Values, Values: []float64{1, 0}},
		{Kind: Values, Values: []float64{1, 1}},
	}, randomSources(1, 2)...)},
	{Model: "models/go-tflite/fizzbuzz_model.tflite", Lo: 0, Hi: 1, Sources: append([]Source{
		{Kind: Values, Values: bits(3, 7)},
		{Kind: Values, Values: bits(5, 7)},
		{Kind: Values, Values: bits(15, 7)},
		{Kind: Values, Values: bits(98, 7)},
	}, randomSources(1, 2)...)},
}
