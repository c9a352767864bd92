package native

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// dwCase is one quantised depthwise convolution with depth multiplier 1.
type dwCase struct {
	typ              tfl.TensorType
	batch, h, w, c   int
	kh, kw, sh, sw   int
	dh, dw           int
	pad              tfl.Padding
	act              tfl.Activation
	perChannel       bool
	pow2             bool // power-of-two scales
	extreme          bool // data only at the ends of its range
	noBias           bool
	inZP, fZP, outZP int64
	inS, outS        float32
	fScales          []float32
	in, filt         []byte
	bias             []int32
}

func (c *dwCase) String() string {
	return fmt.Sprintf("%s b%d %dx%dx%d k%dx%d s%dx%d d%dx%d %s %s perChannel=%v pow2=%v zp=%d/%d/%d extreme=%v",
		c.typ, c.batch, c.h, c.w, c.c, c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.pad, c.act, c.perChannel, c.pow2,
		c.inZP, c.fZP, c.outZP, c.extreme)
}

// randDWCase draws a case: sizes around the 16-channel blocks of the SIMD
// kernels and small images (so that most pixels touch a border), zero
// points anywhere in the type's range, sometimes data only at its
// extremes, and sometimes power-of-two scales, whose multipliers of
// exactly 2^30 make every rounding step of the output stage meet ties.
func randDWCase(rng *rand.Rand, typ tfl.TensorType) *dwCase {
	c := &dwCase{typ: typ, batch: 1 + rng.IntN(2), h: 1 + rng.IntN(12), w: 1 + rng.IntN(12),
		kh: 1 + rng.IntN(4), kw: 1 + rng.IntN(4), sh: 1 + rng.IntN(2), sw: 1 + rng.IntN(2), dh: 1, dw: 1}
	cs := []int{1, 3, 8, 15, 16, 17, 31, 32, 33, 48, 96}
	c.c = cs[rng.IntN(len(cs))]
	if rng.IntN(3) == 0 {
		c.kh, c.kw = 3, 3
	}
	if rng.IntN(5) == 0 {
		c.dh, c.dw = 1+rng.IntN(2), 1+rng.IntN(2)
	}
	c.pad = tfl.PaddingSame
	if rng.IntN(3) == 0 {
		c.pad = tfl.PaddingValid
	}
	c.act = []tfl.Activation{tfl.ActNone, tfl.ActRelu, tfl.ActRelu6, tfl.ActReluN1To1}[rng.IntN(4)]
	c.extreme = rng.IntN(4) == 0
	c.noBias = rng.IntN(5) == 0
	c.pow2 = rng.IntN(4) == 0
	c.perChannel = typ == tfl.Int8 && rng.IntN(2) == 0
	c.inZP, c.outZP = c.pick(rng), c.pick(rng)
	if typ == tfl.Uint8 {
		c.fZP = c.pick(rng)
	}
	c.inS = 0.01 + rng.Float32()*0.1
	c.outS = 0.01 + rng.Float32()*0.5
	if c.pow2 {
		c.inS, c.outS = 1/float32(int(1)<<rng.IntN(4)), 1/float32(int(1)<<rng.IntN(6))
	}
	c.fill(rng)
	return c
}

// pick draws one quantised value of c's type.
func (c *dwCase) pick(rng *rand.Rand) int64 {
	qmin, qmax := int64(0), int64(255)
	if c.typ == tfl.Int8 {
		qmin, qmax = -128, 127
	}
	if c.extreme {
		return []int64{qmin, qmax}[rng.IntN(2)]
	}
	return qmin + rng.Int64N(qmax-qmin+1)
}

// fill draws the data for c's shape.
func (c *dwCase) fill(rng *rand.Rand) {
	c.filt = make([]byte, c.kh*c.kw*c.c)
	for i := range c.filt {
		c.filt[i] = byte(c.pick(rng))
	}
	c.in = make([]byte, c.batch*c.h*c.w*c.c)
	for i := range c.in {
		c.in[i] = byte(c.pick(rng))
	}
	c.bias = make([]int32, c.c)
	for i := range c.bias {
		c.bias[i] = rng.Int32N(1<<16) - 1<<15
		if c.extreme {
			c.bias[i] *= 1 << 10
		}
	}
	ns := 1
	if c.perChannel {
		ns = c.c
	}
	c.fScales = nil
	for range ns {
		s := 0.001 + rng.Float32()*0.05
		if c.pow2 {
			s = 1 / float32(int(1)<<(4+rng.IntN(8)))
		}
		c.fScales = append(c.fScales, s)
	}
}

