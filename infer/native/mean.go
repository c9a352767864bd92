package native

import (
	"fmt"
	"math"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// mean implements MEAN over the axes given by a constant int32 tensor
// (input 1; negative axes count from the end, repeats are ignored), with
// or without keep_dims, for float32, uint8 and int8.
//
// The sum is accumulated per output element in input order (float32 for
// float tensors, int32 for 8-bit ones), which is also the order of
// TFLite's reference loops, so float sums round identically. The 8-bit
// result then follows whichever of TFLite's three formulas its kernel
// would pick (see quant/mean.go): the fixed-point height-and-width mean for
// keep_dims rank-4 reductions of axes {1, 2} (global average pooling in
// MobileNet v2 and EfficientNet), truncating division when input and
// output share parameters, float rescaling otherwise.
type mean struct {
	n    *node
	keep bool

	// Set by prepare.
	red   reduceWalk
	count int // input elements per output element
	run   func()
}

// reduceWalk walks a contiguous input in order, giving for each row of
// its (coalesced) innermost dimension the offset of its first output
// element; ost is the output stride of each dimension, 0 when reduced.
type reduceWalk struct {
	rank int // 0 when the input is empty
	dims [maxRank]int
	ost  [maxRank]int
}

func newMean(n *node) (kernel, error) {
	k := &mean{n: n}
	if n.opts != nil {
		o, ok := n.opts.(*tfl.ReducerOptions)
		if !ok {
			return nil, fmt.Errorf("unexpected options %T", n.opts)
		}
		k.keep = o.KeepDims
	}
	return k, nil
}

func (k *mean) prepare() error {
	in, axis := k.n.input(0), k.n.input(1)
	if in == nil || axis == nil || len(k.n.out) != 1 {
		return fmt.Errorf("needs 2 inputs (data, axes) and 1 output")
	}
	out := k.n.out[0]
	if in.Type != out.Type {
		return fmt.Errorf("input is %s but output is %s", in.Type, out.Type)
	}
	if err := checkType(in, tfl.Float32, tfl.Uint8, tfl.Int8); err != nil {
		return err
	}
	r := len(in.Shape)
	if r > maxRank {
		return fmt.Errorf("input rank %d is above %d", r, maxRank)
	}
	if !axis.Const || axis.Type != tfl.Int32 || len(axis.Shape) > 1 {
		return fmt.Errorf("axes must be a constant int32 scalar or vector, got %s %v (constant %v)", axis.Type, axis.Shape, axis.Const)
	}
	raw := axis.Int32s()[:axis.NumElements()]
	reduced := make([]bool, r)
	for _, a := range raw {
		d := int(a)
		if d < 0 {
			d += r
		}
		if d < 0 || d >= r {
			return fmt.Errorf("axis %d is out of range for input %v", a, in.Shape)
		}
		reduced[d] = true
	}
	var shape []int
	k.count = 1
	for d, n := range in.Shape {
		switch {
		case !reduced[d]:
			shape = append(shape, n)
		case k.keep:
			shape = append(shape, 1)
			k.count *= n
		default:
			k.count *= n
		}
	}
	if shape == nil {
		shape = []int{}
	}
	out.Shape = shape
	k.red = newReduceWalk(in.Shape, reduced)
	nout := tfl.NumElements(shape)
	k.n.scratchSize = 4 * nout

	if in.NumElements() == 0 {
		// TFLite fills the output with the type's quiet NaN (0 for integers).
		k.run = func() {
			if out.Type == tfl.Float32 {
				for i := range out.Float32s() {
					out.Float32s()[i] = float32(math.NaN())
				}
			} else {
				clear(out.Data)
			}
		}
		return nil
	}
	if in.Type == tfl.Float32 {
		n := float32(k.count)
		k.run = func() {
			sum := view[float32](k.n.scratch)
			clear(sum)
			reduceSum(&k.red, in.Float32s(), sum)
			o := out.Float32s()
			for i, s := range sum {
				o[i] = s / n
			}
		}
		return nil
	}

	for _, t := range []*Tensor{in, out} {
		if err := checkPerTensor(t); err != nil {
			return err
		}
	}
	qmin, qmax := quant.TypeRange(in.Type == tfl.Int8)
	var finish func(sum int32) int32
	hw := k.keep && r == 4 && len(raw) == 2 && (raw[0] == 1 && raw[1] == 2 || raw[0] == 2 && raw[1] == 1)
	switch {
	case hw:
		p := quant.NewMeanHW(in.Scale(), in.ZeroPoint(), out.Scale(), out.ZeroPoint(), k.count, qmin, qmax)
		finish = p.Mean
	case in.Scale() == out.Scale() && in.ZeroPoint() == out.ZeroPoint():
		c := int32(k.count)
		finish = func(sum int32) int32 { return quant.MeanSame(sum, c) }
	default:
		p := quant.NewMeanRescale(in.Scale(), in.ZeroPoint(), out.Scale(), out.ZeroPoint(), k.count, qmin, qmax)
		finish = p.Mean
	}
	if in.Type == tfl.Uint8 {
		k.run = func() { meanQ(&k.red, in.Uint8s(), out.Uint8s(), view[int32](k.n.scratch), finish) }
	} else {
		k.run = func() { meanQ(&k.red, in.Int8s(), out.Int8s(), view[int32](k.n.scratch), finish) }
	}
	return nil
}

func (k *mean) eval() { k.run() }

func meanQ[T uint8 | int8](w *reduceWalk, in, out []T, sum []int32, finish func(int32) int32) {
	clear(sum)
	reduceSum(w, in, sum)
	for i, s := range sum {
		out[i] = T(finish(s))
	}
}

// newReduceWalk plans the reduction of a tensor of the given shape over
// the dimensions marked in reduced. Dimensions of size 1 are dropped and
// neighbours that are both reduced or both kept are merged.
func newReduceWalk(shape []int, reduced []bool) reduceWalk {
	var w reduceWalk
	if tfl.NumElements(shape) == 0 {
		return w
	}
	type dim struct {
		n   int
		red bool
	}
	var ds []dim
	for i, n := range shape {
		if n == 1 {
			continue
		}
		if k := len(ds) - 1; k >= 0 && ds[k].red == reduced[i] {
			ds[k].n *= n
			continue
		}
		ds = append(ds, dim{n, reduced[i]})
	}
	if len(ds) == 0 {
		ds = append(ds, dim{n: 1})
	}
	w.rank = len(ds)
	s := 1
	for i := len(ds) - 1; i >= 0; i-- {
		w.dims[i] = ds[i].n
		if !ds[i].red {
			w.ost[i] = s
			s *= ds[i].n
		}
	}
	return w
}

// reduceSum adds every input element to its output element's sum.
func reduceSum[T float32 | uint8 | int8, A float32 | int32](w *reduceWalk, in []T, sum []A) {
	if w.rank == 0 {
		return
	}
	last := w.rank - 1
	n, s := w.dims[last], w.ost[last]
	var idx [maxRank]int
	i, o := 0, 0
	for {
		row := in[i : i+n]
		if s == 0 {
			a := sum[o]
			for _, v := range row {
				a += A(v)
			}
			sum[o] = a
		} else {
			dst := sum[o : o+n]
			for j, v := range row {
				dst[j] += A(v)
			}
		}
		i += n
		d := last - 1
		for ; d >= 0; d-- {
			idx[d]++
			o += w.ost[d]
			if idx[d] < w.dims[d] {
				break
			}
			o -= w.ost[d] * w.dims[d]
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}
