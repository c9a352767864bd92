package native

import (
	"fmt"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// hardSwish implements HARD_SWISH: x * relu6(x + 3) / 6 (MobileNet v3).
// Quantised tensors use TFLite's 16-bit fixed-point arithmetic
// (quant.HardSwishParams), evaluated once per input code in prepare.
type hardSwish struct {
	n     *node
	float bool
	table [256]uint8
}

func newHardSwish(n *node) (kernel, error) { return &hardSwish{n: n}, nil }

func (k *hardSwish) prepare() error {
	u, err := prepareUnary8(k.n)
	if err != nil {
		return err
	}
	k.float = u.float
	if k.float {
		return nil
	}
	in, inS, inZ, outS, outZ := u.in, u.inS, u.inZ, u.outS, u.outZ
	p, err := quant.NewHardSwishParams(inS, inZ, outS, outZ)
	if err != nil {
		return fmt.Errorf("input scale %g, output scale %g: %w", inS, outS, err)
	}
	signed := in.Type == tfl.Int8
	qmin, qmax := quant.TypeRange(signed)
	fillTable8(&k.table, signed, func(q int32) int32 { return p.HardSwish(q, qmin, qmax) })
	return nil
}

func (k *hardSwish) eval() {
	in, out := k.n.in[0], k.n.out[0]
	if !k.float {
		lookup8(&k.table, out.Data, in.Data)
		return
	}
	dst := out.Float32s()
	for i, x := range in.Float32s() {
		dst[i] = x * min(6, max(0, x+3)) / 6
	}
}
