package native

import (
	"fmt"
	"slices"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// PRELU: out = x for x >= 0, x·alpha otherwise, for float32, uint8 and
// int8, with alpha (input 1) broadcast against x NumPy-style as TFLite's
// PreluPrepare does: the broadcast shape must be x's own, so alpha is a
// per-channel [1, 1, C], a single [1] or x's full shape. Keras' PReLU
// and, for the Edge TPU, LeakyReLU(a) with a constant alpha become this
// operator.
//
// The 8-bit forms follow reference_ops::Prelu/BroadcastPrelu4DSlow, which
// TFLite 2.9 runs for every 8-bit PRELU: two output multipliers, s_in/s_out
// for the identity branch and s_in·s_alpha/s_out for the product of the
// offset input and alpha codes (quant.PreluParams).
//
// With a constant alpha (always, from our converter) an 8-bit output code
// depends only on the input code and the alpha code, so prepare evaluates
// that arithmetic once for every input code and every alpha code present
// and eval looks the results up: bit-identical by construction
// (TestPreluTableMatchesArithmetic), and 7 times faster than the
// per-element multiplies on the fruit CNN's 20x20x16 int8 map (4.8 µs
// against 34 µs per frame here, one x86-64 core). The tables cost 64 KiB
// per PRELU and 256 evaluations per distinct alpha code at prepare.
type prelu struct {
	n *node

	// Set by prepare.
	bc    broadcast
	row   func(o, a, b int)
	q     quant.PreluParams
	table *[256][256]uint8 // [alpha byte][input byte] -> output byte, for a constant alpha
}

// preluMaxBroadcastRank is the highest rank TFLite's broadcasting PRELU
// kernels (BroadcastPrelu4DSlow, BroadcastBinaryFunction4DSlow) handle;
// equal shapes take a flat loop and have no such limit.
const preluMaxBroadcastRank = 4

// newPrelu builds the kernel; PRELU has no options (TFLite ignores any).
func newPrelu(n *node) (kernel, error) { return &prelu{n: n}, nil }

func (k *prelu) prepare() error {
	x, alpha := k.n.input(0), k.n.input(1)
	if x == nil || alpha == nil || len(k.n.in) != 2 || len(k.n.out) != 1 {
		return fmt.Errorf("needs 2 inputs (input, alpha) and 1 output, has %d and %d", len(k.n.in), len(k.n.out))
	}
	out := k.n.out[0]
	if x.Type != alpha.Type || x.Type != out.Type {
		return fmt.Errorf("input is %s, alpha %s and output %s; all three must have one type", x.Type, alpha.Type, out.Type)
	}
	if err := checkType(x, tfl.Float32, tfl.Uint8, tfl.Int8); err != nil {
		return err
	}
	shape, err := broadcastShape(x.Shape, alpha.Shape)
	if err != nil {
		return fmt.Errorf("alpha: %w", err)
	}
	if !slices.Equal(shape, x.Shape) {
		return fmt.Errorf("alpha %v broadcasts input %v to %v; alpha may only repeat along the input's dimensions (e.g. [1, 1, C] for NHWC)",
			alpha.Shape, x.Shape, shape)
	}
	if !slices.Equal(alpha.Shape, x.Shape) && len(shape) > preluMaxBroadcastRank {
		return fmt.Errorf("input %v has rank %d; TensorFlow Lite broadcasts PRELU's alpha up to rank %d only",
			x.Shape, len(shape), preluMaxBroadcastRank)
	}
	out.Shape = shape
	k.bc = newBroadcast(x.Shape, alpha.Shape, shape)
	n, sx, sa := k.bc.inner()

	switch x.Type {
	case tfl.Float32:
		k.row = func(o, a, b int) {
			preluRowFloat(out.Float32s()[o:o+n], x.Float32s()[a:], alpha.Float32s()[b:], sx, sa)
		}
		return nil
	}
	for _, t := range []*Tensor{x, alpha, out} {
		if err := checkPerTensor(t); err != nil {
			return err
		}
	}
	qmin, qmax := quant.TypeRange(x.Type == tfl.Int8)
	k.q, err = quant.NewPreluParams(x.Scale(), x.ZeroPoint(), alpha.Scale(), alpha.ZeroPoint(), out.Scale(), out.ZeroPoint(), qmin, qmax)
	if err != nil {
		return err
	}
	p := &k.q
	if alpha.Const {
		k.fillTable(alpha, x.Type == tfl.Int8)
		tab := k.table
		k.row = func(o, a, b int) { preluRowTable(tab, out.Data[o:o+n], x.Data[a:], alpha.Data[b:], sx, sa) }
		return nil
	}
	if x.Type == tfl.Int8 {
		k.row = func(o, a, b int) { preluRowQ(p, out.Int8s()[o:o+n], x.Int8s()[a:], alpha.Int8s()[b:], sx, sa) }
	} else {
		k.row = func(o, a, b int) { preluRowQ(p, out.Uint8s()[o:o+n], x.Uint8s()[a:], alpha.Uint8s()[b:], sx, sa) }
	}
	return nil
}

func (k *prelu) eval() { k.bc.walk(k.row) }

// fillTable sets k.table[b][c] to the output for input byte c and alpha
// byte b, for every alpha byte the constant alpha holds (raw bytes, so one
// table serves int8 and uint8).
func (k *prelu) fillTable(alpha *Tensor, signed bool) {
	if k.table == nil {
		k.table = new([256][256]uint8)
	}
	code := func(b byte) int32 {
		if signed {
			return int32(int8(b))
		}
		return int32(b)
	}
	var done [256]bool
	for _, b := range alpha.Data {
		if done[b] {
			continue
		}
		done[b] = true
		row := &k.table[b]
		for c := range 256 {
			row[c] = uint8(k.q.Prelu(code(byte(c)), code(b)))
		}
	}
}

// preluRowTable is one output row by table lookup; x and alpha advance by
// sx and sa elements (bytes) per output.
func preluRowTable(tab *[256][256]uint8, d, x, alpha []byte, sx, sa int) {
	i, j := 0, 0
	for o := range d {
		d[o] = tab[alpha[j]][x[i]]
		i += sx
		j += sa
	}
}

// preluRowFloat computes one output row; x and alpha advance by sx and sa
// per element (0 where they repeat).
func preluRowFloat(d, x, alpha []float32, sx, sa int) {
	i, j := 0, 0
	for o := range d {
		if v := x[i]; v >= 0 {
			d[o] = v
		} else {
			d[o] = v * alpha[j]
		}
		i += sx
		j += sa
	}
}

func preluRowQ[T int8 | uint8](p *quant.PreluParams, d, x, alpha []T, sx, sa int) {
	i, j := 0, 0
	for o := range d {
		d[o] = T(p.Prelu(int32(x[i]), int32(alpha[j])))
		i += sx
		j += sa
	}
}
