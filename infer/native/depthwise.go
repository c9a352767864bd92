package native

import (
	"fmt"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/parallel"
	"github.com/fruitcam/fruitcam/quant"
)

// depthwise implements DEPTHWISE_CONV_2D: input [batch, h, w, inC], filter
// [1, kh, kw, outC] with outC = inC·depthMultiplier, optional bias
// [outC], output [batch, oh, ow, outC]. Output channel c reads input
// channel c / depthMultiplier only.
//
// There is no reduction over channels to hand to the GEMM core, so the
// loop is direct, per output pixel: one accumulator per output channel
// (in the thread's scratch), filter taps in (ky, kx) order as TFLite's
// reference kernels sum them, taps outside the input skipped. For
// quantised types the filter is stored once, in prepare, with its offset
// already added (int32), and the output stage is TFLite's: per-tensor
// legacy multiplier for uint8, per-channel for int8. This general loop is
// the reference for the quantised fast path with depth multiplier 1
// (dwFast, depthwise_fast.go), which runs instead whenever it applies.
type depthwise struct {
	n    *node
	opts *tfl.DepthwiseConv2DOptions
	act  int

	// Set by prepare.
	w       *weightOp
	packed  []byte // filter bytes the tables below were built from
	geom    convGeom
	dm      int
	rows    int // batch·oh: the unit of work split over threads
	threads int
	slot    int // scratch bytes per thread: outC accumulators

	// float32
	fFilter  []float32 // [kh·kw·outC]
	fBias    []float32 // outC, zero without bias
	fLo, fHi float32
	// uint8 / int8
	qFilter  []int32 // [kh·kw·outC], filter value + filter offset
	qBias    []int32 // outC, zero without bias
	inOff    int32
	mult     []int32 // per output channel
	shift    []int
	outZP    int32
	qLo, qHi int32
	fast     *dwFast  // nil unless fastEligible
	fastGeom convGeom // the geometry fast was built for
	workerFn func(lo, hi int)
}

func newDepthwise(n *node) (kernel, error) {
	o, ok := n.opts.(*tfl.DepthwiseConv2DOptions)
	if !ok {
		return nil, fmt.Errorf("missing DepthwiseConv2DOptions")
	}
	act, err := fusedActivation(o.Activation)
	if err != nil {
		return nil, err
	}
	k := &depthwise{n: n, opts: o, act: act}
	k.workerFn = k.worker
	return k, nil
}

func (k *depthwise) prepare() error {
	w, err := checkWeightOp(k.n, 3)
	if err != nil {
		return err
	}
	in, f := w.in, w.filter
	if len(in.Shape) != 4 || len(f.Shape) != 4 {
		return fmt.Errorf("input %v and filter %v must both have rank 4", in.Shape, f.Shape)
	}
	for _, d := range append(in.Shape[:4:4], f.Shape...) {
		if d <= 0 {
			return fmt.Errorf("input %v and filter %v must have positive dimensions", in.Shape, f.Shape)
		}
	}
	if f.Shape[0] != 1 {
		return fmt.Errorf("filter %v must have leading dimension 1", f.Shape)
	}
	inC, outC := in.Shape[3], f.Shape[3]
	if outC%inC != 0 {
		return fmt.Errorf("filter has %d output channels, not a multiple of the input's %d", outC, inC)
	}
	dm := outC / inC
	if o := k.opts.DepthMultiplier; o > 0 && o != dm {
		return fmt.Errorf("depth_multiplier %d does not match %d input and %d output channels", o, inC, outC)
	}
	if err := w.symmetricFilter(); err != nil {
		return err
	}
	o := k.opts
	win, err := computeWindow(o.Padding, in.Shape[1], in.Shape[2], f.Shape[1], f.Shape[2], o.StrideH, o.StrideW, o.DilationH, o.DilationW)
	if err != nil {
		return err
	}
	batch := in.Shape[0]
	k.geom = convGeom{inH: in.Shape[1], inW: in.Shape[2], inC: inC, kh: f.Shape[1], kw: f.Shape[2],
		sh: o.StrideH, sw: o.StrideW, dh: o.DilationH, dw: o.DilationW,
		padT: win.padT, padL: win.padL, outH: win.outH, outW: win.outW}
	k.dm = dm
	w.out.Shape = []int{batch, win.outH, win.outW, outC}
	k.rows = batch * win.outH

	k.w = w
	if k.packed == nil || !sameBytes(k.packed, f.Data) || k.fastGeom != k.geom {
		if err := k.tables(w); err != nil {
			return err
		}
		k.fast = nil
		if k.fastEligible() {
			// The fast path keeps what it needs; the general loop's
			// tables would only take memory.
			k.fastTables()
			k.qBias, k.mult, k.shift = nil, nil, nil
		}
		k.packed = f.Data
		k.fastGeom = k.geom
	}
	k.threads = min(max(k.n.threads, 1), k.rows)
	k.slot = roundUp64(outC * 4)
	if k.fast != nil {
		k.slot = k.fast.fastScratch()
	}
	k.n.scratchSize = k.threads * k.slot
	return nil
}

