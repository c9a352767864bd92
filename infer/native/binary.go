package native

import (
	"fmt"
	"math"
	"slices"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// maxRank is the highest tensor rank the shape-generic kernels (broadcast,
// transpose, pad, reductions) handle, as TFLite's 6-D kernels.
const maxRank = 6

// broadcast maps the two inputs of an element-wise binary operator onto
// its output with NumPy broadcasting rules. Dimensions of size 1 in the
// output are dropped and neighbouring dimensions that both inputs either
// span or repeat alike are merged, so that the common cases become one
// flat row (same shapes, scalar operand) or a few long rows (a per-channel
// vector against an NHWC map), and eval walks rows rather than elements.
type broadcast struct {
	rank     int // 0 when the output is empty
	dims     [maxRank]int
	st1, st2 [maxRank]int // element strides; 0 where that input repeats
}

// broadcastShape returns the broadcast shape of a and b, or an error when
// they are incompatible.
func broadcastShape(a, b []int) ([]int, error) {
	r := max(len(a), len(b))
	if r > maxRank {
		return nil, fmt.Errorf("shapes %v and %v: rank above %d is not supported", a, b, maxRank)
	}
	out := make([]int, r)
	for i := range r {
		da, db := dimFromEnd(a, r-1-i), dimFromEnd(b, r-1-i)
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v cannot be broadcast together", a, b)
		}
	}
	return out, nil
}

// dimFromEnd returns dimension i counted from the end of shape (0 is the
// last), or 1 beyond its rank.
func dimFromEnd(shape []int, i int) int {
	if i >= len(shape) {
		return 1
	}
	return shape[len(shape)-1-i]
}

// newBroadcast plans the walk of out = f(a, b); out must be
// broadcastShape(a, b).
func newBroadcast(a, b, out []int) broadcast {
	var bc broadcast
	if tfl.NumElements(out) == 0 {
		return bc
	}
	r := len(out)
	type dim struct {
		n          int
		rep1, rep2 bool
	}
	var ds []dim
	for i := range r {
		n := out[i]
		if n == 1 {
			continue
		}
		d := dim{n: n, rep1: dimFromEnd(a, r-1-i) == 1, rep2: dimFromEnd(b, r-1-i) == 1}
		if k := len(ds) - 1; k >= 0 && ds[k].rep1 == d.rep1 && ds[k].rep2 == d.rep2 {
			ds[k].n *= n
			continue
		}
		ds = append(ds, d)
	}
	if len(ds) == 0 {
		ds = append(ds, dim{n: 1})
	}
	bc.rank = len(ds)
	s1, s2 := 1, 1
	for i := len(ds) - 1; i >= 0; i-- {
		bc.dims[i] = ds[i].n
		if !ds[i].rep1 {
			bc.st1[i] = s1
			s1 *= ds[i].n
		}
		if !ds[i].rep2 {
			bc.st2[i] = s2
			s2 *= ds[i].n
		}
	}
	return bc
}

// inner returns the row length and the two inputs' strides along it.
func (bc *broadcast) inner() (n, s1, s2 int) {
	if bc.rank == 0 {
		return 0, 0, 0
	}
	r := bc.rank - 1
	return bc.dims[r], bc.st1[r], bc.st2[r]
}

