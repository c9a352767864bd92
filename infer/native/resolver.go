package native

import "github.com/fruitcam/fruitcam/infer/tfl"

// newKernel builds the kernel for one operator. It may check options but
// leaves shape and type checks to prepare, which also runs after resizes.
type newKernel func(n *node) (kernel, error)

// resolver maps every builtin operator the native backend runs to its
// kernel. It is the single list of supported operators.
var resolver = merged(shapeOps, gemmOps, elementwiseOps, activationOps)

func merged(groups ...map[tfl.BuiltinOp]newKernel) map[tfl.BuiltinOp]newKernel {
	out := map[tfl.BuiltinOp]newKernel{}
	for _, g := range groups {
		for k, v := range g {
			out[k] = v
		}
	}
	return out
}

// SupportedOps lists the builtin operators the native backend runs.
func SupportedOps() []tfl.BuiltinOp {
	var out []tfl.BuiltinOp
	for k := range resolver {
		out = append(out, k)
	}
	return out
}
