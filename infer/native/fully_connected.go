package native

import (
	"fmt"
	"slices"

	"github.com/fruitcam/fruitcam/infer/native/gemm"
	"github.com/fruitcam/fruitcam/infer/tfl"
)

// fullyConnected implements FULLY_CONNECTED with the default weights
// format: weights [N, K], optional bias [N]. The input is read as
// [batch, K] with batch = elements / K, whatever its rank; the output is
// [batch, N], or the input's shape with its last dimension replaced by N
// when keep_num_dims is set. It is one GEMM (M = batch) on the input
// itself.
//
// The output multiplier is TFLite's GetQuantizedConvolutionMultipler for
// per-tensor weights (uint8 and int8 alike, float32 product of the
// scales), and the per-channel convolution form for per-channel int8
// weights.
type fullyConnected struct {
	n    *node
	opts *tfl.FullyConnectedOptions
	act  int

	// Set by prepare.
	w        *weightOp
	packed   []byte
	q        *gemm.Int8
	f        *gemm.Float32
	batch, k int
}

func newFullyConnected(n *node) (kernel, error) {
	o, ok := n.opts.(*tfl.FullyConnectedOptions)
	if !ok {
		return nil, fmt.Errorf("missing FullyConnectedOptions")
	}
	if o.WeightsFormat != 0 {
		return nil, fmt.Errorf("weights format %d (shuffled) is not supported, only DEFAULT", o.WeightsFormat)
	}
	act, err := fusedActivation(o.Activation)
	if err != nil {
		return nil, err
	}
	return &fullyConnected{n: n, opts: o, act: act}, nil
}

func (k *fullyConnected) prepare() error {
	w, err := checkWeightOp(k.n, 0)
	if err != nil {
		return err
	}
	in, f := w.in, w.filter
	if len(f.Shape) != 2 || f.Shape[0] <= 0 || f.Shape[1] <= 0 {
		return fmt.Errorf("weights have shape %v, want [units, inputs]", f.Shape)
	}
	n, depth := f.Shape[0], f.Shape[1]
	if len(in.Shape) == 0 {
		return fmt.Errorf("input is a scalar")
	}
	total := in.NumElements()
	if total <= 0 || total%depth != 0 {
		return fmt.Errorf("input %v (%d values) is not a whole number of rows of %d", in.Shape, total, depth)
	}
	if w.filter.Quant.PerChannel() {
		if err := w.symmetricFilter(); err != nil {
			return err
		}
	}
	k.batch, k.k = total/depth, depth
	if k.opts.KeepNumDims {
		if in.Shape[len(in.Shape)-1] != depth {
			return fmt.Errorf("keep_num_dims needs the input's last dimension (%v) to be the weights' %d", in.Shape, depth)
		}
		shape := slices.Clone(in.Shape)
		shape[len(shape)-1] = n
		w.out.Shape = shape
	} else {
		w.out.Shape = []int{k.batch, n}
	}

	if (k.q == nil && k.f == nil) || !sameBytes(k.packed, f.Data) {
		q, fl, err := w.gemm(k.act, !w.filter.Quant.PerChannel())
		if err != nil {
			return err
		}
		k.q, k.f, k.packed = q, fl, f.Data
	}
	k.w = w
	return nil
}

func (k *fullyConnected) eval() {
	in, out := k.w.in, k.w.out
	n := k.w.channels
	if k.f != nil {
		k.f.Run(k.n.threads, out.Float32s(), n, in.Float32s(), k.k, k.batch)
		return
	}
	k.q.Run(k.n.threads, out.Data, n, in.Data, k.k, k.batch)
}
