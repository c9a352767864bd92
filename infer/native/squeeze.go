package native

import (
	"fmt"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// squeeze implements SQUEEZE: the listed dimensions (negative counts from
// the end), which must have size 1, are removed; with no list, every
// dimension of size 1 is. The bytes are unchanged.
//
// With no list the output rank follows the current shape: a batch resized
// from 1 to N keeps its dimension, as in TFLite.
type squeeze struct {
	n    *node
	dims []int
}

func newSqueeze(n *node) (kernel, error) {
	k := &squeeze{n: n}
	if n.opts != nil {
		o, ok := n.opts.(*tfl.SqueezeOptions)
		if !ok {
			return nil, fmt.Errorf("unexpected options %T", n.opts)
		}
		k.dims = o.SqueezeDims
	}
	return k, nil
}

func (k *squeeze) prepare() error {
	in := k.n.input(0)
	if in == nil || len(k.n.in) != 1 || len(k.n.out) != 1 {
		return fmt.Errorf("needs 1 input and 1 output")
	}
	out := k.n.out[0]
	if in.Type != out.Type {
		return fmt.Errorf("input is %s but output is %s", in.Type, out.Type)
	}
	if err := sameQuant(in, out); err != nil {
		return err
	}
	r := len(in.Shape)
	drop := make([]bool, r)
	if len(k.dims) == 0 {
		for d, n := range in.Shape {
			drop[d] = n == 1
		}
	}
	for _, a := range k.dims {
		d := a
		if d < 0 {
			d += r
		}
		if d < 0 || d >= r {
			return fmt.Errorf("squeeze dimension %d is out of range for input %v", a, in.Shape)
		}
		if in.Shape[d] != 1 {
			return fmt.Errorf("cannot squeeze dimension %d of input %v: its size is not 1", a, in.Shape)
		}
		drop[d] = true
	}
	shape := []int{}
	for d, n := range in.Shape {
		if !drop[d] {
			shape = append(shape, n)
		}
	}
	out.Shape = shape
	return nil
}

func (k *squeeze) eval() {
	in, out := k.n.in[0], k.n.out[0]
	if len(in.Data) > 0 && len(out.Data) > 0 && &in.Data[0] != &out.Data[0] {
		copy(out.Data, in.Data)
	}
}
