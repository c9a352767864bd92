package native

import (
	"fmt"
	"math"
	"slices"
	"unsafe"

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

	// f8, set by setup for 8-bit tensors, is the operator's reference
	// result for one pair of input values (as signed or unsigned integers).
	f8 func(x, y int32) int32

	// fop, set by setup for float32 tensors, selects floatRow's operation;
	// flo and fhi are the activation's clamp.
	fop      floatOp
	flo, fhi float32

	// Set by prepare.
	bc     broadcast
	row    func(o, a, b int)
	tab    []uint8 // see constTable
	tabVar int     // the input tab is indexed by (0 or 1)
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
	k.f8, k.tab, k.fop = nil, nil, 0
	if err := k.setup(k); err != nil {
		return err
	}
	k.constTable()
	return nil
}

func (k *binaryKernel) eval() {
	switch {
	case k.fop != 0 && k.bc.rank <= 2:
		k.evalFloat()
	case k.tab != nil && k.bc.rank <= 2:
		k.evalTable()
	default:
		k.bc.walk(k.row)
	}
}

// evalTable walks the rows of a tabulated operator (constTable) with at
// most two dimensions without indirect calls.
func (k *binaryKernel) evalTable() {
	v, d := k.n.in[k.tabVar].Data, k.n.out[0].Data
	n, sv, sc := k.bc.inner()
	rows, rv, rc := 1, 0, 0
	if k.bc.rank == 2 {
		rows, rv, rc = k.bc.dims[0], k.bc.st1[0], k.bc.st2[0]
	}
	if k.tabVar == 1 {
		sv, sc, rv, rc = sc, sv, rc, rv
	}
	o, a, b := 0, 0, 0
	for range rows {
		tableRow(k.tab[b<<8:], d[o:o+n], v[a:], sv, sc)
		o += n
		a += rv
		b += rc
	}
}

// floatOp names the operation of a float32 ADD, SUB or MUL.
type floatOp uint8

const (
	fAdd floatOp = iota + 1
	fSub
	fMul
)

// setFloat sets up a float32 operator: rows of floatRow, walked without
// indirect calls when the broadcast has at most two dimensions (same
// shapes, a scalar, or a per-channel vector against a map).
func (k *binaryKernel) setFloat(op floatOp, lo, hi float32) {
	k.fop, k.flo, k.fhi = op, lo, hi
	x, y, out := k.n.in[0], k.n.in[1], k.n.out[0]
	n, sx, sy := k.bc.inner()
	k.row = func(o, a, b int) {
		floatRow(op, out.Float32s()[o:o+n], x.Float32s()[a:], y.Float32s()[b:], sx, sy, lo, hi)
	}
}

func (k *binaryKernel) evalFloat() {
	x, y, d := k.n.in[0].Float32s(), k.n.in[1].Float32s(), k.n.out[0].Float32s()
	n, sx, sy := k.bc.inner()
	rows, rx, ry := 1, 0, 0
	if k.bc.rank == 2 {
		rows, rx, ry = k.bc.dims[0], k.bc.st1[0], k.bc.st2[0]
	}
	// Same shapes, or a per-channel vector against a map: one SIMD call
	// with the activation's clamp fused, as floatRow computes it. There
	// is always a clamp: without an activation it is TFLite's
	// ±MaxFloat32, which turns overflows into ±MaxFloat32.
	if sx == 1 && sy == 1 && (rows == 1 || rx == n && ry == 0) && vecRowsSIMD(k.fop, d[:rows*n], x[:rows*n], y[:n], k.flo, k.fhi) {
		return
	}
	o, a, b := 0, 0, 0
	for range rows {
		floatRow(k.fop, d[o:o+n], x[a:], y[b:], sx, sy, k.flo, k.fhi)
		o += n
		a += rx
		b += ry
	}
}