// build returns the operator's input tensors and its output.
func (c *dwCase) build() (in []*Tensor, out *Tensor) {
	x := quantTensor(c.typ, []int{c.batch, c.h, c.w, c.c}, []float32{c.inS}, []int64{c.inZP}, 0, false)
	copy(x.Data, c.in)
	zps := make([]int64, len(c.fScales))
	for i := range zps {
		zps[i] = c.fZP
	}
	f := quantTensor(c.typ, []int{1, c.kh, c.kw, c.c}, c.fScales, zps, 3, true)
	copy(f.Data, c.filt)
	in = []*Tensor{x, f}
	if !c.noBias {
		scales := make([]float32, len(c.fScales))
		for i, s := range c.fScales {
			scales[i] = s * c.inS
		}
		b := quantTensor(tfl.Int32, []int{c.c}, scales, make([]int64, len(scales)), 0, true)
		copy(b.Int32s(), c.bias)
		in = append(in, b)
	}
	return in, emptyOut(c.typ, c.outS, c.outZP)
}

// dwPrepare builds and prepares c's operator for the given threads; it
// returns a nil kernel when the window does not fit the input.
func dwPrepare(tb testing.TB, c *dwCase, threads int) (*depthwise, *Tensor) {
	tb.Helper()
	in, out := c.build()
	o := &tfl.DepthwiseConv2DOptions{Padding: c.pad, StrideH: c.sh, StrideW: c.sw, DilationH: c.dh, DilationW: c.dw,
		DepthMultiplier: 1, Activation: c.act}
	n := &node{code: tfl.OperatorCode{Builtin: tfl.OpDepthwiseConv}, opts: o, in: in, out: []*Tensor{out}, threads: threads}
	kk, err := newDepthwise(n)
	if err != nil {
		tb.Fatal(err)
	}
	k := kk.(*depthwise)
	if err := k.prepare(); err != nil {
		return nil, nil
	}
	out.Data = alignedBytes(out.ByteSize())
	// A fast path's slot also holds the general loop's accumulators,
	// which the tests run too.
	n.scratch = alignedBytes(n.scratchSize)
	return k, out
}

// dwPath is one way to run a depthwise convolution: the general loop
// (fast false) or the fast path with the given kernels. On CPUs without a
// kernel the next narrower one runs.
type dwPath struct {
	name                 string
	fast, simd, k3, wide bool
}

var dwPaths = []dwPath{
	{"general", false, false, false, false},
	{"portable", true, false, false, false},
	{"simd", true, true, false, false},
	{"simd3x3", true, true, true, false},
	{"simd3x3wide", true, true, true, true},
}

// use selects p for the operators prepared next.
func (p dwPath) use() {
	dwFastPath, dwKernelSIMD, dwKernel3x3, dwKernelWide = p.fast, p.simd, p.k3, p.wide
}

// dwDefault restores the default selection.
func dwDefault() { dwPaths[len(dwPaths)-1].use() }

// runDWPaths prepares and evaluates c with every path and returns the
// outputs by path name (nil when the window does not fit the input).
func runDWPaths(t *testing.T, c *dwCase, threads int) map[string][]byte {
	t.Helper()
	defer dwDefault()
	res := map[string][]byte{}
	for _, p := range dwPaths {
		p.use()
		k, out := dwPrepare(t, c, threads)
		if k == nil {
			return nil
		}
		if (k.fast != nil) != p.fast {
			t.Fatalf("%v: %s: fast path %v", c, p.name, k.fast != nil)
		}
		for i := range out.Data {
			out.Data[i] = 0x5a
		}
		k.eval()
		res[p.name] = out.Data
	}
	return res
}

// checkDWPaths fails unless every fast path reproduces the general loop.
func checkDWPaths(t *testing.T, c *dwCase, threads int) bool {
	t.Helper()
	res := runDWPaths(t, c, threads)
	if res == nil {
		return false
	}
	want := res["general"]
	for _, p := range dwPaths {
		if got := res[p.name]; !bytes.Equal(got, want) {
			i := firstDiff(got, want)
			t.Fatalf("%v: %s gives %d at byte %d, the general loop %d", c, p.name, got[i], i, want[i])
		}
	}
	return true
}

func TestDepthwiseFastPathsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(60, 61))
	n := 0
	for _, typ := range []tfl.TensorType{tfl.Uint8, tfl.Int8} {
		for i := range 400 {
			if checkDWPaths(t, randDWCase(rng, typ), 1+i%3) {
				n++
			}
		}
	}
	if n < 400 {
		t.Errorf("only %d of 800 cases fit their input", n)
	}
}

// TestDepthwiseFastMobileNetShapes runs layer shapes of MobileNet v2
// (3×3, stride 1 and 2, SAME) on random data.
func TestDepthwiseFastMobileNetShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(62, 63))
	for _, typ := range []tfl.TensorType{tfl.Uint8, tfl.Int8} {
		for _, s := range []struct{ hw, c, stride int }{{112, 32, 1}, {112, 96, 2}, {14, 576, 1}, {7, 960, 1}, {14, 576, 2}} {
			checkDWPaths(t, mobileNetDWCase(rng, typ, s.hw, s.c, s.stride), 2)
		}
	}
}

// mobileNetDWCase is a random 3×3 SAME case of the given size.
func mobileNetDWCase(rng *rand.Rand, typ tfl.TensorType, hw, ch, stride int) *dwCase {
	c := randDWCase(rng, typ)
	c.batch, c.h, c.w, c.c = 1, hw, hw, ch
	c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.pad = 3, 3, stride, stride, 1, 1, tfl.PaddingSame
	c.fill(rng)
	return c
}

