package native

import "github.com/fruitcam/fruitcam/infer/tfl"

// shapeOps move or relabel data without arithmetic.
var shapeOps = map[tfl.BuiltinOp]newKernel{
	tfl.OpReshape:   newReshape,
	tfl.OpPad:       newPad,
	tfl.OpPadV2:     newPad,
	tfl.OpTranspose: newTranspose,
	tfl.OpSqueeze:   newSqueeze,
}
