package native

import "github.com/fruitcam/fruitcam/infer/tfl"

// elementwiseOps combine tensors element by element, pool or reduce them.
var elementwiseOps = map[tfl.BuiltinOp]newKernel{}
