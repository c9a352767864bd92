package native

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// Shared machinery of the CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED
// tests: random operator instances, and two oracles for them:
//
//   - refConvInt transliterates TFLite's reference integer kernels
//     (reference/conv.h, depthwiseconv_uint8.h, integer_ops/conv.h,
//     integer_ops/depthwise_conv.h, fully_connected.h): one output value at
//     a time, taps outside the input skipped, offsets added to every value.
//     The kernels must match it bit for bit.
//   - refConvReal computes the same operator in float64 on dequantised
//     values; quantised outputs must be within one step of it (the
//     fixed-point multiplier and the rounding of bias and output each lose
//     up to half a step), float outputs within float32 summation error.

// convCase is one random convolution-like operator. A fully connected
// layer is a 1×1 convolution over [batch, 1, 1, K].
type convCase struct {
	dw                     bool // depthwise
	typ                    tfl.TensorType
	perChannel             bool
	batch, inH, inW, inC   int
	outC, kh, kw           int
	sh, sw, dilH, dilW, dm int
	pad                    tfl.Padding
	act                    tfl.Activation
	hasBias                bool

	// Quantised values (or, for float32, the float values in *F).
	in, filter, bias []int32
	inF, fF, biasF   []float32
	inScale, outS    float32
	fScale           []float32
	inZP, fZP, outZP int32
}

func (c *convCase) window() window2D {
	w, err := computeWindow(c.pad, c.inH, c.inW, c.kh, c.kw, c.sh, c.sw, c.dilH, c.dilW)
	if err != nil {
		panic(err)
	}
	return w
}

func (c *convCase) filterShape() []int {
	if c.dw {
		return []int{1, c.kh, c.kw, c.outC}
	}
	return []int{c.outC, c.kh, c.kw, c.inC}
}

// randConvCase draws shapes and parameters; for FC-like cases pass fc.
func randConvCase(rng *rand.Rand, typ tfl.TensorType, dw, fc bool) *convCase {
	c := &convCase{dw: dw, typ: typ, batch: 1 + rng.IntN(2), hasBias: rng.IntN(4) != 0,
		act: []tfl.Activation{tfl.ActNone, tfl.ActRelu, tfl.ActRelu6, tfl.ActReluN1To1}[rng.IntN(4)]}
	for {
		c.inH, c.inW, c.inC = 1+rng.IntN(9), 1+rng.IntN(9), 1+rng.IntN(6)
		c.kh, c.kw = 1+rng.IntN(3), 1+rng.IntN(3)
		c.sh, c.sw, c.dilH, c.dilW = 1+rng.IntN(2), 1+rng.IntN(2), 1+rng.IntN(2), 1+rng.IntN(2)
		c.pad = tfl.Padding(rng.IntN(2))
		c.outC = 1 + rng.IntN(9)
		if dw {
			c.dm = 1 + rng.IntN(3)
			c.outC = c.inC * c.dm
		}
		if fc {
			c.inH, c.inW, c.kh, c.kw, c.sh, c.sw, c.dilH, c.dilW = 1, 1, 1, 1, 1, 1, 1, 1
			c.inC = 1 + rng.IntN(40)
			c.outC = 1 + rng.IntN(20)
			c.batch = 1 + rng.IntN(3)
		}
		if _, err := computeWindow(c.pad, c.inH, c.inW, c.kh, c.kw, c.sh, c.sw, c.dilH, c.dilW); err == nil {
			break
		}
	}
	c.fill(rng, fc)
	return c
}

