package native

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/fruitcam/fruitcam/infer/native/gemm"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// Helpers shared by the operators built on the GEMM core (CONV_2D,
// DEPTHWISE_CONV_2D, FULLY_CONNECTED): activation and type checks,
// quantisation validation and the output multipliers, computed exactly as
// TFLite's kernel_util.cc does.

// fusedActivation maps a fused activation to quant's constants, refusing
// the ones TFLite's convolution kernels do not implement either.
func fusedActivation(a tfl.Activation) (int, error) {
	switch a {
	case tfl.ActNone:
		return quant.ActNone, nil
	case tfl.ActRelu:
		return quant.ActRelu, nil
	case tfl.ActRelu6:
		return quant.ActRelu6, nil
	case tfl.ActReluN1To1:
		return quant.ActReluN1To1, nil
	}
	return 0, fmt.Errorf("fused activation %s is not supported (only NONE, RELU, RELU6, RELU_N1_TO_1)", a)
}

// weightOp describes the tensors of a convolution-like operator after
// validation.
type weightOp struct {
	in, filter, bias, out *Tensor
	typ                   tfl.TensorType // of input, output and (except hybrids, refused) filter
	channels              int            // output channels
	channelDim            int            // filter dimension holding the output channels
}

// checkWeightOp validates types, constness, quantisation and bias of a
// convolution-like operator whose filter has its output channels along
// channelDim. It does not check shapes other than the bias length.
func checkWeightOp(n *node, channelDim int) (*weightOp, error) {
	if len(n.in) < 2 || len(n.out) != 1 {
		return nil, fmt.Errorf("needs 2 or 3 inputs and 1 output, has %d and %d", len(n.in), len(n.out))
	}
	w := &weightOp{in: n.input(0), filter: n.input(1), bias: n.input(2), out: n.out[0]}
	if w.in == nil || w.filter == nil {
		return nil, fmt.Errorf("input and filter are required")
	}
	if channelDim >= len(w.filter.Shape) {
		return nil, fmt.Errorf("filter has rank %d", len(w.filter.Shape))
	}
	w.channelDim = channelDim
	w.channels = w.filter.Shape[channelDim]
	w.typ = w.in.Type
	switch w.typ {
	case tfl.Float32, tfl.Uint8, tfl.Int8:
	default:
		return nil, fmt.Errorf("input type %s is not supported (float32, uint8, int8)", w.typ)
	}
	if w.out.Type != w.typ {
		return nil, fmt.Errorf("input is %s but output is %s", w.typ, w.out.Type)
	}
	if w.filter.Type != w.typ {
		if w.typ == tfl.Float32 {
			return nil, fmt.Errorf("hybrid operator (float32 input, %s filter) is not supported", w.filter.Type)
		}
		return nil, fmt.Errorf("input is %s but filter is %s", w.typ, w.filter.Type)
	}
	if !w.filter.Const {
		return nil, fmt.Errorf("filter %q is not a constant tensor", w.filter.Name)
	}
	if len(w.filter.Data) != w.filter.ByteSize() {
		return nil, fmt.Errorf("filter %q has %d bytes, its shape %v needs %d", w.filter.Name, len(w.filter.Data), w.filter.Shape, w.filter.ByteSize())
	}
	if b := w.bias; b != nil {
		want := tfl.Int32
		if w.typ == tfl.Float32 {
			want = tfl.Float32
		}
		if b.Type != want {
			return nil, fmt.Errorf("bias is %s, want %s for a %s operator", b.Type, want, w.typ)
		}
		if !b.Const {
			return nil, fmt.Errorf("bias %q is not a constant tensor", b.Name)
		}
		if b.NumElements() != w.channels || len(b.Data) != b.ByteSize() {
			return nil, fmt.Errorf("bias has shape %v (%d bytes), want %d values", b.Shape, len(b.Data), w.channels)
		}
	}
	if w.typ == tfl.Float32 {
		return w, nil
	}
	for _, t := range []*Tensor{w.in, w.out} {
		if err := checkPerTensor(t); err != nil {
			return nil, err
		}
	}
	q := w.filter.Quant
	if q == nil || len(q.Scale) == 0 {
		return nil, fmt.Errorf("filter %q has no quantisation parameters", w.filter.Name)
	}
	if len(q.ZeroPoint) != len(q.Scale) && len(q.ZeroPoint) != 1 {
		return nil, fmt.Errorf("filter %q has %d scales but %d zero points", w.filter.Name, len(q.Scale), len(q.ZeroPoint))
	}
	if len(q.Scale) > 1 {
		if w.typ != tfl.Int8 {
			return nil, fmt.Errorf("per-channel quantisation needs int8, filter %q is %s", w.filter.Name, w.typ)
		}
		if q.Dim != channelDim || len(q.Scale) != w.channels {
			return nil, fmt.Errorf("filter %q has %d scales along dimension %d, want %d along dimension %d (output channels)",
				w.filter.Name, len(q.Scale), q.Dim, w.channels, channelDim)
		}
	}
	for _, s := range q.Scale {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return nil, fmt.Errorf("filter %q has invalid scale %g", w.filter.Name, s)
		}
	}
	qmin, qmax := quant.TypeRange(w.typ == tfl.Int8)
	for _, z := range q.ZeroPoint {
		if z < int64(qmin) || z > int64(qmax) {
			return nil, fmt.Errorf("filter %q has zero point %d outside %s's range", w.filter.Name, z, w.typ)
		}
	}
	return w, nil
}

