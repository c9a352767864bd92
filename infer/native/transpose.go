package native

import (
	"fmt"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// transpose implements TRANSPOSE: output dimension i is input dimension
// perm[i], perm being a constant int32 (or int64) permutation (input 1) of
// up to maxRank entries. Elements of 1, 4 or 8 bytes are moved unchanged,
// so quantised input and output must share parameters.
//
// prepare drops dimensions of size 1 and merges output dimensions that are
// also neighbours, in order, in the input (they move as one block), so an
// NHWC↔NCHW transpose walks three dimensions and a no-op permutation
// becomes a copy.
type transpose struct {
	n *node

	// Set by prepare.
	rank int // 0 when the tensor is empty
	dims [maxRank]int
	ist  [maxRank]int // input element stride of each output dimension
}

func newTranspose(n *node) (kernel, error) { return &transpose{n: n}, nil }

func (k *transpose) prepare() error {
	in, perm := k.n.input(0), k.n.input(1)
	if in == nil || perm == nil || len(k.n.out) != 1 {
		return fmt.Errorf("needs 2 inputs (data, perm) and 1 output")
	}
	out := k.n.out[0]
	if in.Type != out.Type {
		return fmt.Errorf("input is %s but output is %s", in.Type, out.Type)
	}
	if s := in.Type.Size(); s != 1 && s != 4 && s != 8 {
		return fmt.Errorf("type %s is not supported", in.Type)
	}
	if err := sameQuant(in, out); err != nil {
		return err
	}
	r := len(in.Shape)
	if r > maxRank {
		return fmt.Errorf("input rank %d is above %d", r, maxRank)
	}
	if !perm.Const || (perm.Type != tfl.Int32 && perm.Type != tfl.Int64) || len(perm.Shape) != 1 || perm.Shape[0] != r {
		return fmt.Errorf("perm must be a constant int32 vector of %d entries, got %s %v (constant %v)", r, perm.Type, perm.Shape, perm.Const)
	}
	p := make([]int, r)
	seen := make([]bool, r)
	for i := range r {
		var v int64
		if perm.Type == tfl.Int32 {
			v = int64(perm.Int32s()[i])
		} else {
			v = perm.Int64s()[i]
		}
		if v < 0 || v >= int64(r) || seen[v] {
			return fmt.Errorf("perm entry %d is %d: perm must be a permutation of 0..%d", i, v, r-1)
		}
		seen[v] = true
		p[i] = int(v)
	}
	shape := make([]int, r)
	for i := range r {
		shape[i] = in.Shape[p[i]]
	}
	out.Shape = shape

	k.rank = 0
	if in.NumElements() == 0 {
		return nil
	}
	// Input strides, then the output dimensions that survive (size > 1),
	// merged while they are consecutive in the input too.
	ist := make([]int, r)
	s := 1
	for d := r - 1; d >= 0; d-- {
		ist[d] = s
		s *= in.Shape[d]
	}
	prev := -2
	for i := range r {
		d := p[i]
		if in.Shape[d] == 1 {
			continue
		}
		if k.rank > 0 && d == prev+nextKept(in.Shape, prev) {
			// Input dimension d directly follows prev (skipping 1s):
			// extend the previous block.
			k.dims[k.rank-1] *= in.Shape[d]
			k.ist[k.rank-1] = ist[d]
		} else {
			k.dims[k.rank] = in.Shape[d]
			k.ist[k.rank] = ist[d]
			k.rank++
		}
		prev = d
	}
	if k.rank == 0 {
		k.dims[0], k.ist[0], k.rank = 1, 1, 1
	}
	return nil
}

// nextKept returns the distance from input dimension d to the next one of
// size greater than 1 (or 1 when there is none).
func nextKept(shape []int, d int) int {
	for j := d + 1; j < len(shape); j++ {
		if shape[j] != 1 {
			return j - d
		}
	}
	return 1
}

func (k *transpose) eval() {
	in, out := k.n.in[0], k.n.out[0]
	switch in.Type.Size() {
	case 1:
		transposeWalk(k, in.Data, out.Data)
	case 4:
		transposeWalk(k, view[uint32](in.Data), view[uint32](out.Data))
	case 8:
		transposeWalk(k, view[uint64](in.Data), view[uint64](out.Data))
	}
}

func transposeWalk[T any](k *transpose, in, out []T) {
	if k.rank == 0 {
		return
	}
	last := k.rank - 1
	n, s := k.dims[last], k.ist[last]
	var idx [maxRank]int
	o, i := 0, 0
	for {
		dst := out[o : o+n]
		if s == 1 {
			copy(dst, in[i:i+n])
		} else {
			j := i
			for c := range dst {
				dst[c] = in[j]
				j += s
			}
		}
		o += n
		d := last - 1
		for ; d >= 0; d-- {
			idx[d]++
			i += k.ist[d]
			if idx[d] < k.dims[d] {
				break
			}
			i -= k.ist[d] * k.dims[d]
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}
