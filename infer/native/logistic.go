package native

import (
	"fmt"
	"math"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// logistic implements LOGISTIC (sigmoid), 1 / (1 + e^-x).
//
// float32 is computed in float64 and rounded once; TFLite's optimized
// kernel uses Eigen's rational approximation, which agrees to a few ulp.
// int8 and uint8 use a 256-entry table computed in float32 exactly as
// TFLite 2.9's default kernel does (activations.cc SigmoidPrepare,
// PopulateLookupTable), not the gemmlowp fixed point of the reference
// kernel, so that our codes equal the C library's.
type logistic struct {
	n     *node
	float bool
	table [256]uint8
}

func newLogistic(n *node) (kernel, error) { return &logistic{n: n}, nil }

func (k *logistic) prepare() error {
	u, err := prepareUnary8(k.n)
	if err != nil {
		return err
	}
	k.float = u.float
	if k.float {
		return nil
	}
	in, out, inS, inZ, outS, outZ := u.in, u.out, u.inS, u.inZ, u.outS, u.outZ
	// TFLite's Prepare insists on exactly 1/256; the quantisation spec also
	// fixes the zero point so that [0, 1) covers the whole type.
	wantZ := int32(0)
	if in.Type == tfl.Int8 {
		wantZ = -128
	}
	if float64(outS) != 1.0/256 || outZ != wantZ {
		return fmt.Errorf("%s output %q must have scale 1/256 and zero point %d, has %g and %d", in.Type, out.Name, wantZ, outS, outZ)
	}
	quant.PopulateLUT8(&k.table, in.Type == tfl.Int8, inS, inZ, outS, outZ, quant.Logistic32)
	return nil
}

func (k *logistic) eval() {
	in, out := k.n.in[0], k.n.out[0]
	if !k.float {
		lookup8(&k.table, out.Data, in.Data)
		return
	}
	dst := out.Float32s()
	for i, x := range in.Float32s() {
		dst[i] = float32(1 / (1 + math.Exp(-float64(x))))
	}
}