// walk calls row(o, a, b) for every output row in order: o is the offset
// of the row in the output, a and b the offsets of its first operands.
func (bc *broadcast) walk(row func(o, a, b int)) {
	if bc.rank == 0 {
		return
	}
	var idx [maxRank]int
	last := bc.rank - 1
	n := bc.dims[last]
	o, a, b := 0, 0, 0
	for {
		row(o, a, b)
		o += n
		d := last - 1
		for ; d >= 0; d-- {
			idx[d]++
			a += bc.st1[d]
			b += bc.st2[d]
			if idx[d] < bc.dims[d] {
				break
			}
			a -= bc.st1[d] * bc.dims[d]
			b -= bc.st2[d] * bc.dims[d]
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

// binaryKernel is the wiring shared by ADD, SUB and MUL: two inputs of one
// type, broadcast to one output of that type. setup (one per operator, in
// its own file) checks the quantisation and sets row for the tensor type.
type binaryKernel struct {
	n     *node
	act   int
	setup func(k *binaryKernel) error

	// Set by prepare.
	bc  broadcast
	row func(o, a, b int)
}

func newBinary(n *node, setup func(k *binaryKernel) error) (kernel, error) {
	act := quant.ActNone
	if n.opts != nil {
		o, ok := n.opts.(*tfl.ActivationOptions)
		if !ok {
			return nil, fmt.Errorf("unexpected options %T", n.opts)
		}
		a, err := fusedActivation(o.Activation)
		if err != nil {
			return nil, err
		}
		act = a
	}
	return &binaryKernel{n: n, act: act, setup: setup}, nil
}

func (k *binaryKernel) prepare() error {
	x, y := k.n.input(0), k.n.input(1)
	if x == nil || y == nil || len(k.n.in) != 2 || len(k.n.out) != 1 {
		return fmt.Errorf("needs 2 inputs and 1 output")
	}
	out := k.n.out[0]
	if x.Type != y.Type || x.Type != out.Type {
		return fmt.Errorf("inputs are %s and %s, output is %s; all three must have one type", x.Type, y.Type, out.Type)
	}
	shape, err := broadcastShape(x.Shape, y.Shape)
	if err != nil {
		return err
	}
	out.Shape = shape
	k.bc = newBroadcast(x.Shape, y.Shape, shape)
	if x.Type == tfl.Uint8 || x.Type == tfl.Int8 {
		for _, t := range []*Tensor{x, y, out} {
			if err := checkPerTensor(t); err != nil {
				return err
			}
		}
	}
	return k.setup(k)
}

func (k *binaryKernel) eval() { k.bc.walk(k.row) }

// activationRangeInt32 is TFLite's CalculateActivationRange for int32
// outputs.
func activationRangeInt32(act int) (lo, hi int32) {
	switch act {
	case quant.ActRelu:
		return 0, math.MaxInt32
	case quant.ActRelu6:
		return 0, 6
	case quant.ActReluN1To1:
		return -1, 1
	}
	return math.MinInt32, math.MaxInt32
}

// outputActivationRange is CalculateActivationRangeQuantized for an 8-bit
// output tensor.
func outputActivationRange(act int, out *Tensor) (lo, hi int32) {
	qmin, qmax := quant.TypeRange(out.Type == tfl.Int8)
	return quant.ActivationRange(act, out.Scale(), out.ZeroPoint(), qmin, qmax)
}

// sameQuant checks that a and b (8-bit tensors) carry identical
// per-tensor parameters, for operators that move quantised values without
// rescaling them.
func sameQuant(a, b *Tensor) error {
	if a.Type != tfl.Uint8 && a.Type != tfl.Int8 {
		return nil
	}
	for _, t := range []*Tensor{a, b} {
		if err := checkPerTensor(t); err != nil {
			return err
		}
	}
	if a.Scale() != b.Scale() || a.ZeroPoint() != b.ZeroPoint() {
		return fmt.Errorf("tensors %q (scale %g, zero point %d) and %q (scale %g, zero point %d) must share quantisation parameters",
			a.Name, a.Scale(), a.ZeroPoint(), b.Name, b.Scale(), b.ZeroPoint())
	}
	return nil
}

// binaryRow builds a binaryKernel's row function for element type T from a
// typed row loop f, which combines x[i·sx] and y[i·sy] into d[i].
func binaryRow[T any](k *binaryKernel, view func(*Tensor) []T, f func(d, x, y []T, sx, sy int)) func(o, a, b int) {
	x, y, out := k.n.in[0], k.n.in[1], k.n.out[0]
	n, sx, sy := k.bc.inner()
	return func(o, a, b int) { f(view(out)[o:o+n], view(x)[a:], view(y)[b:], sx, sy) }
}

// checkType fails unless t has one of the types ok.
func checkType(t *Tensor, ok ...tfl.TensorType) error {
	if slices.Contains(ok, t.Type) {
		return nil
	}
	return fmt.Errorf("type %s is not supported (want one of %v)", t.Type, ok)
}
