package native

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

func fcOpts(c *convCase) *tfl.FullyConnectedOptions {
	return &tfl.FullyConnectedOptions{Activation: c.act}
}

// TestFullyConnectedRandom checks FULLY_CONNECTED against both oracles.
// Per-tensor weights use TFLite's legacy multiplier (float32 product of
// the scales) for uint8 and int8 alike; per-channel int8 the float64 one.
func TestFullyConnectedRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(40, 41))
	for _, typ := range convTypes {
		for i := range 150 {
			c := randConvCase(rng, typ, false, true)
			name := fmt.Sprintf("%s #%d %+v", typ, i, *c)
			checkConvCase(t, name, c, newFullyConnected, tfl.OpFullyConnected, fcOpts(c), true, !c.perChannel, 1+i%2)
		}
	}
}

// TestFullyConnectedAsymmetricInt8Weights: TFLite's int8 fully connected
// kernel honours a non-zero weight zero point (unlike convolutions).
func TestFullyConnectedAsymmetricInt8Weights(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 43))
	for i := range 20 {
		c := randConvCase(rng, tfl.Int8, false, true)
		c.perChannel = false
		c.fScale = c.fScale[:1]
		c.fZP = rng.Int32N(41) - 20
		checkConvCase(t, fmt.Sprintf("#%d", i), c, newFullyConnected, tfl.OpFullyConnected, fcOpts(c), true, true, 1)
	}
}

func TestFullyConnectedShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(44, 45))
	c := randConvCase(rng, tfl.Int8, false, true)
	c.batch, c.inC = 6, 4
	c.fill(rng, true)
	for _, tc := range []struct {
		inShape  []int
		keep     bool
		outShape []int
		err      string
	}{
		{[]int{6, 4}, false, []int{6, c.outC}, ""},
		{[]int{2, 3, 4}, false, []int{6, c.outC}, ""},
		{[]int{2, 3, 4}, true, []int{2, 3, c.outC}, ""},
		{[]int{24}, false, []int{6, c.outC}, ""},
		{[]int{3, 8}, false, []int{6, c.outC}, ""},
		{[]int{3, 8}, true, nil, "keep_num_dims"},
		{[]int{5, 5}, false, nil, "whole number"},
	} {
		in, out := c.tensors(true)
		in[0].Shape = tc.inShape
		in[0].Data = in[0].Data[:min(len(in[0].Data), in[0].ByteSize())]
		o := fcOpts(c)
		o.KeepNumDims = tc.keep
		err := runKernel(t, newFullyConnected, tfl.OpFullyConnected, o, 1, in, out)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("input %v keep=%v: got error %v, want one mentioning %q", tc.inShape, tc.keep, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("input %v keep=%v: %v", tc.inShape, tc.keep, err)
		}
		if !slices.Equal(out.Shape, tc.outShape) {
			t.Errorf("input %v keep=%v: output shape %v, want %v", tc.inShape, tc.keep, out.Shape, tc.outShape)
		}
		got, want := outInts(out), c.refConvInt(true)
		if !slices.Equal(got, want) {
			t.Errorf("input %v keep=%v: got %v, want %v", tc.inShape, tc.keep, got, want)
		}
	}
}

func TestFullyConnectedBatchAndThreads(t *testing.T) {
	rng := rand.New(rand.NewPCG(46, 47))
	for _, typ := range convTypes {
		for i := range 20 {
			c := randConvCase(rng, typ, false, true)
			whole := runBytes(t, c, newFullyConnected, tfl.OpFullyConnected, fcOpts(c), true, 1)
			var parts []byte
			for b := range c.batch {
				parts = append(parts, runBytes(t, c.image(b), newFullyConnected, tfl.OpFullyConnected, fcOpts(c), true, 1)...)
			}
			if !bytes.Equal(whole, parts) {
				t.Fatalf("%s #%d: batch of %d differs from the rows run one by one", typ, i, c.batch)
			}
			for _, threads := range []int{2, 3} {
				if got := runBytes(t, c, newFullyConnected, tfl.OpFullyConnected, fcOpts(c), true, threads); !bytes.Equal(got, whole) {
					t.Fatalf("%s #%d: threads=%d differs from threads=1", typ, i, threads)
				}
			}
		}
	}
}

func TestFullyConnectedEvalDoesNotAllocate(t *testing.T) {
	rng := rand.New(rand.NewPCG(48, 49))
	for _, typ := range convTypes {
		c := randConvCase(rng, typ, false, true)
		in, out := c.tensors(true)
		n := &node{code: tfl.OperatorCode{Builtin: tfl.OpFullyConnected}, opts: fcOpts(c), in: in, out: []*Tensor{out}, threads: 1}
		k, err := newFullyConnected(n)
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

func TestFullyConnectedRejects(t *testing.T) {
	rng := rand.New(rand.NewPCG(50, 51))
	c := randConvCase(rng, tfl.Uint8, false, true)
	in, out := c.tensors(true)
	if err := runKernel(t, newFullyConnected, tfl.OpFullyConnected,
		&tfl.FullyConnectedOptions{WeightsFormat: 1}, 1, in, out); err == nil || !strings.Contains(err.Error(), "weights format") {
		t.Errorf("shuffled weights: got error %v", err)
	}
	if err := runKernel(t, newFullyConnected, tfl.OpFullyConnected,
		&tfl.FullyConnectedOptions{Activation: tfl.ActTanh}, 1, in, out); err == nil || !strings.Contains(err.Error(), "TANH") {
		t.Errorf("tanh: got error %v", err)
	}
	in[1].Shape = []int{c.outC, c.inC, 1}
	if err := runKernel(t, newFullyConnected, tfl.OpFullyConnected, fcOpts(c), 1, in, out); err == nil || !strings.Contains(err.Error(), "weights have shape") {
		t.Errorf("rank-3 weights: got error %v", err)
	}
}
