package native

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// Tests of ADD, SUB and MUL: broadcasting against a naive index
// calculation, float and int32 exactly, 8-bit against a float reference
// (dequantise, compute, quantise; at most one step apart) and against a
// transliteration of TFLite's integer arithmetic (exactly).

// naiveIndex maps output position o of shape out onto an input of shape
// in (broadcast from the right).
func naiveIndex(out, in []int, o int) int {
	idx := make([]int, len(out))
	for d := len(out) - 1; d >= 0; d-- {
		idx[d] = o % out[d]
		o /= out[d]
	}
	off, stride := 0, 1
	for d := len(in) - 1; d >= 0; d-- {
		od := d + len(out) - len(in)
		i := idx[od]
		if in[d] == 1 {
			i = 0
		}
		off += i * stride
		stride *= in[d]
	}
	return off
}

var binaryShapes = []struct{ a, b, out []int }{
	{[]int{2, 3}, []int{2, 3}, []int{2, 3}},
	{[]int{1, 4, 4, 3}, []int{3}, []int{1, 4, 4, 3}},
	{[]int{3}, []int{2, 4, 4, 3}, []int{2, 4, 4, 3}},
	{[]int{2, 1, 5}, []int{1, 3, 1}, []int{2, 3, 5}},
	{[]int{2, 3, 4}, []int{}, []int{2, 3, 4}},
	{[]int{1}, []int{1}, []int{1}},
	{[]int{2, 1, 3, 1, 2, 2}, []int{1, 2, 1, 2, 1, 2}, []int{2, 2, 3, 2, 2, 2}},
	{[]int{4, 1}, []int{1, 1, 6}, []int{1, 4, 6}},
	{[]int{0, 3}, []int{3}, []int{0, 3}},
}

type binaryOp struct {
	name string
	code tfl.BuiltinOp
	nk   newKernel
	f    func(a, b float64) float64
}

var binaryOps = []binaryOp{
	{"ADD", tfl.OpAdd, newAdd, func(a, b float64) float64 { return a + b }},
	{"SUB", tfl.OpSub, newSub, func(a, b float64) float64 { return a - b }},
	{"MUL", tfl.OpMul, newMul, func(a, b float64) float64 { return a * b }},
}

func randF32s(r *rand.Rand, n int, lo, hi float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(lo + (hi-lo)*r.Float64())
	}
	return v
}

func TestBinaryFloatBroadcast(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, op := range binaryOps {
		for _, act := range []tfl.Activation{tfl.ActNone, tfl.ActRelu, tfl.ActRelu6, tfl.ActReluN1To1} {
			for _, sh := range binaryShapes {
				a := floatTensor(sh.a, randF32s(r, tfl.NumElements(sh.a), -8, 8), false)
				b := floatTensor(sh.b, randF32s(r, tfl.NumElements(sh.b), -8, 8), true)
				out := emptyOut(tfl.Float32, 0, 0)
				if err := runKernel(t, op.nk, op.code, &tfl.ActivationOptions{Activation: act}, 1, []*Tensor{a, b}, out); err != nil {
					t.Fatalf("%s %v %v: %v", op.name, sh.a, sh.b, err)
				}
				if !slices.Equal(out.Shape, sh.out) {
					t.Fatalf("%s %v %v: shape %v, want %v", op.name, sh.a, sh.b, out.Shape, sh.out)
				}
				lo, hi := quant.ActivationRangeFloat(int(act))
				for o, got := range out.Float32s() {
					x := a.Float32s()[naiveIndex(sh.out, sh.a, o)]
					y := b.Float32s()[naiveIndex(sh.out, sh.b, o)]
					want := min(max(float32(op.f(float64(x), float64(y))), lo), hi)
					if got != want {
						t.Fatalf("%s %s %v %v: out[%d] = %g, want %g", op.name, act, sh.a, sh.b, o, got, want)
					}
				}
			}
		}
	}
}