func TestDepthwiseFastEvalDoesNotAllocate(t *testing.T) {
	rng := rand.New(rand.NewPCG(66, 67))
	defer dwDefault()
	for _, typ := range []tfl.TensorType{tfl.Uint8, tfl.Int8} {
		c := mobileNetDWCase(rng, typ, 9, 33, 1)
		for _, p := range dwPaths {
			p.use()
			k, _ := dwPrepare(t, c, 1)
			if got := testing.AllocsPerRun(5, k.eval); got != 0 {
				t.Errorf("%s %s: eval allocates %v times", typ, p.name, got)
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// BenchmarkDepthwise times every path on two MobileNet v2 layers (uint8,
// 3×3, SAME), and the default one with two threads.
func BenchmarkDepthwise(b *testing.B) {
	rng := rand.New(rand.NewPCG(64, 65))
	defer dwDefault()
	for _, s := range []struct{ hw, c, stride int }{{56, 144, 1}, {56, 144, 2}} {
		c := mobileNetDWCase(rng, tfl.Uint8, s.hw, s.c, s.stride)
		name := fmt.Sprintf("%dx%dx%d/s%d", s.hw, s.hw, s.c, s.stride)
		for _, p := range dwPaths {
			p.use()
			k, _ := dwPrepare(b, c, 1)
			b.Run(name+"/"+p.name, func(b *testing.B) {
				for b.Loop() {
					k.eval()
				}
			})
		}
		dwDefault()
		k, _ := dwPrepare(b, c, 2)
		b.Run(name+"/threads=2", func(b *testing.B) {
			for b.Loop() {
				k.eval()
			}
		})
	}
}

// TestDepthwiseRequantEdges drives the output stage of every kernel with
// chosen accumulators: a zero filter makes the accumulator the bias, so
// the rounding cases random data rarely meets can be asked for directly
// (exact ties of both rounding steps, a product of exactly −2^30 − 1,
// left shifts, the int32 extremes). 85 channels cover the wide blocks, a
// 16-channel block and the portable tail.
func TestDepthwiseRequantEdges(t *testing.T) {
	rng := rand.New(rand.NewPCG(68, 69))
	const c = 85
	defer dwDefault()
	for _, signed := range []bool{false, true} {
		f := &dwFast{taps: 9, c: c, k3: true, zp: make([]byte, c),
			inner: newDWWindow(3, 3, 3*c, c), patch: newDWWindow(3, 3, 3*c, c)}
		f.lo, f.hi = 0, 255
		if signed {
			f.lo, f.hi = -128, 127
		}
		src := make([]byte, 9*c)
		acc := make([]int32, c)
		for iter := range 3000 {
			bias, mult, shift := make([]int32, c), make([]int32, c), make([]int, c)
			f.outZ = f.lo + rng.Int32N(f.hi-f.lo+1)
			for ch := range c {
				m := int32(1<<30 + rng.Int32N(1<<30))
				switch rng.IntN(4) {
				case 0:
					m = 1 << 30
				case 1:
					m &^= 1<<(10+rng.IntN(18)) - 1 // trailing zeros: SaturatingRoundingDoublingHighMul ties
				}
				mult[ch] = m
				if rng.IntN(8) == 0 {
					shift[ch] = rng.IntN(4) // a left shift
				} else {
					shift[ch] = -rng.IntN(12)
				}
				// An accumulator whose result lands near the output range.
				span := int64(200) << (31 - shift[ch]) / int64(m)
				x := rng.Int64N(2*span+1) - span
				switch rng.IntN(16) {
				case 0:
					x, mult[ch] = -1, 1<<30+1 // P = −2^30 − 1
				case 1:
					x = []int64{-1 << 31, 1<<31 - 1, -1, 1, 0}[rng.IntN(5)]
				}
				bias[ch] = int32(x)
			}
			want := make([]byte, c)
			for ch := range c {
				v := quant.MultiplyByQuantizedMultiplier(bias[ch], mult[ch], shift[ch]) + f.outZ
				want[ch] = byte(min(max(v, f.lo), f.hi))
			}
			for _, p := range dwPaths[1:] {
				p.use()
				// derive drops the tables a SIMD kernel makes redundant.
				f.filt, f.bias, f.mult, f.shift = make([]int16, 9*c), bias, mult, shift
				f.derive(signed)
				got := make([]byte, c)
				if signed {
					dwRun(f, view[int8](got), view[int8](src), 0, &f.patch, 1, 0, acc)
				} else {
					dwRun(f, got, src, 0, &f.patch, 1, 0, acc)
				}
				if ch := firstDiff(got, want); ch < c {
					t.Fatalf("iteration %d signed=%v %s: channel %d: acc %d, mult %d, shift %d, zp %d: got %d, want %d",
						iter, signed, p.name, ch, bias[ch], mult[ch], shift[ch], f.outZ, got[ch], want[ch])
				}
			}
		}
	}
}
