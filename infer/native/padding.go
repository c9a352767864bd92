package native

import (
	"fmt"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// window2D is the geometry of a 2-D sliding window (convolution or
// pooling) along one spatial axis pair, computed as TFLite's
// ComputePaddingHeightWidth (kernels/padding.h) does.
type window2D struct {
	outH, outW int
	// padT, padL are the rows/columns of implicit padding before the
	// first input row/column. TFLite puts the odd extra padding of SAME
	// at the bottom/right, so only the leading amount matters to kernels.
	padT, padL int
}

// computeWindow returns the output size and leading padding of a window of
// filterH x filterW taps with the given strides and dilations over an
// inH x inW input. It fails for non-positive parameters and for windows
// that produce no output.
func computeWindow(pad tfl.Padding, inH, inW, filterH, filterW, strideH, strideW, dilH, dilW int) (window2D, error) {
	var w window2D
	switch {
	case strideH <= 0 || strideW <= 0:
		return w, fmt.Errorf("invalid stride %dx%d", strideH, strideW)
	case dilH <= 0 || dilW <= 0:
		return w, fmt.Errorf("invalid dilation %dx%d", dilH, dilW)
	case filterH <= 0 || filterW <= 0:
		return w, fmt.Errorf("invalid filter size %dx%d", filterH, filterW)
	case pad != tfl.PaddingSame && pad != tfl.PaddingValid:
		return w, fmt.Errorf("unknown padding %s", pad)
	}
	var padH, padW int
	w.outH, padH = windowAxis(pad, inH, filterH, strideH, dilH)
	w.outW, padW = windowAxis(pad, inW, filterW, strideW, dilW)
	if w.outH <= 0 || w.outW <= 0 {
		return w, fmt.Errorf("%s window %dx%d (dilation %dx%d) does not fit input %dx%d",
			pad, filterH, filterW, dilH, dilW, inH, inW)
	}
	w.padT, w.padL = padH, padW
	return w, nil
}

// windowAxis is TFLite's ComputeOutSize followed by
// ComputePaddingWithOffset for one axis: SAME keeps ceil(in/stride)
// outputs and pads half the shortfall in front; VALID keeps only windows
// that fit and pads nothing.
func windowAxis(pad tfl.Padding, in, filter, stride, dilation int) (out, before int) {
	eff := (filter-1)*dilation + 1
	if pad == tfl.PaddingSame {
		out = (in + stride - 1) / stride
	} else {
		// C++ integer division truncates toward zero: a window larger
		// than the input gives 0 or a negative size, both refused.
		out = (in + stride - eff) / stride
		if in+stride-eff < 0 {
			out = -1
		}
	}
	total := (out-1)*stride + eff - in
	if total < 0 {
		total = 0
	}
	return out, total / 2
}
