package native

import (
	"fmt"
	"math"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// softmax implements SOFTMAX over the last dimension:
// out_i = e^(beta*(x_i - max)) / sum_j e^(beta*(x_j - max)).
//
// float32 exponentials are computed in float64 and summed in float32, as
// the optimized kernel sums its float exponentials. int8 and uint8 follow
// TFLite 2.9's default kernel (a float32 exp table built in Prepare,
// quant.SoftmaxTable) rather than the fixed-point reference kernel; see
// package quant for why.
//
// A model without SoftmaxOptions gets beta = 0 (a uniform output), which is
// what TFLite's parser leaves in that case.
type softmax struct {
	n        *node
	beta     float32
	typ      tfl.TensorType
	rows     int
	depth    int
	table    *quant.SoftmaxTable
	outScale float32
	outZP    int32
}

func newSoftmax(n *node) (kernel, error) {
	k := &softmax{n: n}
	if o, ok := n.opts.(*tfl.SoftmaxOptions); ok && o != nil {
		k.beta = o.Beta
	}
	if math.IsNaN(float64(k.beta)) || math.IsInf(float64(k.beta), 0) {
		return nil, fmt.Errorf("invalid beta %g", k.beta)
	}
	return k, nil
}

func (k *softmax) prepare() error {
	in, out, err := unarySameType(k.n, tfl.Float32, tfl.Uint8, tfl.Int8)
	if err != nil {
		return err
	}
	if len(in.Shape) == 0 {
		return fmt.Errorf("input %q is a scalar; softmax needs at least 1 dimension", in.Name)
	}
	k.typ = in.Type
	k.depth = in.Shape[len(in.Shape)-1]
	k.rows = 0
	if k.depth > 0 {
		k.rows = in.NumElements() / k.depth
	}
	if k.typ == tfl.Float32 {
		return nil
	}
	inS, _, err := perTensorQuant(in, "input")
	if err != nil {
		return err
	}
	outS, outZ, err := perTensorQuant(out, "output")
	if err != nil {
		return err
	}
	// The quantisation spec fixes the output at scale 1/256 with zero point
	// -128 (int8) or 0 (uint8), so that [0, 1) uses the whole type. Later
	// TFLite versions check this; 2.9 only computes with whatever it finds.
	wantZ := int32(0)
	if k.typ == tfl.Int8 {
		wantZ = -128
	}
	if math.Abs(float64(outS)-1.0/256) > 0.001/256 || outZ != wantZ {
		return fmt.Errorf("%s output %q must have scale 1/256 and zero point %d, has %g and %d", k.typ, out.Name, wantZ, outS, outZ)
	}
	k.table = quant.NewSoftmaxTable(inS, k.beta)
	k.outScale, k.outZP = outS, outZ
	return nil
}

func (k *softmax) eval() {
	in, out := k.n.in[0], k.n.out[0]
	d := k.depth
	switch k.typ {
	case tfl.Float32:
		src, dst := in.Float32s(), out.Float32s()
		for r := 0; r < k.rows; r++ {
			softmaxRowFloat(dst[r*d:(r+1)*d], src[r*d:(r+1)*d], k.beta)
		}
	case tfl.Int8:
		src, dst := in.Int8s(), out.Int8s()
		for r := 0; r < k.rows; r++ {
			k.table.SoftmaxRowInt8(dst[r*d:(r+1)*d], src[r*d:(r+1)*d], k.outScale, k.outZP)
		}
	case tfl.Uint8:
		src, dst := in.Uint8s(), out.Uint8s()
		for r := 0; r < k.rows; r++ {
			k.table.SoftmaxRowUint8(dst[r*d:(r+1)*d], src[r*d:(r+1)*d], k.outScale)
		}
	}
}

func softmaxRowFloat(dst, src []float32, beta float32) {
	mx := float32(math.Inf(-1))
	for _, v := range src {
		mx = max(mx, v)
	}
	var sum float32
	for i, v := range src {
		e := float32(math.Exp(float64((v - mx) * beta)))
		dst[i] = e
		sum += e
	}
	inv := 1 / sum
	for i := range dst {
		dst[i] *= inv
	}
}