// checkPerTensor checks that t carries one valid scale and zero point.
func checkPerTensor(t *Tensor) error {
	if t.Quant == nil || len(t.Quant.Scale) == 0 || len(t.ZeroPoint32) == 0 {
		return fmt.Errorf("tensor %q (%s) has no quantisation parameters", t.Name, t.Type)
	}
	if len(t.Quant.Scale) != 1 {
		return fmt.Errorf("tensor %q has %d scales, want one (per-tensor)", t.Name, len(t.Quant.Scale))
	}
	if s := t.Quant.Scale[0]; !(s > 0) || math.IsInf(float64(s), 0) {
		return fmt.Errorf("tensor %q has invalid scale %g", t.Name, s)
	}
	qmin, qmax := quant.TypeRange(t.Type == tfl.Int8)
	if z := t.ZeroPoint(); z < qmin || z > qmax {
		return fmt.Errorf("tensor %q has zero point %d outside %s's range", t.Name, z, t.Type)
	}
	return nil
}

// symmetricFilter checks that an int8 filter has zero points 0: TFLite's
// int8 convolution kernels ignore the filter zero point (the quantisation
// spec makes int8 weights symmetric), so another value cannot be honoured.
func (w *weightOp) symmetricFilter() error {
	if w.typ != tfl.Int8 {
		return nil
	}
	for _, z := range w.filter.Quant.ZeroPoint {
		if z != 0 {
			return fmt.Errorf("int8 filter %q has zero point %d; int8 weights must be symmetric (zero point 0)", w.filter.Name, z)
		}
	}
	return nil
}

// requant computes the output stage of a quantised operator. legacy
// selects TFLite's GetQuantizedConvolutionMultipler, which multiplies the
// input and filter scales in float32 before widening (used for uint8
// convolutions and for every fully connected layer); otherwise the
// per-channel form of PopulateConvolutionQuantizationParams, which
// multiplies in float64 (int8 convolutions, per-tensor or per-channel).
func (w *weightOp) requant(act int, legacy bool) (gemm.Requant, error) {
	inScale, outScale := w.in.Scale(), w.out.Scale()
	fs := w.filter.Quant.Scale
	var r gemm.Requant
	if legacy {
		if w.bias != nil && w.typ == tfl.Uint8 && w.bias.Quant != nil && len(w.bias.Quant.Scale) > 0 {
			// TFLite refuses uint8 models whose bias scale is not the
			// product of input and filter scales: the bias would be off.
			product := float64(inScale * fs[0])
			if math.Abs(product-float64(w.bias.Quant.Scale[0]))/float64(outScale) > 0.02 {
				return r, fmt.Errorf("bias scale %g is not input scale × filter scale (%g)", w.bias.Quant.Scale[0], product)
			}
		}
		real := float64(inScale*fs[0]) / float64(outScale)
		m, s := quant.QuantizeMultiplier(real)
		r.Multiplier, r.Shift = []int32{m}, []int{s}
	} else {
		for _, f := range fs {
			real := float64(inScale) * float64(f) / float64(outScale)
			m, s := quant.QuantizeMultiplier(real)
			r.Multiplier = append(r.Multiplier, m)
			r.Shift = append(r.Shift, s)
		}
	}
	signed := w.typ == tfl.Int8
	qmin, qmax := quant.TypeRange(signed)
	r.ZeroPoint = w.out.ZeroPoint()
	r.Min, r.Max = quant.ActivationRange(act, outScale, r.ZeroPoint, qmin, qmax)
	r.Uint8 = !signed
	if r.Min > r.Max {
		return r, fmt.Errorf("fused activation leaves an empty output range [%d, %d]", r.Min, r.Max)
	}
	return r, nil
}

// gemm packs the filter as an N×K matrix (N output channels along
// dimension 0, K the rest) and sets up the GEMM for the operator's type
// with the fused activation act.
func (w *weightOp) gemm(act int, legacy bool) (*gemm.Int8, *gemm.Float32, error) {
	return w.gemmOf(act, legacy, w.filter.Data)
}

// gemmOf is gemm with the filter's values taken from data (the filter's
// bytes, possibly reordered along K).
func (w *weightOp) gemmOf(act int, legacy bool, data []byte) (*gemm.Int8, *gemm.Float32, error) {
	n := w.channels
	k := w.filter.NumElements() / n
	if w.typ == tfl.Float32 {
		var bias []float32
		if w.bias != nil {
			bias = w.bias.Float32s()
		}
		lo, hi := quant.ActivationRangeFloat(act)
		g, err := gemm.NewFloat32(gemm.PackFloat32(view[float32](data), n, k), bias, lo, hi)
		return nil, g, err
	}
	r, err := w.requant(act, legacy)
	if err != nil {
		return nil, nil, err
	}
	var bias []int32
	if w.bias != nil {
		bias = w.bias.Int32s()
	}
	var packed *gemm.Int8Weights
	fzp := w.filter.ZeroPoint()
	if w.typ == tfl.Uint8 {
		packed = gemm.PackUint8(data, n, k, fzp)
	} else {
		packed = gemm.PackInt8(view[int8](data), n, k, fzp)
	}
	g, err := gemm.NewInt8(packed, w.in.ZeroPoint(), w.typ == tfl.Uint8, bias, r)
	return g, nil, err
}

// sameBytes reports whether a and b are the same memory (same start and
// length): prepare uses it to skip repacking weights it has already packed.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || unsafe.SliceData(a) == unsafe.SliceData(b))
}

// scratchSlot returns thread t's part of a scratch buffer cut into slots of
// slot bytes (slot is a multiple of 64, so every slot stays aligned).
func scratchSlot(scratch []byte, t, slot int) []byte {
	return scratch[t*slot : (t+1)*slot : (t+1)*slot]
}

// roundUp64 rounds n up to a multiple of 64 bytes.
func roundUp64(n int) int { return (n + 63) &^ 63 }