// floatRow computes d[i] = clamp(x[i·sx] op y[i·sy], lo, hi), with loops
// the compiler frees of bounds checks for the common strides and the clamp
// left out when it is the whole extended real line (no NaN or −0 is
// changed by it; the fused activations' bounds are finite, see
// quant.ActivationRangeFloat).
func floatRow(op floatOp, d, x, y []float32, sx, sy int, lo, hi float32) {
	switch {
	case sx == 1 && sy == 1:
		x, y = x[:len(d)], y[:len(d)]
		switch op {
		case fAdd:
			for i := range d {
				d[i] = x[i] + y[i]
			}
		case fSub:
			for i := range d {
				d[i] = x[i] - y[i]
			}
		default:
			for i := range d {
				d[i] = x[i] * y[i]
			}
		}
	case sx == 1 && sy == 0:
		x, c := x[:len(d)], y[0]
		switch op {
		case fAdd:
			for i := range d {
				d[i] = x[i] + c
			}
		case fSub:
			for i := range d {
				d[i] = x[i] - c
			}
		default:
			for i := range d {
				d[i] = x[i] * c
			}
		}
	default:
		i, j := 0, 0
		for o := range d {
			var v float32
			switch op {
			case fAdd:
				v = x[i] + y[j]
			case fSub:
				v = x[i] - y[j]
			default:
				v = x[i] * y[j]
			}
			d[o] = v
			i += sx
			j += sy
		}
	}
	if math.IsInf(float64(lo), -1) && math.IsInf(float64(hi), 1) {
		return
	}
	clampRow(d, lo, hi)
}

// constTable replaces an 8-bit row function by table lookups when one
// input is a constant of at most 256 elements (a scalar, or a per-channel
// vector such as a lowered batch normalisation's scale and shift): the
// result for constant element j and variable byte b is f8 tabulated at
// tab[j·256+b]. The table holds the reference results, so the lookups are
// exact, and they are far cheaper than the fixed-point arithmetic. It is
// built only when the output has at least a quarter as many elements as
// the table, so that it is reused.
func (k *binaryKernel) constTable() {
	x, y, out := k.n.in[0], k.n.in[1], k.n.out[0]
	if k.f8 == nil || k.bc.rank == 0 {
		return
	}
	c, constFirst := y, false
	if !y.Const {
		if !x.Const {
			return
		}
		c, constFirst = x, true
	}
	nc := c.NumElements()
	if nc > 256 || nc*256 > 4*out.NumElements() {
		return
	}
	value := func(b byte) int32 {
		if out.Type == tfl.Int8 {
			return int32(int8(b))
		}
		return int32(b)
	}
	f := k.f8
	if constFirst {
		f = func(v, cv int32) int32 { return k.f8(cv, v) }
	}
	tab := make([]uint8, nc*256)
	for j := range nc {
		cv := value(c.Data[j])
		for b := range 256 {
			tab[j<<8|b] = uint8(f(value(byte(b)), cv))
		}
	}
	k.tab, k.tabVar = tab, 0
	v := x
	n, sv, sc := k.bc.inner()
	if constFirst {
		k.tabVar, v, sv, sc = 1, y, sc, sv
	}
	k.row = func(o, a, b int) {
		if constFirst {
			a, b = b, a
		}
		tableRow(tab[b<<8:], out.Data[o:o+n], v.Data[a:], sv, sc)
	}
}

// tableRow computes d[i] = tab[(i·sc)·256 + v[i·sv]].
func tableRow(tab, d, v []byte, sv, sc int) {
	switch {
	case sc == 0:
		t := (*[256]byte)(tab)
		if sv == 1 {
			v = v[:len(d)]
			for i, b := range v {
				d[i] = t[b]
			}
			return
		}
		j := 0
		for i := range d {
			d[i] = t[v[j]]
			j += sv
		}
	case sv == 1 && sc == 1:
		// Every index i·256 + v[i] is below len(d)·256, which the slice
		// expression checks once.
		v = v[:len(d)]
		t := unsafe.Pointer(unsafe.SliceData(tab[:len(d)<<8]))
		for i, b := range v {
			d[i] = *(*byte)(unsafe.Add(t, i<<8|int(b)))
		}
	default:
		j, c := 0, 0
		for i := range d {
			d[i] = tab[c<<8|int(v[j])]
			j += sv
			c += sc
		}
	}
}

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
