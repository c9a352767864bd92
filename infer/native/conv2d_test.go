package native

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

var convTypes = []tfl.TensorType{tfl.Float32, tfl.Uint8, tfl.Int8}

func convOpts(c *convCase) *tfl.Conv2DOptions {
	return &tfl.Conv2DOptions{Padding: c.pad, StrideW: c.sw, StrideH: c.sh, Activation: c.act, DilationW: c.dilW, DilationH: c.dilH}
}

func TestConv2DRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	for _, typ := range convTypes {
		for i := range 150 {
			c := randConvCase(rng, typ, false, false)
			name := fmt.Sprintf("%s #%d %+v", typ, i, *c)
			checkConvCase(t, name, c, newConv2D, tfl.OpConv2D, convOpts(c), false, typ == tfl.Uint8, 1+i%2)
		}
	}
}

// TestConv2DPointwise covers the direct (no im2col) path: 1×1, stride 1.
func TestConv2DPointwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	for _, typ := range convTypes {
		for i := range 30 {
			c := randConvCase(rng, typ, false, false)
			c = pointwise(rng, c)
			name := fmt.Sprintf("%s #%d", typ, i)
			checkConvCase(t, name, c, newConv2D, tfl.OpConv2D, convOpts(c), false, typ == tfl.Uint8, 1+i%2)
		}
	}
}

// pointwise turns c into a 1×1, stride-1 convolution with fresh data.
func pointwise(rng *rand.Rand, c *convCase) *convCase {
	c.kh, c.kw, c.sh, c.sw = 1, 1, 1, 1
	c.fill(rng, false)
	return c
}

// image returns the batch-1 case holding image b of c.
func (c *convCase) image(b int) *convCase {
	d := *c
	d.batch = 1
	n := c.inH * c.inW * c.inC
	if c.typ == tfl.Float32 {
		d.inF = c.inF[b*n : (b+1)*n]
	} else {
		d.in = c.in[b*n : (b+1)*n]
	}
	return &d
}

func TestConv2DBatchEqualsPerImage(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 15))
	for _, typ := range convTypes {
		for i := range 20 {
			c := randConvCase(rng, typ, false, false)
			if c.batch == 1 {
				continue
			}
			whole := runBytes(t, c, newConv2D, tfl.OpConv2D, convOpts(c), false, 1)
			var parts []byte
			for b := range c.batch {
				parts = append(parts, runBytes(t, c.image(b), newConv2D, tfl.OpConv2D, convOpts(c), false, 1)...)
			}
			if !bytes.Equal(whole, parts) {
				t.Fatalf("%s #%d: batch of %d differs from the images run one by one", typ, i, c.batch)
			}
		}
	}
}

func TestConv2DThreadsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 17))
	for _, typ := range convTypes {
		for i := range 20 {
			c := randConvCase(rng, typ, false, false)
			one := runBytes(t, c, newConv2D, tfl.OpConv2D, convOpts(c), false, 1)
			for _, threads := range []int{2, 3} {
				if got := runBytes(t, c, newConv2D, tfl.OpConv2D, convOpts(c), false, threads); !bytes.Equal(got, one) {
					t.Fatalf("%s #%d: threads=%d differs from threads=1", typ, i, threads)
				}
			}
		}
	}
}

// TestConv2DResizeKeepsPackedWeights re-prepares after a batch change, as
// Interpreter.ResizeInput does: weights are not repacked and the result
// is still right.
func TestConv2DResizeKeepsPackedWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 19))
	c := randConvCase(rng, tfl.Int8, false, false)
	c.batch = 2
	c.fill(rng, false)
	in, out := c.tensors(false)
	n := &node{code: tfl.OperatorCode{Builtin: tfl.OpConv2D}, opts: convOpts(c), in: in, out: []*Tensor{out}, threads: 1}
	kr, err := newConv2D(n)
	if err != nil {
		t.Fatal(err)
	}
	k := kr.(*conv2d)
	in[0].Shape = []int{1, c.inH, c.inW, c.inC}
	if err := k.prepare(); err != nil {
		t.Fatal(err)
	}
	packed := k.q
	in[0].Shape = []int{2, c.inH, c.inW, c.inC}
	if err := k.prepare(); err != nil {
		t.Fatal(err)
	}
	if k.q != packed {
		t.Errorf("prepare after a resize repacked the weights")
	}
	out.Data = alignedBytes(out.ByteSize())
	n.scratch = alignedBytes(n.scratchSize)
	k.eval()
	got, want := outInts(out), c.refConvInt(false)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("after resize: out[%d] = %d, want %d", i, got[i], want[i])
		}
	}
}

