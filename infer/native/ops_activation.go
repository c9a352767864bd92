package native

import "github.com/fruitcam/fruitcam/infer/tfl"

// activationOps are the standalone activation and (de)quantisation operators.
var activationOps = map[tfl.BuiltinOp]newKernel{}