// fill draws tensor values and quantisation parameters for c's shapes.
func (c *convCase) fill(rng *rand.Rand, fc bool) {
	typ := c.typ
	nIn := c.batch * c.inH * c.inW * c.inC
	nF := tfl.NumElements(c.filterShape())
	if typ == tfl.Float32 {
		c.inF, c.fF, c.biasF = randFloats(rng, nIn, 1), randFloats(rng, nF, 1), randFloats(rng, c.outC, 0.5)
		return
	}
	qmin, qmax := quant.TypeRange(typ == tfl.Int8)
	c.fScale = nil
	c.perChannel = typ == tfl.Int8 && !fc && rng.IntN(3) != 0 || typ == tfl.Int8 && fc && rng.IntN(4) == 0
	c.inScale = 0.005 + rng.Float32()*0.05
	c.inZP = qmin + rng.Int32N(qmax-qmin+1)
	c.in = randInts(rng, nIn, qmin, qmax)
	nScales := 1
	if c.perChannel {
		nScales = c.outC
	}
	for range nScales {
		c.fScale = append(c.fScale, 0.002+rng.Float32()*0.03)
	}
	if typ == tfl.Uint8 {
		c.fZP = rng.Int32N(256)
		c.filter = randInts(rng, nF, 0, 255)
	} else {
		c.filter = randInts(rng, nF, -127, 127)
	}
	c.bias = randInts(rng, c.outC, -3000, 3000)

	// Output parameters that cover the real outputs' range (and 0), so
	// that the test exercises more than saturation.
	real := c.refConvReal()
	lo, hi := 0.0, 0.0
	for _, v := range real {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	c.outS = float32((hi - lo) / float64(qmax-qmin))
	if c.outS == 0 {
		c.outS = 1
	}
	c.outZP = min(max(qmin+int32(math.Round(-lo/float64(c.outS))), qmin), qmax)
}

func randFloats(rng *rand.Rand, n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = (rng.Float32()*2 - 1) * scale
	}
	return v
}

func randInts(rng *rand.Rand, n int, lo, hi int32) []int32 {
	v := make([]int32, n)
	for i := range v {
		v[i] = lo + rng.Int32N(hi-lo+1)
	}
	return v
}

func (c *convCase) fScaleOf(oc int) float32 {
	if len(c.fScale) > 1 {
		return c.fScale[oc]
	}
	return c.fScale[0]
}

// biasScale is the scale TFLite's converters give the bias: the float
// product of input and filter scale.
func (c *convCase) biasScale(oc int) float32 { return c.inScale * c.fScaleOf(oc) }

// convLoop runs the reference loop nest of TFLite's convolution kernels,
// calling tap(inIndex, filterIndex) for every tap inside the input and
// done(outIndex, oc) after each output value's taps.
func (c *convCase) convLoop(start func(), tap func(ii, fi, oc int), done func(oi, oc int)) {
	w := c.window()
	for b := range c.batch {
		for oy := range w.outH {
			for ox := range w.outW {
				for oc := range c.outC {
					start()
					for ky := range c.kh {
						for kx := range c.kw {
							iy := oy*c.sh - w.padT + ky*c.dilH
							ix := ox*c.sw - w.padL + kx*c.dilW
							if iy < 0 || iy >= c.inH || ix < 0 || ix >= c.inW {
								continue
							}
							base := ((b*c.inH+iy)*c.inW + ix) * c.inC
							if c.dw {
								tap(base+oc/c.dm, (ky*c.kw+kx)*c.outC+oc, oc)
								continue
							}
							for ic := range c.inC {
								tap(base+ic, ((oc*c.kh+ky)*c.kw+kx)*c.inC+ic, oc)
							}
						}
					}
					done(((b*w.outH+oy)*w.outW+ox)*c.outC+oc, oc)
				}
			}
		}
	}
}

// refConvInt is the integer reference (see the top of this file). legacy
// selects the uint8 / fully connected multiplier (float32 product of the
// scales) over the per-channel one (float64 product).
func (c *convCase) refConvInt(legacy bool) []int32 {
	w := c.window()
	out := make([]int32, c.batch*w.outH*w.outW*c.outC)
	qmin, qmax := quant.TypeRange(c.typ == tfl.Int8)
	lo, hi := quant.ActivationRange(int(c.act), c.outS, c.outZP, qmin, qmax)
	var acc int32
	c.convLoop(func() { acc = 0 }, func(ii, fi, _ int) {
		acc += (c.filter[fi] - c.fZP) * (c.in[ii] - c.inZP)
	}, func(oi, oc int) {
		if c.hasBias {
			acc += c.bias[oc]
		}
		var real float64
		if legacy {
			real = float64(c.inScale*c.fScaleOf(oc)) / float64(c.outS)
		} else {
			real = float64(c.inScale) * float64(c.fScaleOf(oc)) / float64(c.outS)
		}
		m, s := quant.QuantizeMultiplier(real)
		// CONV_2D and FULLY_CONNECTED round like the C library's GEMM
		// back ends; DEPTHWISE_CONV_2D like the reference kernels (see
		// quant.MultiplyByQuantizedMultiplierHalfUp).
		requant := quant.MultiplyByQuantizedMultiplierHalfUp
		if c.dw {
			requant = quant.MultiplyByQuantizedMultiplier
		}
		v := requant(acc, m, s) + c.outZP
		out[oi] = min(max(v, lo), hi)
	})
	return out
}