// tables precomputes the filter, bias and output stage.
func (k *depthwise) tables(w *weightOp) error {
	outC := w.channels
	if w.typ == tfl.Float32 {
		k.fFilter = w.filter.Float32s()
		k.fBias = make([]float32, outC)
		if w.bias != nil {
			copy(k.fBias, w.bias.Float32s())
		}
		k.fLo, k.fHi = quant.ActivationRangeFloat(k.act)
		return nil
	}
	r, err := w.requant(k.act, w.typ == tfl.Uint8)
	if err != nil {
		return err
	}
	fOff := -w.filter.ZeroPoint()
	k.qFilter = nil
	if !k.fastEligible() { // the fast path keeps its own filter
		k.qFilter = make([]int32, w.filter.NumElements())
		if w.typ == tfl.Uint8 {
			for i, v := range w.filter.Uint8s() {
				k.qFilter[i] = int32(v) + fOff
			}
		} else {
			for i, v := range w.filter.Int8s() {
				k.qFilter[i] = int32(v) + fOff
			}
		}
	}
	k.qBias = make([]int32, outC)
	if w.bias != nil {
		copy(k.qBias, w.bias.Int32s())
	}
	k.mult, k.shift = make([]int32, outC), make([]int, outC)
	for c := range outC {
		j := 0
		if len(r.Multiplier) > 1 {
			j = c
		}
		k.mult[c], k.shift[c] = r.Multiplier[j], r.Shift[j]
		if s := r.Shift[j]; s < -31 || s > 30 {
			return fmt.Errorf("output multiplier shift %d outside [-31, 30]", s)
		}
	}
	k.inOff = -w.in.ZeroPoint()
	k.outZP, k.qLo, k.qHi = r.ZeroPoint, r.Min, r.Max
	return nil
}

func (k *depthwise) eval() {
	parallel.For(k.threads, k.threads, k.workerFn)
}

// worker runs scratch slots [lo, hi): slot t computes the t-th contiguous
// share of the output rows.
func (k *depthwise) worker(lo, hi int) {
	chunk := (k.rows + k.threads - 1) / k.threads
	for t := lo; t < hi; t++ {
		slot := scratchSlot(k.n.scratch, t, k.slot)
		r0, r1 := t*chunk, min((t+1)*chunk, k.rows)
		switch k.w.typ {
		case tfl.Float32:
			k.floatRows(view[float32](slot), r0, r1)
		case tfl.Uint8:
			if k.fast != nil {
				dwFastRows(k, k.w.in.Uint8s(), k.w.out.Uint8s(), slot, r0, r1)
			} else {
				depthwiseQuantRows(k, k.w.in.Uint8s(), k.w.out.Uint8s(), view[int32](slot), r0, r1)
			}
		default:
			if k.fast != nil {
				dwFastRows(k, k.w.in.Int8s(), k.w.out.Int8s(), slot, r0, r1)
			} else {
				depthwiseQuantRows(k, k.w.in.Int8s(), k.w.out.Int8s(), view[int32](slot), r0, r1)
			}
		}
	}
}