func TestConv2DEvalDoesNotAllocate(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 21))
	for _, typ := range convTypes {
		for _, pw := range []bool{false, true} {
			c := randConvCase(rng, typ, false, false)
			if pw {
				c = pointwise(rng, c)
			}
			in, out := c.tensors(false)
			n := &node{code: tfl.OperatorCode{Builtin: tfl.OpConv2D}, opts: convOpts(c), in: in, out: []*Tensor{out}, threads: 1}
			k, err := newConv2D(n)
			if err != nil {
				t.Fatal(err)
			}
			if err := k.prepare(); err != nil {
				t.Fatal(err)
			}
			out.Data = alignedBytes(out.ByteSize())
			n.scratch = alignedBytes(n.scratchSize)
			if got := testing.AllocsPerRun(5, k.eval); got != 0 {
				t.Errorf("%s pointwise=%v: eval allocates %v times", typ, pw, got)
			}
		}
	}
}

// TestConv2DRejects checks that prepare (or the constructor) refuses
// malformed or unsupported operators with an error that says why.
func TestConv2DRejects(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 23))
	base := func(typ tfl.TensorType) (*convCase, []*Tensor, *Tensor) {
		for {
			c := randConvCase(rng, typ, false, false)
			if c.outC > 1 && c.hasBias {
				in, out := c.tensors(false)
				return c, in, out
			}
		}
	}
	for _, tc := range []struct {
		name, want string
		typ        tfl.TensorType
		edit       func(c *convCase, o *tfl.Conv2DOptions, in []*Tensor, out *Tensor) []*Tensor
	}{
		{"tanh", "TANH", tfl.Int8, func(c *convCase, o *tfl.Conv2DOptions, in []*Tensor, out *Tensor) []*Tensor {
			o.Activation = tfl.ActTanh
			return in
		}},
		{"sign bit", "SIGN_BIT", tfl.Float32, func(c *convCase, o *tfl.Conv2DOptions, in []*Tensor, out *Tensor) []*Tensor {
			o.Activation = tfl.ActSignBit
			return in
		}},
		{"input rank", "rank 4", tfl.Int8, func(c *convCase, o *tfl.Conv2DOptions, in []*Tensor, out *Tensor) []*Tensor {
			in[0].Shape = in[0].Shape[1:]
			return in
		}},
		{"channels", "input channels", tfl.Uint8, func(c *convCase, o *tfl.Conv2DOptions, in []*Tensor, out *Tensor) []*Tensor {
			in[0].Shape = []int{c.batch, c.inH, c.inW, c.inC + 1}
			return in
		}},
		{"filter not constant", "not a constant", tfl.Int8, func(c *convCase, o *tfl.Conv2DOptions, in []*Tensor, out *Tensor) []*Tensor {
			in[1].Const = false
			return in
		}},
		{"bias length", "bias", tfl.Int8, func(c *convCase, o *tfl.Conv2DOptions, in []*Tensor, out *Tensor) []*Tensor {
			in[2].Shape = []int{c.outC - 1}
			return in
		}},
		{"bias type", "bias is float32", tfl.Int8, func(c *convCase, o *tfl.Conv2DOptions, in []*Tensor, out *Tensor) []*Tensor {
			in[2] = floatTensor([]int{c.outC}, nil, true)
			return in
		}},
		{"output type", "output is", tfl.Int8, func(c *convCase, o *tfl.Conv2DOptions, in []*Tensor, out *Tensor) []*Tensor {
			out.Type = tfl.Uint8
			return in
		}},
		{"hybrid", "hybrid", tfl.Float32, func(c *convCase, o *tfl.Conv2DOptions, in []*Tensor, out *Tensor) []*Tensor {
			in[1] = quantTensor(tfl.Int8, in[1].Shape, []float32{0.1}, []int64{0}, 0, true)
			return in
		}},
		{"no quantisation", "no quantisation", tfl.Int8, func(c *convCase, o *tfl.Conv2DOptions, in []*Tensor, out *Tensor) []*Tensor {
			in[0].Quant, in[0].ZeroPoint32 = nil, nil
			return in
		}},
		{"per-channel dimension", "along dimension", tfl.Int8, func(c *convCase, o *tfl.Conv2DOptions, in []*Tensor, out *Tensor) []*Tensor {
			scales := make([]float32, c.outC)
			for i := range scales {
				scales[i] = 0.01
			}
			in[1].Quant = &tfl.Quantization{Scale: scales, ZeroPoint: make([]int64, c.outC), Dim: 3}
			return in
		}},
		{"per-channel uint8", "per-channel", tfl.Uint8, func(c *convCase, o *tfl.Conv2DOptions, in []*Tensor, out *Tensor) []*Tensor {
			scales := make([]float32, c.outC)
			for i := range scales {
				scales[i] = 0.01
			}
			in[1].Quant = &tfl.Quantization{Scale: scales, ZeroPoint: make([]int64, c.outC)}
			return in
		}},
		{"asymmetric int8 filter", "symmetric", tfl.Int8, func(c *convCase, o *tfl.Conv2DOptions, in []*Tensor, out *Tensor) []*Tensor {
			in[1].Quant.ZeroPoint = []int64{3}
			in[1].Quant.Scale = in[1].Quant.Scale[:1]
			return in
		}},
		{"stride", "stride", tfl.Float32, func(c *convCase, o *tfl.Conv2DOptions, in []*Tensor, out *Tensor) []*Tensor {
			o.StrideH = 0
			return in
		}},
		{"window too large", "does not fit", tfl.Float32, func(c *convCase, o *tfl.Conv2DOptions, in []*Tensor, out *Tensor) []*Tensor {
			o.Padding = tfl.PaddingValid
			in[0].Shape = []int{c.batch, c.kh, 1, c.inC}
			in[1] = floatTensor([]int{c.outC, c.kh, 3, c.inC}, nil, true)
			return in
		}},
		{"bias scale", "bias scale", tfl.Uint8, func(c *convCase, o *tfl.Conv2DOptions, in []*Tensor, out *Tensor) []*Tensor {
			// TFLite tolerates a mismatch of 2% of the output scale.
			in[2].Quant.Scale = []float32{in[2].Quant.Scale[0] + 0.05*c.outS}
			return in
		}},
	} {
		c, in, out := base(tc.typ)
		o := convOpts(c)
		in = tc.edit(c, o, in, out)
		err := runKernel(t, newConv2D, tfl.OpConv2D, o, 1, in, out)
		if err == nil {
			t.Errorf("%s: got no error", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not mention %q", tc.name, err, tc.want)
		}
	}
}