// refConvReal computes the operator in float64 on real values, fused
// activation included.
func (c *convCase) refConvReal() []float64 {
	w := c.window()
	out := make([]float64, c.batch*w.outH*w.outW*c.outC)
	inV := func(i int) float64 {
		if c.typ == tfl.Float32 {
			return float64(c.inF[i])
		}
		return float64(c.inScale) * float64(c.in[i]-c.inZP)
	}
	fV := func(i, oc int) float64 {
		if c.typ == tfl.Float32 {
			return float64(c.fF[i])
		}
		return float64(c.fScaleOf(oc)) * float64(c.filter[i]-c.fZP)
	}
	var acc float64
	c.convLoop(func() { acc = 0 }, func(ii, fi, oc int) {
		acc += inV(ii) * fV(fi, oc)
	}, func(oi, oc int) {
		if c.hasBias {
			if c.typ == tfl.Float32 {
				acc += float64(c.biasF[oc])
			} else {
				acc += float64(c.biasScale(oc)) * float64(c.bias[oc])
			}
		}
		switch c.act {
		case tfl.ActRelu:
			acc = math.Max(acc, 0)
		case tfl.ActRelu6:
			acc = math.Min(math.Max(acc, 0), 6)
		case tfl.ActReluN1To1:
			acc = math.Min(math.Max(acc, -1), 1)
		}
		out[oi] = acc
	})
	return out
}

// tensors builds the operator's input tensors (input, filter, bias or nil)
// and an empty output.
func (c *convCase) tensors(fc bool) (in []*Tensor, out *Tensor) {
	inShape := []int{c.batch, c.inH, c.inW, c.inC}
	fShape := c.filterShape()
	if fc {
		inShape = []int{c.batch, c.inC}
		fShape = []int{c.outC, c.inC}
	}
	var input, filter, bias *Tensor
	if c.typ == tfl.Float32 {
		input = floatTensor(inShape, c.inF, false)
		filter = floatTensor(fShape, c.fF, true)
		if c.hasBias {
			bias = floatTensor([]int{c.outC}, c.biasF, true)
		}
		return []*Tensor{input, filter, bias}, emptyOut(tfl.Float32, 0, 0)
	}
	input = quantTensor(c.typ, inShape, []float32{c.inScale}, []int64{int64(c.inZP)}, 0, false)
	putInts(input, c.in)
	zps := make([]int64, len(c.fScale))
	for i := range zps {
		zps[i] = int64(c.fZP)
	}
	dim := 0
	if c.dw {
		dim = 3
	}
	filter = quantTensor(c.typ, fShape, c.fScale, zps, dim, true)
	putInts(filter, c.filter)
	if c.hasBias {
		bs := make([]float32, len(c.fScale))
		for i := range bs {
			bs[i] = c.biasScale(i)
		}
		bias = quantTensor(tfl.Int32, []int{c.outC}, bs, make([]int64, len(bs)), 0, true)
		copy(bias.Int32s(), c.bias)
	}
	return []*Tensor{input, filter, bias}, emptyOut(c.typ, c.outS, int64(c.outZP))
}

func putInts(t *Tensor, v []int32) {
	for i, x := range v {
		t.Data[i] = byte(x) // int8 and uint8 alike: two's complement byte
	}
}

