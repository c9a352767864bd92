// Package featuremap computes and draws the feature maps of a model: the
// intermediate tensors a convolutional network computes for one image,
// every channel as a small grey (or false-colour) picture, as the
// workshop shows what the fruit CNN's filters respond to.
//
// An Extractor runs subgraph 0 of a model with the native engine on one
// image, preprocessed as the agent preprocesses it (the model's metadata:
// normalisation, colour order, resize and fit; see infer.NewClassifier). The
// chosen tensors, named or numbered as `convert inspect` lists them, are
// pinned in the engine (native.Options.PinTensors) so that the arena
// planner never gives their memory to a later activation; they are read
// after Invoke (native.Interpreter.Kept) without copying the arena, and
// the other activations still share memory as usual.
//
// Each chosen tensor becomes a Map: its elements for the first image of
// the batch, dequantised (real = scale·(q − zero_point), TFLite
// quantisation spec, per-axis scales included), laid out as
// [height][width][channels] (NHWC; a rank-3 tensor is one row per channel,
// a vector is one channel).
//
// Map.Normalize turns each channel into display values the way the
// workshop (and the Keras filter-visualisation example it follows) does:
//
//	v = clip((x − mean) / std · 64 + 128, 0, 255), truncated to uint8
//
// with mean and the population standard deviation taken over the
// channel's height×width values; a constant channel (std = 0) is flat
// 128. Plan lays the channels out as tiles, one grid per tensor under a
// caption with the tensor's index, name, type and shape; small tiles are
// enlarged by whole factors and vectors wrapped into blocks.
// Renderer.Render draws them with a ColorMap: gray, or matplotlib's
// perceptually uniform viridis and inferno tables. The picture is an
// image.Paletted whose palette is the colour map, so any map costs one
// byte per pixel, and EncodePNG writes it at PNG's fastest compression.
//
// The values are the engine's. featuremap_tflite_test.go proves them
// against the real TensorFlow Lite runtime: the model is cut so that the
// chosen tensors become outputs (tfl.Model.WithOutputs, written with
// tfl.Write), run by the TFLite C library, and compared after
// dequantisation.
package featuremap
