package native

import "github.com/fruitcam/fruitcam/infer/tfl"

// gemmOps are the operators built on the GEMM core.
var gemmOps = map[tfl.BuiltinOp]newKernel{}