// outInts reads a quantised output as int32 values.
func outInts(t *Tensor) []int32 {
	v := make([]int32, t.NumElements())
	for i := range v {
		if t.Type == tfl.Int8 {
			v[i] = int32(int8(t.Data[i]))
		} else {
			v[i] = int32(t.Data[i])
		}
	}
	return v
}

// checkConvCase runs one case through kernel nk and compares it with both
// oracles.
func checkConvCase(t *testing.T, name string, c *convCase, nk newKernel, code tfl.BuiltinOp, opts any, fc, legacy bool, threads int) {
	t.Helper()
	in, out := c.tensors(fc)
	if err := runKernel(t, nk, code, opts, threads, in, out); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	real := c.refConvReal()
	if c.typ == tfl.Float32 {
		got := out.Float32s()
		if len(got) != len(real) {
			t.Fatalf("%s: %d outputs, want %d", name, len(got), len(real))
		}
		tol := 1e-6 * float64(c.kh*c.kw*c.inC+1)
		for i, want := range real {
			if math.Abs(float64(got[i])-want) > tol {
				t.Fatalf("%s: out[%d] = %g, want %g (±%g)", name, i, got[i], want, tol)
			}
		}
		return
	}
	got := outInts(out)
	exact := c.refConvInt(legacy)
	if len(got) != len(exact) {
		t.Fatalf("%s: %d outputs, want %d", name, len(got), len(exact))
	}
	qmin, qmax := quant.TypeRange(c.typ == tfl.Int8)
	for i := range got {
		if got[i] != exact[i] {
			t.Fatalf("%s: out[%d] = %d, reference kernel gives %d", name, i, got[i], exact[i])
		}
		want := min(max(int32(math.Round(real[i]/float64(c.outS)))+c.outZP, qmin), qmax)
		if d := got[i] - want; d < -1 || d > 1 {
			t.Fatalf("%s: out[%d] = %d, float reference quantises to %d (%g)", name, i, got[i], want, real[i])
		}
	}
}

// runBytes runs a case and returns the output's raw bytes.
func runBytes(t *testing.T, c *convCase, nk newKernel, code tfl.BuiltinOp, opts any, fc bool, threads int) []byte {
	t.Helper()
	in, out := c.tensors(fc)
	if err := runKernel(t, nk, code, opts, threads, in, out); err != nil {
		t.Fatal(err)
	}
	return out.Data
}

// TestRequantMultiplierProducts pins which product of scales each path
// uses (the random tests rarely see the difference: it moves the Q31
// multiplier by a few units): TFLite's GetQuantizedConvolutionMultipler
// multiplies input and filter scales in float32 (uint8 convolutions, all
// per-tensor fully connected layers); PopulateConvolutionQuantizationParams
// multiplies them in float64 (int8 convolutions).
func TestRequantMultiplierProducts(t *testing.T) {
	inS, fS, outS := float32(0.0078125*1.1), float32(0.00392157), float32(0.023)
	legacy, _ := quant.QuantizeMultiplier(float64(inS*fS) / float64(outS))
	wide, _ := quant.QuantizeMultiplier(float64(inS) * float64(fS) / float64(outS))
	if legacy == wide {
		t.Fatalf("test scales do not separate the two products (%d)", legacy)
	}
	for _, tc := range []struct {
		typ    tfl.TensorType
		legacy bool
		want   int32
	}{
		{tfl.Uint8, true, legacy},
		{tfl.Int8, true, legacy},
		{tfl.Int8, false, wide},
	} {
		w := &weightOp{typ: tc.typ,
			in:     quantTensor(tc.typ, []int{1}, []float32{inS}, []int64{0}, 0, false),
			filter: quantTensor(tc.typ, []int{1, 1}, []float32{fS}, []int64{0}, 0, true),
			out:    quantTensor(tc.typ, []int{1}, []float32{outS}, []int64{0}, 0, false)}
		r, err := w.requant(quant.ActNone, tc.legacy)
		if err != nil {
			t.Fatal(err)
		}
		if r.Multiplier[0] != tc.want {
			t.Errorf("%s legacy=%v: multiplier %d, want %d", tc.typ, tc.legacy, r.Multiplier[0], tc.want)
		}
	}
}
