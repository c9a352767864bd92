// Package preprocess turns images into model input: decode (JPEG, PNG,
// BMP), fit and resize to the model's height and width, convert colour,
// normalise, and quantise straight into one image slot of an input
// tensor's bytes.
//
// # Compatibility
//
// Models are trained in Python, mostly through Keras' load_img (PIL) and
// preprocess_input, and a classifier only reproduces its accuracy when it
// sees the same numbers. So the steps follow those libraries:
//
//   - Resize "nearest" is PIL's Image.resize(NEAREST), Keras load_img's
//     default; "bilinear" is PIL's BILINEAR with its antialiasing support
//     scaling when downscaling, in PIL's fixed point; "area" is exact
//     fractional box averaging (TensorFlow's and OpenCV's convention). All
//     three produce 8-bit pixels, as PIL does.
//   - Fit "crop" is load_img(keep_aspect_ratio=True): the centred region
//     with the model's aspect ratio, then resize. "squash" stretches.
//   - Grayscale models get PIL's convert("L") luma, taken before resizing.
//   - Normalisations are computed in float32 in NumPy's order: "unit"
//     x/255, "symmetric" x/127.5-1 (Keras mode "tf"), "caffe" BGR minus
//     the ImageNet means (Keras mode "caffe"), "none".
//   - Quantised inputs get round-half-away-from-zero of x/scale plus the
//     zero point, clamped (TFLite's QUANTIZE), except that a tensor whose
//     quantisation already maps raw pixels onto the normalised range gets
//     the raw pixels, as TFLite's and Coral's examples feed them (see
//     PixelsExact).
//
// What cannot match exactly is decoding: Go's JPEG decoder converts
// YCbCr and upsamples chroma slightly differently from libjpeg, so
// pixels of a JPEG may differ from PIL's by a level or two.
//
// # Models without metadata
//
// A model converted by fruitcam says how it wants its input (package
// infer reads that). For others, GuessNormalize infers the normalisation
// from a quantised input's real range; float inputs default to x/255.
//
// # Cost
//
// Decoding checks the header first and refuses images over Limits before
// allocating pixels. A Preprocessor keeps its scratch buffers, reads the
// pixel slices of *image.YCbCr, *image.RGBA, *image.NRGBA, *image.Gray and
// *image.Paletted directly, and normalises and quantises through a
// 256-entry table per channel computed once.
package preprocess