// TestConv2DRowwise covers the column-gathering path (rowwiseRange):
// inputs of 16 channels or more, filters at least two wide, strides,
// vertical dilation, padding, threads that split output rows, and (with a
// small budget) rows cut into segments; it must match the reference
// kernel bit for bit, as the im2col path does (floats: within summation
// error of the float64 reference).
func TestConv2DRowwise(t *testing.T) {
	defer func(b int) { rowwiseBytes = b }(rowwiseBytes)
	rng := rand.New(rand.NewPCG(12, 13))
	for _, typ := range []tfl.TensorType{tfl.Uint8, tfl.Int8, tfl.Float32} {
		for i := range 40 {
			rowwiseBytes = []int{24 << 10, 1 << 10}[i%2]
			c := randConvCase(rng, typ, false, false)
			for {
				c.inH, c.inW, c.inC = 3+rng.IntN(12), 3+rng.IntN(14), []int{16, 20, 32, 48, 80}[rng.IntN(5)]
				c.kh, c.kw = 1+rng.IntN(3), 2+rng.IntN(2)
				c.sh, c.sw, c.dilH, c.dilW = 1+rng.IntN(2), 1+rng.IntN(2), 1+rng.IntN(2), 1
				c.pad = tfl.Padding(rng.IntN(2))
				c.outC = 1 + rng.IntN(40)
				if _, err := computeWindow(c.pad, c.inH, c.inW, c.kh, c.kw, c.sh, c.sw, c.dilH, c.dilW); err == nil {
					break
				}
			}
			c.fill(rng, false)
			name := fmt.Sprintf("%s #%d %+v", typ, i, *c)
			checkConvCase(t, name, c, newConv2D, tfl.OpConv2D, convOpts(c), false, typ == tfl.Uint8, 1+i%3)
		}
	}
}