func (k *depthwise) floatRows(acc []float32, r0, r1 int) {
	g := &k.geom
	outC, inC, dm := k.w.channels, g.inC, k.dm
	acc = acc[:outC]
	in, out := k.w.in.Float32s(), k.w.out.Float32s()
	imgLen := g.inH * g.inW * inC
	for r := r0; r < r1; r++ {
		b, oy := r/g.outH, r%g.outH
		img := in[b*imgLen : (b+1)*imgLen]
		for ox := range g.outW {
			clear(acc)
			iy0, ix0 := oy*g.sh-g.padT, ox*g.sw-g.padL
			for ky := range g.kh {
				iy := iy0 + ky*g.dh
				if iy < 0 || iy >= g.inH {
					continue
				}
				for kx := range g.kw {
					ix := ix0 + kx*g.dw
					if ix < 0 || ix >= g.inW {
						continue
					}
					px := img[(iy*g.inW+ix)*inC : (iy*g.inW+ix+1)*inC]
					fw := k.fFilter[(ky*g.kw+kx)*outC : (ky*g.kw+kx+1)*outC]
					if dm == 1 {
						fw = fw[:len(px)]
						for c, v := range px {
							acc[c] += v * fw[c]
						}
						continue
					}
					for ic, v := range px {
						for m := range dm {
							acc[ic*dm+m] += v * fw[ic*dm+m]
						}
					}
				}
			}
			dst := out[((r*g.outW)+ox)*outC : ((r*g.outW)+ox+1)*outC]
			for c, v := range acc {
				dst[c] = min(max(v+k.fBias[c], k.fLo), k.fHi)
			}
		}
	}
}

// depthwiseQuantRows computes output rows [r0, r1) of a uint8 or int8
// depthwise convolution: the reference loop
//
//	acc = bias[c] + Σ_taps (in + inOff)·(filter + filterOff)
//	out = clamp(MultiplyByQuantizedMultiplier(acc, mult[c], shift[c]) + outZP)
func depthwiseQuantRows[T int8 | uint8](k *depthwise, in, out []T, acc []int32, r0, r1 int) {
	g := &k.geom
	outC, inC, dm := k.w.channels, g.inC, k.dm
	acc = acc[:outC]
	imgLen := g.inH * g.inW * inC
	inOff := k.inOff
	for r := r0; r < r1; r++ {
		b, oy := r/g.outH, r%g.outH
		img := in[b*imgLen : (b+1)*imgLen]
		for ox := range g.outW {
			copy(acc, k.qBias)
			iy0, ix0 := oy*g.sh-g.padT, ox*g.sw-g.padL
			for ky := range g.kh {
				iy := iy0 + ky*g.dh
				if iy < 0 || iy >= g.inH {
					continue
				}
				for kx := range g.kw {
					ix := ix0 + kx*g.dw
					if ix < 0 || ix >= g.inW {
						continue
					}
					px := img[(iy*g.inW+ix)*inC : (iy*g.inW+ix+1)*inC]
					fw := k.qFilter[(ky*g.kw+kx)*outC : (ky*g.kw+kx+1)*outC]
					if dm == 1 {
						fw = fw[:len(px)]
						for c, v := range px {
							acc[c] += (int32(v) + inOff) * fw[c]
						}
						continue
					}
					for ic, v := range px {
						x := int32(v) + inOff
						for m := range dm {
							acc[ic*dm+m] += x * fw[ic*dm+m]
						}
					}
				}
			}
			dst := out[((r*g.outW)+ox)*outC : ((r*g.outW)+ox+1)*outC]
			for c, v := range acc {
				v = quant.MultiplyByQuantizedMultiplier(v, k.mult[c], k.shift[c]) + k.outZP
				dst[c] = T(min(max(v, k.qLo), k.qHi))
			}
		}
	}
}
