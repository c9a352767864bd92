package native

import (
	"fmt"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// concatenation implements CONCATENATION along one axis (negative counts
// from the end) for float32, int32, int64, uint8 and int8 tensors of any
// rank. All inputs share the output's type and every dimension but the
// axis.
//
// An 8-bit input whose scale or zero point differs from the output's is
// requantised in float, as TFLite's ConcatenationWithScaling does for
// uint8 (quant.Requantizer); TFLite refuses such int8 inputs, the native
// kernel treats them the same way as uint8. Inputs that match are copied.
// TFLite implements no fused activation here, so one is refused.
type concatenation struct {
	n    *node
	axis int

	// Set by prepare.
	outer int
	parts []concatPart
	esize int
}

// concatPart is one input's contribution to each outer slice of the output.
type concatPart struct {
	t    *Tensor
	size int // elements per outer slice
	rq   *quant.Requantizer
}

func newConcatenation(n *node) (kernel, error) {
	o, ok := n.opts.(*tfl.ConcatenationOptions)
	if !ok {
		return nil, fmt.Errorf("missing ConcatenationOptions")
	}
	if o.Activation != tfl.ActNone {
		return nil, fmt.Errorf("fused activation %s is not supported (TFLite implements none)", o.Activation)
	}
	return &concatenation{n: n, axis: o.Axis}, nil
}

func (k *concatenation) prepare() error {
	if len(k.n.in) == 0 || len(k.n.out) != 1 {
		return fmt.Errorf("needs at least 1 input and 1 output")
	}
	out := k.n.out[0]
	t0 := k.n.in[0]
	if t0 == nil {
		return fmt.Errorf("input 0 is missing")
	}
	if err := checkType(t0, tfl.Float32, tfl.Int32, tfl.Int64, tfl.Uint8, tfl.Int8); err != nil {
		return err
	}
	r := len(t0.Shape)
	axis := k.axis
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis >= r {
		return fmt.Errorf("axis %d is out of range for rank %d", k.axis, r)
	}
	shape := append([]int(nil), t0.Shape...)
	shape[axis] = 0
	for i, t := range k.n.in {
		if t == nil {
			return fmt.Errorf("input %d is missing", i)
		}
		if t.Type != t0.Type {
			return fmt.Errorf("input %d is %s, input 0 is %s", i, t.Type, t0.Type)
		}
		if len(t.Shape) != r {
			return fmt.Errorf("input %d has shape %v, input 0 has %v: ranks differ", i, t.Shape, t0.Shape)
		}
		for d := range r {
			if d != axis && t.Shape[d] != t0.Shape[d] {
				return fmt.Errorf("input %d has shape %v, input 0 has %v: only axis %d may differ", i, t.Shape, t0.Shape, axis)
			}
		}
		shape[axis] += t.Shape[axis]
	}
	if out.Type != t0.Type {
		return fmt.Errorf("inputs are %s but output is %s", t0.Type, out.Type)
	}
	out.Shape = shape
	k.outer = tfl.NumElements(shape[:axis])
	inner := tfl.NumElements(shape[axis+1:])
	k.esize = out.Type.Size()
	k.parts = k.parts[:0]
	quantised := out.Type == tfl.Uint8 || out.Type == tfl.Int8
	if quantised {
		if err := checkPerTensor(out); err != nil {
			return err
		}
	}
	for _, t := range k.n.in {
		p := concatPart{t: t, size: t.Shape[axis] * inner}
		if quantised {
			if err := checkPerTensor(t); err != nil {
				return err
			}
			if t.Scale() != out.Scale() || t.ZeroPoint() != out.ZeroPoint() {
				qmin, qmax := quant.TypeRange(out.Type == tfl.Int8)
				rq := quant.NewRequantizer(t.Scale(), t.ZeroPoint(), out.Scale(), out.ZeroPoint(), qmin, qmax)
				p.rq = &rq
			}
		}
		k.parts = append(k.parts, p)
	}
	return nil
}

func (k *concatenation) eval() {
	out := k.n.out[0]
	o := 0
	for i := range k.outer {
		for _, p := range k.parts {
			if p.rq == nil {
				n := p.size * k.esize
				copy(out.Data[o*k.esize:o*k.esize+n], p.t.Data[i*n:(i+1)*n])
			} else if out.Type == tfl.Uint8 {
				requantizeRow(p.rq, out.Uint8s()[o:o+p.size], p.t.Uint8s()[i*p.size:])
			} else {
				requantizeRow(p.rq, out.Int8s()[o:o+p.size], p.t.Int8s()[i*p.size:])
			}
			o += p.size
		}
	}
}

func requantizeRow[T uint8 | int8](rq *quant.Requantizer, dst, src []T) {
	for j := range dst {
		dst[j] = T(rq.Requantize(int32(src[j])))
	}
}
