package preprocess

import (
	"fmt"
	"math"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// caffeMean are the ImageNet channel means Keras' "caffe" mode subtracts,
// indexed by colour (R, G, B).
var caffeMean = [3]float32{123.68, 116.779, 103.939}

// Value is the real number pixel value v of colour channel c (0 R, 1 G,
// 2 B; -1 for luma) becomes under n, computed in float32 in the order
// NumPy computes Keras' preprocess_input, so float inputs match the
// Python pipeline bit for bit.
func Value(n Normalize, c int, v uint8) float32 {
	x := float32(v)
	switch n {
	case Unit:
		return x / 255
	case Symmetric:
		return x/127.5 - 1
	case Caffe:
		if c < 0 || c > 2 {
			return x
		}
		return x - caffeMean[c]
	}
	return x
}

// affine returns (a, b) such that Value(n, c, v) = a*v + b.
func affine(n Normalize, c int) (a, b float64) {
	switch n {
	case Unit:
		return 1.0 / 255, 0
	case Symmetric:
		return 1 / 127.5, -1
	case Caffe:
		return 1, -float64(caffeMean[c])
	}
	return 1, 0
}

// lut maps an 8-bit value to the bytes of one tensor element, per output
// channel; src[k] is the packed-pixel channel output channel k reads.
type lut struct {
	src   [3]int
	b     [3][256]uint8  // uint8 and int8 tensors (int8 as its two's complement byte)
	f     [3][256]uint32 // float32 tensors, as bits
	exact bool
}

// newLUT precomputes every element value. For quantised tensors the value
// is quant.AffineQuantize(Value(v), scale, zero point): round half away
// from zero and clamp, as TFLite's QUANTIZE does.
//
// One exception keeps the standard pipeline's numbers: when the tensor's
// own quantisation already maps raw pixels onto the normalised range
// (PixelsExact), the pixel value itself is written (minus 128 for int8),
// exactly as Coral's and TFLite's example classifiers feed such models.
// Normalising then re-quantising would instead move many values by one
// step, because 1/127.5 and the model's 1/128 differ slightly.
func newLUT(s Spec, t Tensor) (lut, error) {
	var l lut
	if s.Normalize == Caffe && s.Channels != 3 {
		return l, fmt.Errorf("preprocess: caffe normalisation subtracts per-colour means and needs 3 channels, the input has %d", s.Channels)
	}
	colour := [3]int{0, 1, 2}
	if s.Channels == 1 {
		colour[0] = -1
	} else if s.ColorOrder == BGR {
		colour = [3]int{2, 1, 0}
	}
	for k := range s.Channels {
		l.src[k] = max(colour[k], 0)
	}
	switch t.Type {
	case tfl.Float32:
		for k := range s.Channels {
			for v := range 256 {
				l.f[k][v] = math.Float32bits(Value(s.Normalize, colour[k], uint8(v)))
			}
		}
		return l, nil
	case tfl.Uint8, tfl.Int8:
	default:
		return l, fmt.Errorf("preprocess: input tensor type %s: only float32, uint8 and int8 inputs are supported", t.Type)
	}
	if !(t.Scale > 0) || math.IsInf(float64(t.Scale), 0) {
		return l, fmt.Errorf("preprocess: quantised %s input has scale %g: it must be positive and finite", t.Type, t.Scale)
	}
	qmin, qmax := quant.TypeRange(t.Type == tfl.Int8)
	l.exact = true
	for k := range s.Channels {
		l.exact = l.exact && PixelsExact(s.Normalize, max(colour[k], 0), t)
	}
	for k := range s.Channels {
		for v := range 256 {
			var q int32
			if l.exact {
				q = int32(v) + qmin
			} else {
				q = quant.AffineQuantize(Value(s.Normalize, colour[k], uint8(v)), float64(t.Scale), t.ZeroPoint, qmin, qmax)
			}
			l.b[k][v] = uint8(q)
		}
	}
	return l, nil
}

// PixelsExact reports whether a quantised tensor takes raw pixels: with
// q = v + qmin (v itself for uint8, v-128 for int8) its real value
// scale*(q-zp) is the normalised a*v+b to within 1% in slope and one
// quantisation step in offset. Coral's classify.py applies the same test
// (|scale*std - 1| < 1e-5, mean = zero point) before feeding pixels
// unchanged; ours is looser so that 1/128 counts as 1/127.5.
func PixelsExact(n Normalize, colour int, t Tensor) bool {
	if t.Type != tfl.Uint8 && t.Type != tfl.Int8 || !(t.Scale > 0) {
		return false
	}
	a, b := affine(n, colour)
	qmin, _ := quant.TypeRange(t.Type == tfl.Int8)
	scale := float64(t.Scale)
	return math.Abs(scale/a-1) <= 0.01 && math.Abs(float64(qmin-t.ZeroPoint)-b/scale) <= 1
}

// GuessNormalize picks a normalisation for a model without metadata from
// its input tensor:
//
//   - float32 inputs carry no hint: Unit (x/255), the most common choice
//     for small Keras models such as the workshop's CNN; pass the right
//     one explicitly for others.
//   - quantised inputs reveal the real range the model was calibrated on,
//     scale*(qmin-zp) .. scale*(qmax-zp). Within 5% of the range's width
//     of [-1, 1] that is Symmetric, of [0, 1] Unit, of [0, 255] None.
//     Any other range is an error asking for an explicit choice.
func GuessNormalize(t Tensor) (Normalize, error) {
	switch t.Type {
	case tfl.Float32:
		return Unit, nil
	case tfl.Uint8, tfl.Int8:
	default:
		return "", fmt.Errorf("preprocess: input tensor type %s: only float32, uint8 and int8 inputs are supported", t.Type)
	}
	qmin, qmax := quant.TypeRange(t.Type == tfl.Int8)
	lo := float64(t.Scale) * float64(qmin-t.ZeroPoint)
	hi := float64(t.Scale) * float64(qmax-t.ZeroPoint)
	for _, c := range []struct {
		n      Normalize
		lo, hi float64
	}{{Symmetric, -1, 1}, {Unit, 0, 1}, {None, 0, 255}} {
		tol := 0.05 * (c.hi - c.lo)
		if math.Abs(lo-c.lo) <= tol && math.Abs(hi-c.hi) <= tol {
			return c.n, nil
		}
	}
	return "", fmt.Errorf("preprocess: cannot tell the normalisation from the input's real range [%.4g, %.4g] (%s scale %g zero point %d); set it explicitly (unit, symmetric, caffe or none)",
		lo, hi, t.Type, t.Scale, t.ZeroPoint)
}
