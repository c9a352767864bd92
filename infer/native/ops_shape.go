package native

import "github.com/fruitcam/fruitcam/infer/tfl"

// shapeOps move or relabel data without arithmetic.
var shapeOps = map[tfl.BuiltinOp]newKernel{
	tfl.OpReshape: newReshape,
}
