package native

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

func depthwiseOpts(c *convCase) *tfl.DepthwiseConv2DOptions {
	return &tfl.DepthwiseConv2DOptions{Padding: c.pad, StrideW: c.sw, StrideH: c.sh, DepthMultiplier: c.dm,
		Activation: c.act, DilationW: c.dilW, DilationH: c.dilH}
}

func TestDepthwiseRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(30, 31))
	for _, typ := range convTypes {
		for i := range 150 {
			c := randConvCase(rng, typ, true, false)
			name := fmt.Sprintf("%s #%d %+v", typ, i, *c)
			checkConvCase(t, name, c, newDepthwise, tfl.OpDepthwiseConv, depthwiseOpts(c), false, typ == tfl.Uint8, 1+i%2)
		}
	}
}

func TestDepthwiseBatchAndThreads(t *testing.T) {
	rng := rand.New(rand.NewPCG(32, 33))
	for _, typ := range convTypes {
		for i := range 20 {
			c := randConvCase(rng, typ, true, false)
			whole := runBytes(t, c, newDepthwise, tfl.OpDepthwiseConv, depthwiseOpts(c), false, 1)
			var parts []byte
			for b := range c.batch {
				parts = append(parts, runBytes(t, c.image(b), newDepthwise, tfl.OpDepthwiseConv, depthwiseOpts(c), false, 1)...)
			}
			if !bytes.Equal(whole, parts) {
				t.Fatalf("%s #%d: batch of %d differs from the images run one by one", typ, i, c.batch)
			}
			if got := runBytes(t, c, newDepthwise, tfl.OpDepthwiseConv, depthwiseOpts(c), false, 2); !bytes.Equal(got, whole) {
				t.Fatalf("%s #%d: threads=2 differs from threads=1", typ, i)
			}
		}
	}
}

// TestDepthwiseMultiplierOption: converters sometimes leave
// depth_multiplier at 0; the multiplier then comes from the shapes.
func TestDepthwiseMultiplierOption(t *testing.T) {
	rng := rand.New(rand.NewPCG(34, 35))
	c := randConvCase(rng, tfl.Int8, true, false)
	o := depthwiseOpts(c)
	o.DepthMultiplier = 0
	checkConvCase(t, "depth_multiplier 0", c, newDepthwise, tfl.OpDepthwiseConv, o, false, false, 1)
	o.DepthMultiplier = c.dm + 1
	in, out := c.tensors(false)
	if err := runKernel(t, newDepthwise, tfl.OpDepthwiseConv, o, 1, in, out); err == nil || !strings.Contains(err.Error(), "depth_multiplier") {
		t.Errorf("wrong depth_multiplier: got error %v", err)
	}
}

func TestDepthwiseEvalDoesNotAllocate(t *testing.T) {
	rng := rand.New(rand.NewPCG(36, 37))
	for _, typ := range convTypes {
		c := randConvCase(rng, typ, true, false)
		in, out := c.tensors(false)
		n := &node{code: tfl.OperatorCode{Builtin: tfl.OpDepthwiseConv}, opts: depthwiseOpts(c), in: in, out: []*Tensor{out}, threads: 1}
		k, err := newDepthwise(n)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.prepare(); err != nil {
			t.Fatal(err)
		}
		out.Data = alignedBytes(out.ByteSize())
		n.scratch = alignedBytes(n.scratchSize)
		if got := testing.AllocsPerRun(5, k.eval); got != 0 {
			t.Errorf("%s: eval allocates %v times", typ, got)
		}
	}
}

func TestDepthwiseRejects(t *testing.T) {
	rng := rand.New(rand.NewPCG(38, 39))
	for _, tc := range []struct {
		name, want string
		typ        tfl.TensorType
		edit       func(c *convCase, o *tfl.DepthwiseConv2DOptions, in []*Tensor)
	}{
		{"tanh", "TANH", tfl.Uint8, func(c *convCase, o *tfl.DepthwiseConv2DOptions, in []*Tensor) { o.Activation = tfl.ActTanh }},
		{"leading dimension", "leading dimension", tfl.Float32, func(c *convCase, o *tfl.DepthwiseConv2DOptions, in []*Tensor) {
			in[1] = floatTensor([]int{2, c.kh, c.kw, c.outC}, nil, true)
		}},
		{"channels", "not a multiple", tfl.Int8, func(c *convCase, o *tfl.DepthwiseConv2DOptions, in []*Tensor) {
			in[0].Shape = []int{c.batch, c.inH, c.inW, c.outC + 1}
			in[0].Data = alignedBytes(in[0].ByteSize())
		}},
		{"per-channel dimension", "along dimension", tfl.Int8, func(c *convCase, o *tfl.DepthwiseConv2DOptions, in []*Tensor) {
			scales := make([]float32, c.outC)
			for i := range scales {
				scales[i] = 0.01
			}
			in[1].Quant = &tfl.Quantization{Scale: scales, ZeroPoint: make([]int64, c.outC), Dim: 0}
		}},
	} {
		var c *convCase
		for c == nil || c.outC < 2 {
			c = randConvCase(rng, tc.typ, true, false)
		}
		in, out := c.tensors(false)
		o := depthwiseOpts(c)
		tc.edit(c, o, in)
		err := runKernel(t, newDepthwise, tfl.OpDepthwiseConv, o, 1, in, out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}
