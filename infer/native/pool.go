package native

import (
	"fmt"
	"math"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// pool2d implements AVERAGE_POOL_2D and MAX_POOL_2D over NHWC tensors of
// float32, uint8 or int8, as TFLite's reference pooling kernels do
// (reference/pooling.h, reference/integer_ops/pooling.h):
//
//   - the window is clipped to the input, so padding cells are neither
//     averaged nor counted (the divisor is the number of real cells);
//   - the quantised average is the integer sum divided by that count,
//     rounded half away from zero (quant.AveragePoolDivide);
//   - the quantised maximum is the largest input value;
//   - both are clamped to the fused activation's range.
//
// Quantised pooling moves values without rescaling them, so the output must
// carry the input's scale and zero point (TFLite checks the same).
type pool2d struct {
	n    *node
	opts *tfl.Pool2DOptions
	avg  bool
	act  int

	// Set by prepare.
	g   poolGeom
	run func()
}

// poolGeom is the window geometry of one pooling operator.
// poolFast selects maxPool2x2 where it applies; tests clear it to compare
// it with the general loop.
var poolFast = true

type poolGeom struct {
	batch, inH, inW, ch int
	fh, fw, sh, sw      int
	padT, padL          int
	outH, outW          int
}

func newAveragePool2D(n *node) (kernel, error) { return newPool2D(n, true) }
func newMaxPool2D(n *node) (kernel, error)     { return newPool2D(n, false) }

func newPool2D(n *node, avg bool) (kernel, error) {
	o, ok := n.opts.(*tfl.Pool2DOptions)
	if !ok {
		return nil, fmt.Errorf("missing Pool2DOptions")
	}
	act, err := fusedActivation(o.Activation)
	if err != nil {
		return nil, err
	}
	return &pool2d{n: n, opts: o, avg: avg, act: act}, nil
}

func (k *pool2d) prepare() error {
	in := k.n.input(0)
	if in == nil || len(k.n.in) != 1 || len(k.n.out) != 1 {
		return fmt.Errorf("needs 1 input and 1 output")
	}
	out := k.n.out[0]
	if in.Type != out.Type {
		return fmt.Errorf("input is %s but output is %s", in.Type, out.Type)
	}
	if err := checkType(in, tfl.Float32, tfl.Uint8, tfl.Int8); err != nil {
		return err
	}
	if len(in.Shape) != 4 {
		return fmt.Errorf("input %v must have rank 4 (NHWC)", in.Shape)
	}
	for _, d := range in.Shape {
		if d <= 0 {
			return fmt.Errorf("input %v must have positive dimensions", in.Shape)
		}
	}
	if in.Type != tfl.Float32 {
		for _, t := range []*Tensor{in, out} {
			if err := checkPerTensor(t); err != nil {
				return err
			}
		}
		// TFLite's debug check: pooling does not requantise.
		if math.Abs(float64(in.Scale()-out.Scale())) > 1e-6 || in.ZeroPoint() != out.ZeroPoint() {
			return fmt.Errorf("input (scale %g, zero point %d) and output (scale %g, zero point %d) must share quantisation parameters",
				in.Scale(), in.ZeroPoint(), out.Scale(), out.ZeroPoint())
		}
	}
	o := k.opts
	win, err := computeWindow(o.Padding, in.Shape[1], in.Shape[2], o.FilterHeight, o.FilterWidth, o.StrideH, o.StrideW, 1, 1)
	if err != nil {
		return err
	}
	k.g = poolGeom{batch: in.Shape[0], inH: in.Shape[1], inW: in.Shape[2], ch: in.Shape[3],
		fh: o.FilterHeight, fw: o.FilterWidth, sh: o.StrideH, sw: o.StrideW,
		padT: win.padT, padL: win.padL, outH: win.outH, outW: win.outW}
	out.Shape = []int{k.g.batch, win.outH, win.outW, k.g.ch}
	if k.avg {
		k.n.scratchSize = 4 * k.g.ch // one accumulator per channel
	}

	g := &k.g
	switch in.Type {
	case tfl.Float32:
		lo, hi := quant.ActivationRangeFloat(k.act)
		// The bounds are finite even without an activation (TFLite's
		// ±MaxFloat32), so the clamp turns an infinite maximum or average
		// into ±MaxFloat32 as TFLite's does.
		clamp := !math.IsInf(float64(lo), -1) || !math.IsInf(float64(hi), 1)
		if k.avg {
			k.run = func() { avgPoolFloat(g, in.Float32s(), out.Float32s(), view[float32](k.n.scratch), lo, hi) }
		} else {
			k.run = func() { maxPool(g, in.Float32s(), out.Float32s(), -math.MaxFloat32, lo, hi, clamp) }
		}
	case tfl.Uint8:
		lo, hi := outputActivationRange(k.act, out)
		clamp := lo > 0 || hi < math.MaxUint8
		if k.avg {
			k.run = func() { avgPoolQ(g, in.Uint8s(), out.Uint8s(), view[int32](k.n.scratch), lo, hi) }
		} else {
			k.run = func() { maxPool(g, in.Uint8s(), out.Uint8s(), 0, uint8(lo), uint8(hi), clamp) }
		}
	case tfl.Int8:
		lo, hi := outputActivationRange(k.act, out)
		clamp := lo > math.MinInt8 || hi < math.MaxInt8
		if k.avg {
			k.run = func() { avgPoolQ(g, in.Int8s(), out.Int8s(), view[int32](k.n.scratch), lo, hi) }
		} else {
			k.run = func() { maxPool(g, in.Int8s(), out.Int8s(), math.MinInt8, int8(lo), int8(hi), clamp) }
		}
	}
	return nil
}

func (k *pool2d) eval() { k.run() }

// window returns the input rows [y0, y1) and columns [x0, x1) that output
// pixel (oy, ox) covers, clipped to the input.
func (g *poolGeom) window(oy, ox int) (y0, y1, x0, x1 int) {
	y := oy*g.sh - g.padT
	x := ox*g.sw - g.padL
	return max(0, y), min(g.inH, y+g.fh), max(0, x), min(g.inW, x+g.fw)
}

// maxPool writes the clamped maximum of every window. Channels are the
// inner loop so that both tensors are read and written sequentially.
func maxPool[T float32 | uint8 | int8](g *poolGeom, in, out []T, lowest, lo, hi T, clamp bool) {
	if g.fh == 2 && g.fw == 2 && g.sh == 2 && g.sw == 2 && g.padT == 0 && g.padL == 0 &&
		2*g.outH <= g.inH && 2*g.outW <= g.inW && poolFast {
		maxPool2x2(g, in, out, lowest, lo, hi, clamp)
		return
	}
	ch := g.ch
	o := 0
	for b := range g.batch {
		img := in[b*g.inH*g.inW*ch:]
		for oy := range g.outH {
			for ox := range g.outW {
				y0, y1, x0, x1 := g.window(oy, ox)
				dst := out[o : o+ch]
				for c := range dst {
					dst[c] = lowest
				}
				for y := y0; y < y1; y++ {
					for x := x0; x < x1; x++ {
						src := img[(y*g.inW+x)*ch:][:ch]
						for c, v := range src {
							if dst[c] < v {
								dst[c] = v
							}
						}
					}
				}
				if clamp {
					for c, v := range dst {
						dst[c] = min(max(v, lo), hi)
					}
				}
				o += ch
			}
		}
	}
}

// maxPool2x2 is maxPool for 2×2 windows at stride 2 that all lie inside
// the input: the four taps of a channel in registers, compared in the
// reference's order (rows, then columns).
func maxPool2x2[T float32 | uint8 | int8](g *poolGeom, in, out []T, lowest, lo, hi T, clamp bool) {
	ch := g.ch
	rowLen := g.inW * ch
	o := 0
	for b := range g.batch {
		img := in[b*g.inH*rowLen : (b+1)*g.inH*rowLen]
		for oy := range g.outH {
			r0 := img[2*oy*rowLen : (2*oy+1)*rowLen]
			r1 := img[(2*oy+1)*rowLen : (2*oy+2)*rowLen]
			for ox := range g.outW {
				t0 := r0[2*ox*ch : (2*ox+1)*ch]
				t1 := r0[(2*ox+1)*ch : (2*ox+2)*ch][:len(t0)]
				t2 := r1[2*ox*ch : (2*ox+1)*ch][:len(t0)]
				t3 := r1[(2*ox+1)*ch : (2*ox+2)*ch][:len(t0)]
				dst := out[o : o+ch][:len(t0)]
				for c, v := range t0 {
					m := lowest
					if v > m {
						m = v
					}
					if t1[c] > m {
						m = t1[c]
					}
					if t2[c] > m {
						m = t2[c]
					}
					if t3[c] > m {
						m = t3[c]
					}
					if clamp {
						m = min(max(m, lo), hi)
					}
					dst[c] = m
				}
				o += ch
			}
		}
	}
}

func avgPoolQ[T uint8 | int8](g *poolGeom, in, out []T, acc []int32, lo, hi int32) {
	ch := g.ch
	acc = acc[:ch]
	o := 0
	for b := range g.batch {
		img := in[b*g.inH*g.inW*ch:]
		for oy := range g.outH {
			for ox := range g.outW {
				y0, y1, x0, x1 := g.window(oy, ox)
				clear(acc)
				for y := y0; y < y1; y++ {
					for x := x0; x < x1; x++ {
						src := img[(y*g.inW+x)*ch:][:ch]
						for c, v := range src {
							acc[c] += int32(v)
						}
					}
				}
				count := int32((y1 - y0) * (x1 - x0))
				dst := out[o : o+ch]
				for c, s := range acc {
					v := int32(0)
					if count > 0 {
						v = quant.AveragePoolDivide(s, count)
					}
					dst[c] = T(quant.Clamp(v, lo, hi))
				}
				o += ch
			}
		}
	}
}

// avgPoolFloat writes the clamped average of every window; acc holds one
// float32 per channel, summed in the reference kernel's order.
func avgPoolFloat(g *poolGeom, in, out, acc []float32, lo, hi float32) {
	ch := g.ch
	acc = acc[:ch]
	o := 0
	for b := range g.batch {
		img := in[b*g.inH*g.inW*ch:]
		for oy := range g.outH {
			for ox := range g.outW {
				y0, y1, x0, x1 := g.window(oy, ox)
				clear(acc)
				for y := y0; y < y1; y++ {
					for x := x0; x < x1; x++ {
						src := img[(y*g.inW+x)*ch:][:ch]
						for c, v := range src {
							acc[c] += v
						}
					}
				}
				count := float32((y1 - y0) * (x1 - x0))
				dst := out[o : o+ch]
				for c, s := range acc {
					dst[c] = min(max(s/count, lo), hi)
				}
				o += ch
			}
		}
	}
}