func TestBinaryInt32(t *testing.T) {
	for _, tc := range []struct {
		op   binaryOp
		act  tfl.Activation
		want []int32
	}{
		{binaryOps[0], tfl.ActNone, []int32{-9, 11, 5, 10}},
		{binaryOps[1], tfl.ActNone, []int32{-11, 9, -5, 0}},
		{binaryOps[2], tfl.ActRelu6, []int32{0, 6, 0, 6}},
		{binaryOps[2], tfl.ActRelu, []int32{0, 10, 0, 25}},
	} {
		a := &Tensor{Type: tfl.Int32, Shape: []int{2, 2}, Data: alignedBytes(16)}
		copy(a.Int32s(), []int32{-10, 10, 0, 5})
		b := &Tensor{Type: tfl.Int32, Shape: []int{2, 1}, Data: alignedBytes(8)}
		copy(b.Int32s(), []int32{1, 5})
		out := emptyOut(tfl.Int32, 0, 0)
		if err := runKernel(t, tc.op.nk, tc.op.code, &tfl.ActivationOptions{Activation: tc.act}, 1, []*Tensor{a, b}, out); err != nil {
			t.Fatal(err)
		}
		if got := out.Int32s(); !slices.Equal(got, tc.want) {
			t.Errorf("%s %s: got %v, want %v", tc.op.name, tc.act, got, tc.want)
		}
	}
}

// qparams is a random 8-bit quantisation.
type qparams struct {
	typ   tfl.TensorType
	scale float32
	zp    int64
}

func randQuant(r *rand.Rand, typ tfl.TensorType, lo, hi float64) qparams {
	qmin, qmax := quant.TypeRange(typ == tfl.Int8)
	// Cover [lo, hi] jittered, zero point inside the range.
	l := lo * (0.5 + r.Float64())
	h := hi * (0.5 + r.Float64())
	s := (h - l) / float64(qmax-qmin)
	zp := int64(math.Round(float64(qmin) - l/s))
	zp = max(min(zp, int64(qmax)), int64(qmin))
	return qparams{typ, float32(s), zp}
}

func (q qparams) tensor(r *rand.Rand, shape []int, c bool) *Tensor {
	t := quantTensor(q.typ, shape, []float32{q.scale}, []int64{q.zp}, 0, c)
	for i := range t.Data {
		t.Data[i] = byte(r.IntN(256))
	}
	return t
}

// qget reads element i of an 8-bit tensor as int32.
func qget(t *Tensor, i int) int32 {
	if t.Type == tfl.Int8 {
		return int32(t.Int8s()[i])
	}
	return int32(t.Uint8s()[i])
}

func deq(t *Tensor, i int) float64 {
	return float64(t.Scale()) * float64(qget(t, i)-t.ZeroPoint())
}

// quantRef quantises a real value into t's parameters with clamp [lo, hi].
func quantRef(t *Tensor, v float64, lo, hi int32) int32 {
	q := math.Round(v/float64(t.Scale())) + float64(t.ZeroPoint())
	return int32(max(min(q, float64(hi)), float64(lo)))
}

func TestBinaryQuantisedProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	worst := map[string]int32{}
	for _, op := range binaryOps {
		for _, typ := range []tfl.TensorType{tfl.Uint8, tfl.Int8} {
			for trial := range 60 {
				sh := binaryShapes[trial%len(binaryShapes)]
				act := []tfl.Activation{tfl.ActNone, tfl.ActRelu, tfl.ActRelu6}[trial%3]
				qa, qb := randQuant(r, typ, -4, 4), randQuant(r, typ, -2, 6)
				var qo qparams
				if op.name == "MUL" {
					qo = randQuant(r, typ, -20, 20)
				} else {
					qo = randQuant(r, typ, -8, 10)
				}
				a, b := qa.tensor(r, sh.a, false), qb.tensor(r, sh.b, false)
				out := emptyOut(typ, qo.scale, qo.zp)
				if err := runKernel(t, op.nk, op.code, &tfl.ActivationOptions{Activation: act}, 1, []*Tensor{a, b}, out); err != nil {
					t.Fatalf("%s %s: %v", op.name, typ, err)
				}
				lo, hi := outputActivationRange(int(act), out)
				for o := range out.NumElements() {
					x, y := deq(a, naiveIndex(sh.out, sh.a, o)), deq(b, naiveIndex(sh.out, sh.b, o))
					want := quantRef(out, op.f(x, y), lo, hi)
					got := qget(out, o)
					d := got - want
					if d < 0 {
						d = -d
					}
					worst[op.name] = max(worst[op.name], d)
					if d > 1 {
						t.Fatalf("%s %s %s %v %v: out[%d] = %d, float reference %d (x %g, y %g)", op.name, typ, act, sh.a, sh.b, o, got, want, x, y)
					}
				}
			}
		}
	}
	t.Logf("max |Δ| vs float reference (steps): %v", worst)
}

