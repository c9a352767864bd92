package native

import (
	"fmt"
	"math"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// pad implements PAD and PADV2: every dimension d of the input gets
// paddings[d][0] elements before and paddings[d][1] after, from a
// constant int32 or int64 [rank, 2] tensor (input 1). The fill value is 0,
// or for quantised tensors the output zero point (real 0), or PADV2's
// constant scalar (input 2), which for quantised tensors must share the
// output's parameters, as TFLite requires. Elements of 1, 4 or 8 bytes
// (uint8, int8, float32, int32, int64) are supported; quantised input and
// output must share parameters, since values are copied as they are.
type pad struct {
	n *node

	// Set by prepare.
	fill  [8]byte // one element of the pad value, little-endian
	esize int
	// The input is copied as rows: dims[0..rank-1] are walked, each
	// iteration copying row bytes from the input (contiguously) to the
	// output at the offset accumulated from ost (output byte strides) plus
	// base.
	rank   int
	dims   [maxRank]int
	ost    [maxRank]int
	row    int
	base   int
	padded bool
}

func newPad(n *node) (kernel, error) { return &pad{n: n}, nil }

func (k *pad) prepare() error {
	in, pads := k.n.input(0), k.n.input(1)
	if in == nil || pads == nil || len(k.n.out) != 1 {
		return fmt.Errorf("needs 2 inputs (data, paddings) and 1 output")
	}
	out := k.n.out[0]
	if in.Type != out.Type {
		return fmt.Errorf("input is %s but output is %s", in.Type, out.Type)
	}
	if err := checkType(in, tfl.Float32, tfl.Int32, tfl.Int64, tfl.Uint8, tfl.Int8); err != nil {
		return err
	}
	if err := sameQuant(in, out); err != nil {
		return err
	}
	r := len(in.Shape)
	if r > maxRank {
		return fmt.Errorf("input rank %d is above %d", r, maxRank)
	}
	if !pads.Const || (pads.Type != tfl.Int32 && pads.Type != tfl.Int64) || len(pads.Shape) != 2 || pads.Shape[0] != r || pads.Shape[1] != 2 {
		return fmt.Errorf("paddings must be a constant int32 or int64 tensor of shape [%d 2], got %s %v (constant %v)", r, pads.Type, pads.Shape, pads.Const)
	}
	before, after := make([]int, r), make([]int, r)
	for d := range r {
		var b, a int64
		if pads.Type == tfl.Int32 {
			b, a = int64(pads.Int32s()[2*d]), int64(pads.Int32s()[2*d+1])
		} else {
			b, a = pads.Int64s()[2*d], pads.Int64s()[2*d+1]
		}
		if b < 0 || a < 0 || b > math.MaxInt32 || a > math.MaxInt32 {
			return fmt.Errorf("paddings %d, %d of dimension %d must be non-negative", b, a, d)
		}
		before[d], after[d] = int(b), int(a)
	}
	shape := make([]int, r)
	for d := range r {
		shape[d] = before[d] + in.Shape[d] + after[d]
	}
	out.Shape = shape
	if err := k.setFill(in, out); err != nil {
		return err
	}

	// Plan the copy: the innermost padded dimension p and everything
	// inside it form one contiguous row in both tensors.
	k.esize = in.Type.Size()
	p := -1
	for d := range r {
		if before[d] != 0 || after[d] != 0 {
			p = d
		}
	}
	k.padded = p >= 0
	inner := k.esize * tfl.NumElements(in.Shape[p+1:])
	if p < 0 {
		k.rank, k.row, k.base = 0, in.ByteSize(), 0
		return nil
	}
	k.row = in.Shape[p] * inner
	k.rank = p
	ostride := k.esize * tfl.NumElements(shape[p+1:])
	k.base = before[p] * inner
	for d := p - 1; d >= 0; d-- {
		ostride *= shape[d+1]
		k.dims[d] = in.Shape[d]
		k.ost[d] = ostride
		k.base += before[d] * ostride
	}
	return nil
}

// setFill sets the pad value's bytes.
func (k *pad) setFill(in, out *Tensor) error {
	k.fill = [8]byte{}
	if in.Type == tfl.Uint8 || in.Type == tfl.Int8 {
		k.fill[0] = byte(out.ZeroPoint())
	}
	c := k.n.input(2)
	if c == nil {
		return nil
	}
	if k.n.code.Builtin != tfl.OpPadV2 {
		return fmt.Errorf("PAD takes 2 inputs, got 3")
	}
	if !c.Const || c.Type != in.Type || c.NumElements() != 1 {
		return fmt.Errorf("constant_values must be a constant %s scalar, got %s %v (constant %v)", in.Type, c.Type, c.Shape, c.Const)
	}
	if in.Type == tfl.Uint8 || in.Type == tfl.Int8 {
		if err := sameQuant(c, out); err != nil {
			return fmt.Errorf("constant_values: %w", err)
		}
	}
	copy(k.fill[:], c.Data)
	return nil
}

func (k *pad) eval() {
	in, out := k.n.in[0], k.n.out[0]
	if !k.padded {
		copy(out.Data, in.Data)
		return
	}
	if len(out.Data) == 0 {
		return
	}
	// Fill the whole output by doubling copies of one element, then copy
	// the input rows over it.
	n := copy(out.Data, k.fill[:k.esize])
	for n < len(out.Data) {
		n += copy(out.Data[n:], out.Data[:n])
	}
	if len(in.Data) == 0 {
		return
	}
	var idx [maxRank]int
	i, o := 0, k.base
	for {
		copy(out.Data[o:o+k.row], in.Data[i:i+k.row])
		i += k.row
		d := k.rank - 1
		for ; d >= 0; d-- {
			idx[d]++
			o += k.ost[d]
			if idx[d] < k.dims[d] {
				break
			}
			o -= k.ost[d] * k.dims[d]
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}
