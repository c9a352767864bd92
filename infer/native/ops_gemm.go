package native

import "github.com/fruitcam/fruitcam/infer/tfl"

// gemmOps are the operators built on the GEMM core.
var gemmOps = map[tfl.BuiltinOp]newKernel{
	tfl.OpConv2D:         newConv2D,
	tfl.OpDepthwiseConv:  newDepthwise,
	tfl.OpFullyConnected: newFullyConnected,
}