// The transliteration below restates TFLite's integer ADD/MUL step by step
// with 64-bit arithmetic, independently of package quant, to pin the
// rounding (ties, negative values, saturation) bit for bit.

func refSRDHM(a, b int32) int32 {
	if a == math.MinInt32 && b == math.MinInt32 {
		return math.MaxInt32
	}
	p := int64(a) * int64(b)
	n := int64(1 << 30)
	if p < 0 {
		n = 1 - (1 << 30)
	}
	q := (p + n) / (1 << 31) // truncating, as C++
	return int32(q)
}

func refRDBPOT(x int32, e int) int32 {
	if e == 0 {
		return x
	}
	// Round half away from zero of x / 2^e.
	d := float64(x) / math.Ldexp(1, e)
	return int32(math.Round(d))
}

func refQuantizeMultiplier(m float64) (int32, int) {
	if m == 0 {
		return 0, 0
	}
	f, e := math.Frexp(m)
	q := int64(math.Round(f * (1 << 31)))
	if q == 1<<31 {
		q /= 2
		e++
	}
	return int32(q), e
}

func refAdd(sub bool, x, y, zx, zy int32, sx, sy float32, zo int32, so float32, lo, hi int32) int32 {
	twice := 2 * float64(max(sx, sy))
	m1, e1 := refQuantizeMultiplier(float64(sx) / twice)
	m2, e2 := refQuantizeMultiplier(float64(sy) / twice)
	mo, eo := refQuantizeMultiplier(twice / (float64(1<<20) * float64(so)))
	a := refRDBPOT(refSRDHM((x-zx)<<20, m1), -e1)
	b := refRDBPOT(refSRDHM((y-zy)<<20, m2), -e2)
	s := a + b
	if sub {
		s = a - b
	}
	v := refRDBPOT(refSRDHM(s, mo), -eo) + zo
	return max(min(v, hi), lo)
}

func refMul(x, y, zx, zy int32, sx, sy float32, zo int32, so float32, lo, hi int32) int32 {
	m, e := refQuantizeMultiplier(float64(sx * sy / so))
	p := (x - zx) * (y - zy)
	var v int32
	if e > 0 {
		v = refSRDHM(p<<e, m)
	} else {
		v = refRDBPOT(refSRDHM(p, m), -e)
	}
	v += zo
	return max(min(v, hi), lo)
}

func TestBinaryQuantisedExact(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, op := range binaryOps {
		for _, typ := range []tfl.TensorType{tfl.Uint8, tfl.Int8} {
			for range 20 {
				shape := []int{2, 3, 5, 7}
				qa, qb := randQuant(r, typ, -3, 3), randQuant(r, typ, -1, 5)
				qo := randQuant(r, typ, -6, 9)
				a, b := qa.tensor(r, shape, false), qb.tensor(r, shape[2:], false)
				out := emptyOut(typ, qo.scale, qo.zp)
				if err := runKernel(t, op.nk, op.code, &tfl.ActivationOptions{Activation: tfl.ActRelu}, 1, []*Tensor{a, b}, out); err != nil {
					t.Fatal(err)
				}
				lo, hi := outputActivationRange(quant.ActRelu, out)
				for o := range out.NumElements() {
					x, y := qget(a, o), qget(b, naiveIndex(shape, shape[2:], o))
					var want int32
					if op.name == "MUL" {
						want = refMul(x, y, a.ZeroPoint(), b.ZeroPoint(), a.Scale(), b.Scale(), out.ZeroPoint(), out.Scale(), lo, hi)
					} else {
						want = refAdd(op.name == "SUB", x, y, a.ZeroPoint(), b.ZeroPoint(), a.Scale(), b.Scale(), out.ZeroPoint(), out.Scale(), lo, hi)
					}
					if got := qget(out, o); got != want {
						t.Fatalf("%s %s: out[%d] = %d, want %d (x %d, y %d)", op.name, typ, o, got, want, x, y)
					}
				}
			}
		}
	}
}

