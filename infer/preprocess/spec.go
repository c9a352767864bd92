package preprocess

import (
	"fmt"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// Normalize names how 8-bit pixel values v become the real numbers the
// model was trained on.
type Normalize string

const (
	// Unit is v/255, in [0, 1] (Keras Rescaling(1/255), the workshop CNN).
	Unit Normalize = "unit"
	// Symmetric is v/127.5 - 1, in [-1, 1] (Keras preprocess_input mode
	// "tf": MobileNet, Inception).
	Symmetric Normalize = "symmetric"
	// Caffe subtracts the ImageNet channel means (B 103.939, G 116.779,
	// R 123.68) without scaling (Keras mode "caffe": VGG, ResNet50). It
	// implies BGR channel order unless the colour order is set explicitly;
	// each mean stays with its colour whatever the order.
	Caffe Normalize = "caffe"
	// None feeds v unchanged, in [0, 255].
	None Normalize = "none"
)

// ColorOrder is the order of the colour channels in the input tensor.
type ColorOrder string

const (
	RGB ColorOrder = "rgb"
	BGR ColorOrder = "bgr"
)

// Resize names the resampling filter.
type Resize string

const (
	// Nearest picks one source pixel per output pixel exactly as PIL's
	// Image.resize(NEAREST) does, which is what Keras load_img uses by
	// default: output x maps to source floor(box0 + (x+0.5)*in/out), with
	// the position accumulated in float64 as PIL does.
	Nearest Resize = "nearest"
	// Bilinear is PIL's Image.resize(BILINEAR): a triangle filter whose
	// support widens by the scale factor when downscaling (so it
	// antialiases, unlike TensorFlow's tf.image.resize bilinear without
	// antialias), applied horizontally then vertically in PIL's 22-bit
	// fixed point, with the intermediate rounded to 8 bits as PIL does.
	Bilinear Resize = "bilinear"
	// Area averages the source pixels under each output pixel, weighted
	// by the exact fractional overlap (the convention of TensorFlow's
	// resize "area" and OpenCV's INTER_AREA, not PIL's BOX filter, which
	// takes whole pixels only). The result is rounded to 8 bits.
	Area Resize = "area"
)

// Fit says how an image whose aspect ratio differs from the model's is
// made to fit.
type Fit string

const (
	// Squash stretches the whole image to the model's size (Keras
	// load_img's default).
	Squash Fit = "squash"
	// Crop first takes the largest centred region with the model's aspect
	// ratio, as Keras load_img(keep_aspect_ratio=True) does.
	Crop Fit = "crop"
)

// Layout is the order of the input tensor's dimensions.
type Layout string

const (
	// NHWC is TensorFlow's [batch, height, width, channels].
	NHWC Layout = "nhwc"
	// NCHW is [batch, channels, height, width], found in models
	// converted from PyTorch.
	NCHW Layout = "nchw"
)

// ParseNormalize, ParseColorOrder, ParseResize and ParseFit accept the
// names used in model metadata, configs and command-line flags. The empty
// string is accepted and means "not set".
func ParseNormalize(s string) (Normalize, error) {
	switch n := Normalize(s); n {
	case "", Unit, Symmetric, Caffe, None:
		return n, nil
	}
	return "", fmt.Errorf("preprocess: unknown normalisation %q (want unit, symmetric, caffe or none)", s)
}

// ParseColorOrder: see ParseNormalize.
func ParseColorOrder(s string) (ColorOrder, error) {
	switch c := ColorOrder(s); c {
	case "", RGB, BGR:
		return c, nil
	}
	return "", fmt.Errorf("preprocess: unknown colour order %q (want rgb or bgr)", s)
}

// ParseResize: see ParseNormalize.
func ParseResize(s string) (Resize, error) {
	switch r := Resize(s); r {
	case "", Nearest, Bilinear, Area:
		return r, nil
	}
	return "", fmt.Errorf("preprocess: unknown resize method %q (want nearest, bilinear or area)", s)
}

// ParseFit: see ParseNormalize.
func ParseFit(s string) (Fit, error) {
	switch f := Fit(s); f {
	case "", Squash, Crop:
		return f, nil
	}
	return "", fmt.Errorf("preprocess: unknown fit %q (want squash or crop)", s)
}

// Spec is everything needed to turn an image into one slot of an input
// tensor. The zero values of the string fields select the defaults:
// nearest, squash, unit, and RGB (BGR with caffe).
type Spec struct {
	// Width, Height and Channels (1 for grayscale, 3 for colour) of one
	// image in the tensor.
	Width, Height, Channels int
	Layout                  Layout
	Resize                  Resize
	Fit                     Fit
	ColorOrder              ColorOrder
	Normalize               Normalize
}

// Tensor describes the destination tensor's element type and per-tensor
// quantisation (real = Scale*(q-ZeroPoint); Scale is ignored for Float32).
type Tensor struct {
	Type      tfl.TensorType
	Scale     float32
	ZeroPoint int32
}

// maxSide bounds a model input side; larger is a malformed model, not an
// image classifier.
const maxSide = 1 << 14

// withDefaults fills unset fields and checks the rest.
func (s Spec) withDefaults() (Spec, error) {
	if s.Width <= 0 || s.Height <= 0 || s.Width > maxSide || s.Height > maxSide {
		return s, fmt.Errorf("preprocess: input size %dx%d out of range (1..%d)", s.Width, s.Height, maxSide)
	}
	if s.Channels != 1 && s.Channels != 3 {
		return s, fmt.Errorf("preprocess: %d channels: only 1 (grayscale) and 3 (colour) are supported", s.Channels)
	}
	var err error
	if s.Layout != NHWC && s.Layout != NCHW {
		if s.Layout != "" {
			return s, fmt.Errorf("preprocess: unknown layout %q (want nhwc or nchw)", s.Layout)
		}
		s.Layout = NHWC
	}
	if s.Resize, err = ParseResize(string(s.Resize)); err != nil {
		return s, err
	}
	if s.Fit, err = ParseFit(string(s.Fit)); err != nil {
		return s, err
	}
	if s.ColorOrder, err = ParseColorOrder(string(s.ColorOrder)); err != nil {
		return s, err
	}
	if s.Normalize, err = ParseNormalize(string(s.Normalize)); err != nil {
		return s, err
	}
	if s.Resize == "" {
		s.Resize = Nearest
	}
	if s.Fit == "" {
		s.Fit = Squash
	}
	if s.Normalize == "" {
		s.Normalize = Unit
	}
	if s.ColorOrder == "" {
		s.ColorOrder = RGB
		if s.Normalize == Caffe {
			s.ColorOrder = BGR
		}
	}
	return s, nil
}

// ShapeSpec reads the image size, channel count and layout from an input
// tensor shape: [N, H, W, C] or, when only the second dimension is a
// channel count, [N, C, H, W].
func ShapeSpec(shape []int) (Spec, error) {
	if len(shape) != 4 {
		return Spec{}, fmt.Errorf("preprocess: input shape %v: an image input is [batch, height, width, channels]", shape)
	}
	isCh := func(d int) bool { return d == 1 || d == 3 }
	switch {
	case isCh(shape[3]):
		return Spec{Height: shape[1], Width: shape[2], Channels: shape[3], Layout: NHWC}, nil
	case isCh(shape[1]):
		return Spec{Channels: shape[1], Height: shape[2], Width: shape[3], Layout: NCHW}, nil
	}
	return Spec{}, fmt.Errorf("preprocess: input shape %v has no channel dimension of 1 or 3: not an image input", shape)
}
