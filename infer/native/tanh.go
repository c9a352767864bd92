package native

import (
	"math"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// tanh implements TANH.
//
// float32 is math.Tanh rounded once (TFLite's optimized kernel uses Eigen's
// approximation, within a few ulp). int8 and uint8 use a 256-entry table
// computed with float32 tanhf, as TFLite 2.9's default kernel does
// (activations.cc TanhPrepare, PopulateLookupTable) instead of the gemmlowp
// fixed point of the reference kernel. TFLite does not check TANH's output
// parameters (the spec asks for scale 1/128 and zero point 0 or 128); the
// table serves any, so neither do we.
type tanh struct {
	n     *node
	float bool
	table [256]uint8
}

func newTanh(n *node) (kernel, error) { return &tanh{n: n}, nil }

func (k *tanh) prepare() error {
	u, err := prepareUnary8(k.n)
	if err != nil {
		return err
	}
	k.float = u.float
	if k.float {
		return nil
	}
	in, inS, inZ, outS, outZ := u.in, u.inS, u.inZ, u.outS, u.outZ
	quant.PopulateLUT8(&k.table, in.Type == tfl.Int8, inS, inZ, outS, outZ, quant.Tanh32)
	return nil
}

func (k *tanh) eval() {
	in, out := k.n.in[0], k.n.out[0]
	if !k.float {
		lookup8(&k.table, out.Data, in.Data)
		return
	}
	dst := out.Float32s()
	for i, x := range in.Float32s() {
		dst[i] = float32(math.Tanh(float64(x)))
	}
}