// TestBinaryBatchResize prepares the same kernel twice with a growing
// batch, as the interpreter does after ResizeInput.
func TestBinaryBatchResize(t *testing.T) {
	a := floatTensor([]int{1, 2, 2, 3}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, false)
	b := floatTensor([]int{3}, []float32{10, 20, 30}, true)
	out := emptyOut(tfl.Float32, 0, 0)
	n := &node{code: tfl.OperatorCode{Builtin: tfl.OpAdd}, in: []*Tensor{a, b}, out: []*Tensor{out}, threads: 1}
	k, err := newAdd(n)
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{1, 3} {
		a.Shape = []int{batch, 2, 2, 3}
		data := make([]float32, 12*batch)
		for i := range data {
			data[i] = float32(i)
		}
		a.Data = alignedBytes(len(data) * 4)
		copy(a.Float32s(), data)
		if err := k.prepare(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(out.Shape, a.Shape) {
			t.Fatalf("batch %d: output shape %v", batch, out.Shape)
		}
		out.Data = alignedBytes(out.ByteSize())
		k.eval()
		for i, got := range out.Float32s() {
			if want := float32(i) + float32(10*(i%3+1)); got != want {
				t.Fatalf("batch %d: out[%d] = %g, want %g", batch, i, got, want)
			}
		}
	}
}

func TestBinaryErrors(t *testing.T) {
	f := func(shape ...int) *Tensor { return floatTensor(shape, nil, false) }
	q := func(typ tfl.TensorType) *Tensor {
		return quantTensor(typ, []int{2}, []float32{0.1}, []int64{0}, 0, false)
	}
	for _, tc := range []struct {
		name string
		in   []*Tensor
		out  *Tensor
	}{
		{"incompatible shapes", []*Tensor{f(2, 3), f(4)}, emptyOut(tfl.Float32, 0, 0)},
		{"type mismatch", []*Tensor{f(2), q(tfl.Int8)}, emptyOut(tfl.Float32, 0, 0)},
		{"output type", []*Tensor{f(2), f(2)}, emptyOut(tfl.Int8, 0.1, 0)},
		{"missing quantisation", []*Tensor{q(tfl.Int8), {Type: tfl.Int8, Shape: []int{2}, Data: make([]byte, 2)}}, emptyOut(tfl.Int8, 0.1, 0)},
		{"rank 7", []*Tensor{f(1, 1, 1, 1, 1, 1, 2), f(2)}, emptyOut(tfl.Float32, 0, 0)},
		{"one input", []*Tensor{f(2)}, emptyOut(tfl.Float32, 0, 0)},
	} {
		if err := runKernel(t, newAdd, tfl.OpAdd, nil, 1, tc.in, tc.out); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if _, err := newAdd(&node{opts: &tfl.ActivationOptions{Activation: tfl.ActTanh}}); err == nil {
		t.Error("TANH activation: no error")
	}
}

// TestElementwiseEvalAllocs checks that eval of every kernel of this group
// allocates nothing.
func TestElementwiseEvalAllocs(t *testing.T) {
	q := func(shape ...int) *Tensor {
		return quantTensor(tfl.Int8, shape, []float32{0.1}, []int64{-3}, 0, false)
	}
	for _, tc := range []struct {
		name string
		nk   newKernel
		code tfl.BuiltinOp
		opts any
		in   []*Tensor
	}{
		{"ADD", newAdd, tfl.OpAdd, nil, []*Tensor{q(2, 4, 4, 3), q(3)}},
		{"MUL", newMul, tfl.OpMul, nil, []*Tensor{q(2, 4, 1, 3), q(4, 1, 1)}},
		{"AVERAGE_POOL_2D", newAveragePool2D, tfl.OpAveragePool2D, &tfl.Pool2DOptions{StrideW: 1, StrideH: 1, FilterWidth: 2, FilterHeight: 2}, []*Tensor{q(2, 4, 4, 3)}},
		{"MEAN", newMean, tfl.OpMean, &tfl.ReducerOptions{KeepDims: true}, []*Tensor{q(2, 4, 4, 3), axesTensor(1, 2)}},
		{"CONCATENATION", newConcatenation, tfl.OpConcatenation, &tfl.ConcatenationOptions{Axis: 3}, []*Tensor{q(2, 4, 4, 3), quantTensor(tfl.Int8, []int{2, 4, 4, 1}, []float32{0.3}, []int64{1}, 0, false)}},
		{"PAD", newPad, tfl.OpPad, nil, []*Tensor{q(2, 4, 4, 3), int32Const([]int{4, 2}, 0, 0, 1, 1, 1, 1, 0, 0)}},
		{"TRANSPOSE", newTranspose, tfl.OpTranspose, nil, []*Tensor{q(2, 4, 4, 3), int32Const([]int{4}, 0, 3, 1, 2)}},
		{"SQUEEZE", newSqueeze, tfl.OpSqueeze, nil, []*Tensor{q(2, 1, 1, 3)}},
	} {
		out := emptyOut(tfl.Int8, 0.1, -3)
		n := &node{code: tfl.OperatorCode{Builtin: tc.code}, opts: tc.opts, in: tc.in, out: []*Tensor{out}, threads: 1}
		k, err := tc.nk(n)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.prepare(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		out.Data = alignedBytes(out.ByteSize())
		n.scratch = alignedBytes(n.scratchSize)
		if a := testing.AllocsPerRun(10, k.eval); a != 0 {
			t.Errorf("%s: eval allocates %g times", tc.name, a)
		}
	}
}

// TestBinaryConstTable checks the table lookups used when one 8-bit input
// is a small constant against the arithmetic rows on the same data: the
// same tensors run once marked constant and once not.
func TestBinaryConstTable(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	shapes := []struct{ a, b []int }{
		{[]int{4, 5, 4, 16}, []int{16}},          // per-channel vector
		{[]int{3, 7, 9}, []int{1}},               // scalar
		{[]int{1}, []int{6, 50}},                 // scalar first
		{[]int{16}, []int{4, 5, 4, 16}},          // vector first
		{[]int{4, 200, 1}, []int{4, 1, 3}},       // constant strided along rows
		{[]int{4, 1, 3}, []int{4, 200, 1}},       // the same, constant first
		{[]int{5, 1, 40, 2}, []int{1, 30, 1, 2}}, // both broadcast
	}
	for _, op := range binaryOps {
		for _, typ := range []tfl.TensorType{tfl.Uint8, tfl.Int8} {
			for i, sh := range shapes {
				for _, act := range []tfl.Activation{tfl.ActNone, tfl.ActRelu6} {
					qa, qb := randQuant(r, typ, -4, 4), randQuant(r, typ, -2, 6)
					qo := randQuant(r, typ, -12, 12)
					a, b := qa.tensor(r, sh.a, false), qb.tensor(r, sh.b, false)
					run := func(aConst, bConst bool) (*Tensor, bool) {
						a.Const, b.Const = aConst, bConst
						out := emptyOut(typ, qo.scale, qo.zp)
						n := &node{code: tfl.OperatorCode{Builtin: op.code}, opts: &tfl.ActivationOptions{Activation: act}, in: []*Tensor{a, b}, out: []*Tensor{out}, threads: 1}
						k, err := op.nk(n)
						if err != nil {
							t.Fatal(err)
						}
						if err := k.prepare(); err != nil {
							t.Fatal(err)
						}
						out.Data = alignedBytes(out.ByteSize())
						k.eval()
						return out, k.(*binaryKernel).tab != nil
					}
					want, tabled := run(false, false)
					if tabled {
						t.Fatalf("%s %s #%d: table without a constant input", op.name, typ, i)
					}
					got, tabled := run(tfl.NumElements(sh.a) < tfl.NumElements(sh.b), tfl.NumElements(sh.a) >= tfl.NumElements(sh.b))
					if !tabled {
						t.Fatalf("%s %s #%d: constant input not tabulated", op.name, typ, i)
					}
					if !bytes.Equal(got.Data, want.Data) {
						t.Fatalf("%s %s #%d %v: table results differ from the arithmetic rows", op.name, typ, i, act)
					}
				}
			}
		}
	}
}
