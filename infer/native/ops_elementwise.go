package native

import "github.com/fruitcam/fruitcam/infer/tfl"

// elementwiseOps combine tensors element by element, pool or reduce them.
var elementwiseOps = map[tfl.BuiltinOp]newKernel{
	tfl.OpAdd:           newAdd,
	tfl.OpSub:           newSub,
	tfl.OpMul:           newMul,
	tfl.OpAveragePool2D: newAveragePool2D,
	tfl.OpMaxPool2D:     newMaxPool2D,
	tfl.OpMean:          newMean,
	tfl.OpConcatenation: newConcatenation,
}
