package native

import (
	"fmt"
	"slices"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// reshape implements RESHAPE: same bytes, new shape. The new shape comes
// from the second input (a constant int32 tensor) or from the options.
//
// Batching: converters often bake the batch size 1 into the target shape
// ([1, 1001]). When the input's batch was resized and the target's leading
// dimension is 1, the leading dimension follows the input's batch so that
// such models still run batched (TFLite itself would refuse the resize).
type reshape struct {
	n      *node
	target []int
}

func newReshape(n *node) (kernel, error) {
	return &reshape{n: n}, nil
}

func (k *reshape) prepare() error {
	in, out := k.n.input(0), k.n.out[0]
	if in == nil || len(k.n.out) != 1 {
		return fmt.Errorf("needs 1 input and 1 output")
	}
	if in.Type != out.Type {
		return fmt.Errorf("input is %s but output is %s", in.Type, out.Type)
	}
	var target []int
	if s := k.n.input(1); s != nil && s.Const && s.Type == tfl.Int32 && len(s.Shape) == 1 {
		for _, v := range s.Int32s() {
			target = append(target, int(v))
		}
	} else if o, ok := k.n.opts.(*tfl.ReshapeOptions); ok && o.NewShape != nil {
		target = slices.Clone(o.NewShape)
	} else {
		target = slices.Clone(out.Shape)
	}
	total := in.NumElements()
	unknown, known := -1, 1
	for i, d := range target {
		switch {
		case d == -1 && unknown < 0:
			unknown = i
		case d <= 0:
			return fmt.Errorf("invalid target shape %v", target)
		default:
			known *= d
		}
	}
	if unknown >= 0 {
		if total%known != 0 {
			return fmt.Errorf("cannot reshape %v (%d elements) to %v", in.Shape, total, target)
		}
		target[unknown] = total / known
		known = total
	}
	if known != total && len(target) > 0 && target[0] == 1 && len(in.Shape) > 0 && total%(known) == 0 && total/known == in.Shape[0] {
		target[0] = in.Shape[0]
		known = total
	}
	if known != total {
		return fmt.Errorf("cannot reshape %v (%d elements) to %v (%d elements)", in.Shape, total, target, known)
	}
	out.Shape = target
	return nil
}

func (k *reshape) eval() {
	in, out := k.n.in[0], k.n.out[0]
	if &in.Data[0] != &out.Data[0] {
		copy(out.Data, in.Data)
	}
}
