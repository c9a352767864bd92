package lower

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/keras"
	"github.com/fruitcam/fruitcam/internal/kerasref"
)

type lowerCase struct {
	name  string
	build func(b *kb) *keras.Model
	// ops is the expected operator sequence; nil skips the check.
	ops []tfl.BuiltinOp
	// fused maps an operator index to its expected fused activation.
	fused map[int]tfl.Activation
	norm  preprocess.Normalize
	notes []string // substrings that must appear in Result.Notes
	// pixels feeds raw pixel values 0..255 instead of values in [-2, 2].
	pixels bool
	// noRef skips the kerasref comparison (a definition kerasref does not
	// implement, e.g. Keras 3's hard_sigmoid).
	noRef bool
}

const (
	conv  = tfl.OpConv2D
	dw    = tfl.OpDepthwiseConv
	fc    = tfl.OpFullyConnected
	add   = tfl.OpAdd
	mul   = tfl.OpMul
	cat   = tfl.OpConcatenation
	shape = tfl.OpReshape
)

var lowerCases = []lowerCase{
	{name: "conv2d valid relu", ops: []tfl.BuiltinOp{conv}, fused: map[int]tfl.Activation{0: tfl.ActRelu},
		build: func(b *kb) *keras.Model {
			b.input("image", 7, 6, 3)
			b.add(b.conv("conv2d", 3, 4, 3, relu))
			return b.outputs()
		}},
	{name: "conv2d same stride 2 no bias", ops: []tfl.BuiltinOp{conv},
		build: func(b *kb) *keras.Model {
			b.input("image", 7, 8, 2)
			b.add(b.conv("conv2d", 2, 5, 3, same, stride(2), noBias))
			return b.outputs()
		}},
	{name: "conv2d even kernel same stride 2", ops: []tfl.BuiltinOp{conv},
		build: func(b *kb) *keras.Model {
			b.input("image", 9, 8, 3)
			b.add(b.conv("conv2d", 3, 4, 2, same, stride(2)))
			return b.outputs()
		}},
	{name: "conv2d dilation 2", ops: []tfl.BuiltinOp{conv, conv},
		build: func(b *kb) *keras.Model {
			b.input("image", 9, 9, 2)
			b.add(b.conv("conv2d", 2, 3, 3, same, dilation(2)))
			b.add(b.conv("conv2d_1", 3, 2, 3, dilation(2)))
			return b.outputs()
		}},
	{name: "conv2d own sigmoid", ops: []tfl.BuiltinOp{conv, tfl.OpLogistic},
		build: func(b *kb) *keras.Model {
			b.input("image", 5, 5, 2)
			b.add(b.conv("conv2d", 2, 3, 3, activation("sigmoid")))
			return b.outputs()
		}},
	{name: "depthwise multiplier 2 relu6", ops: []tfl.BuiltinOp{dw}, fused: map[int]tfl.Activation{0: tfl.ActRelu6},
		build: func(b *kb) *keras.Model {
			b.input("image", 6, 7, 3)
			b.add(b.depthwise("depthwise", 3, 2, 3, same, activation("relu6")))
			return b.outputs()
		}},
	{name: "depthwise dilation stride", ops: []tfl.BuiltinOp{dw, dw},
		build: func(b *kb) *keras.Model {
			b.input("image", 9, 9, 4)
			b.add(b.depthwise("depthwise", 4, 1, 3, dilation(2), noBias))
			b.add(b.depthwise("depthwise_1", 4, 1, 3, same, stride(2)))
			return b.outputs()
		}},
	{name: "separable conv", ops: []tfl.BuiltinOp{dw, conv, dw, conv}, fused: map[int]tfl.Activation{1: tfl.ActRelu},
		notes: []string{"separable_conv2d lowered to DEPTHWISE_CONV_2D then a 1x1 CONV_2D"},
		build: func(b *kb) *keras.Model {
			b.input("image", 8, 8, 3)
			b.add(b.separable("separable_conv2d", 3, 1, 5, 3, same, relu))
			b.add(b.separable("separable_conv2d_1", 5, 2, 4, 3, stride(2)))
			return b.outputs()
		}},
	{name: "batch norm folded into conv then relu fused", ops: []tfl.BuiltinOp{conv}, fused: map[int]tfl.Activation{0: tfl.ActRelu},
		notes: []string{"batch_normalization folded into conv2d", "activation (relu) fused into conv2d"},
		build: func(b *kb) *keras.Model {
			b.input("image", 6, 6, 3)
			b.add(b.conv("conv2d", 3, 4, 3, same))
			b.add(b.batchNorm("batch_normalization", 4))
			b.add(act("activation", "relu"))
			return b.outputs()
		}},
	{name: "batch norm folded into depthwise dense separable", ops: []tfl.BuiltinOp{dw, dw, conv, shape, fc},
		notes: []string{"batch_normalization folded into depthwise", "batch_normalization_1 folded into separable",
			"batch_normalization_2 folded into dense"},
		build: func(b *kb) *keras.Model {
			b.input("image", 5, 5, 2)
			b.add(b.depthwise("depthwise", 2, 2, 3, same))
			b.add(b.batchNorm("batch_normalization", 4))
			b.add(b.separable("separable", 4, 1, 3, 3))
			b.add(b.batchNorm("batch_normalization_1", 3))
			b.add(layer("flatten", "Flatten"))
			b.add(b.dense("dense", 27, 5, "linear"))
			b.add(b.batchNorm("batch_normalization_2", 5))
			return b.outputs()
		}},
	{name: "batch norm after activation not folded", ops: []tfl.BuiltinOp{conv, mul, add}, fused: map[int]tfl.Activation{0: tfl.ActRelu, 2: tfl.ActRelu},
		notes: []string{"batch_normalization lowered to MUL and ADD", "activation (relu) fused into batch_normalization"},
		build: func(b *kb) *keras.Model {
			b.input("image", 6, 6, 3)
			b.add(b.conv("conv2d", 3, 4, 3, relu))
			b.add(b.batchNorm("batch_normalization", 4))
			b.add(act("activation", "relu"))
			return b.outputs()
		}},
	{name: "batch norm not folded when conv output is shared", ops: []tfl.BuiltinOp{conv, mul, add, add},
		notes: []string{"also read elsewhere"},
		build: func(b *kb) *keras.Model {
			b.input("image", 6, 6, 3)
			c := b.add(b.conv("conv2d", 3, 4, 3, same))
			n := b.add(b.batchNorm("batch_normalization", 4))
			b.add(layer("add", "Add"), c, n)
			return b.outputs()
		}},
	{name: "batch norm on height axis", ops: []tfl.BuiltinOp{conv, mul, add},
		build: func(b *kb) *keras.Model {
			b.input("image", 5, 4, 3)
			b.add(b.conv("conv2d", 3, 2, 1))
			bn := b.batchNorm("batch_normalization", 5)
			bn.Axis = []int{1}
			b.add(bn)
			return b.outputs()
		}},
	{name: "fruit CNN (design.md section 8)", ops: []tfl.BuiltinOp{conv, conv, tfl.OpLeakyRelu, mul, add, tfl.OpMaxPool2D, shape, fc, fc, tfl.OpSoftmax},
		fused: map[int]tfl.Activation{0: tfl.ActRelu, 1: tfl.ActNone, 7: tfl.ActRelu},
		notes: []string{"dropout removed"},
		build: func(b *kb) *keras.Model {
			b.input("conv2d_input", 20, 20, 3)
			b.add(b.conv("conv2d", 3, 32, 3, same))
			b.add(act("activation", "relu"))
			b.add(b.conv("conv2d_1", 32, 16, 3, same))
			b.add(&keras.Layer{Name: "leaky_re_lu", Class: "LeakyReLU", Alpha: 0.5})
			b.add(b.batchNorm("batch_normalization", 16))
			b.add(pool("max_pooling2d", "MaxPooling2D", 2, 2, "valid"))
			b.add(&keras.Layer{Name: "dropout", Class: "Dropout", Rate: 0.25})
			b.add(layer("flatten", "Flatten"))
			b.add(b.dense("dense", 10*10*16, 512, "relu"))
			b.add(&keras.Layer{Name: "dropout_1", Class: "Dropout", Rate: 0.5})
			b.add(b.dense("dense_1", 512, 16, "softmax"))
			return b.outputs()
		}},
	{name: "activations", fused: map[int]tfl.Activation{0: tfl.ActRelu}, ops: []tfl.BuiltinOp{mul, tfl.OpRelu6, tfl.OpLogistic, tfl.OpTanh, tfl.OpLeakyRelu,
		tfl.OpHardSwish, tfl.OpHardSwish, tfl.OpLogistic, mul, tfl.OpLogistic, mul, mul, add, tfl.OpReluN1To1, tfl.OpRelu, tfl.OpSoftmax},
		notes: []string{"activation_linear (linear activation) removed"},
		build: func(b *kb) *keras.Model {
			b.m.KerasVersion = "2.4.0"
			b.input("x", 3, 4, 5)
			for i, a := range []string{"relu", "relu6", "sigmoid", "tanh", "leaky_relu", "hard_swish", "hard_silu", "swish", "silu", "linear", "hard_sigmoid", "softmax"} {
				name := "activation_" + a
				if i == 0 {
					// scale up so relu6 and hard_sigmoid clip
					b.add(rescaling("scale_up", []float64{4}, []float64{0}))
				}
				b.add(act(name, a))
			}
			return b.outputs()
		}},
	{name: "hard_sigmoid keras 3", ops: []tfl.BuiltinOp{mul, add, mul}, fused: map[int]tfl.Activation{1: tfl.ActRelu6}, noRef: true,
		build: func(b *kb) *keras.Model {
			b.m.KerasVersion = "3.12.0"
			b.input("x", 10)
			b.add(rescaling("scale_up", []float64{5}, []float64{0}))
			b.add(act("activation", "hard_sigmoid"))
			return b.outputs()
		}},
	{name: "relu layers", fused: map[int]tfl.Activation{0: tfl.ActRelu},
		ops: []tfl.BuiltinOp{mul, tfl.OpRelu6, tfl.OpReluN1To1, tfl.OpRelu, add, tfl.OpLeakyRelu, tfl.OpLeakyRelu, tfl.OpSoftmax},
		build: func(b *kb) *keras.Model {
			b.input("x", 4, 6)
			b.add(rescaling("scale_up", []float64{4}, []float64{0}))
			b.add(&keras.Layer{Name: "re_lu", Class: "ReLU"})
			b.add(&keras.Layer{Name: "re_lu_6", Class: "ReLU", MaxValue: f64(6)})
			b.add(&keras.Layer{Name: "re_lu_1", Class: "ReLU", MaxValue: f64(1)})
			b.add(rescaling("shift", []float64{1}, []float64{-0.5}))
			b.add(&keras.Layer{Name: "re_lu_leaky", Class: "ReLU", Alpha: 0.1})
			b.add(&keras.Layer{Name: "leaky_re_lu", Class: "LeakyReLU", Alpha: 0.3})
			b.add(&keras.Layer{Name: "softmax", Class: "Softmax", Axis: []int{-1}})
			return b.outputs()
		}},
	{name: "pooling", ops: []tfl.BuiltinOp{tfl.OpMaxPool2D, tfl.OpAveragePool2D, tfl.OpAveragePool2D, tfl.OpMaxPool2D},
		build: func(b *kb) *keras.Model {
			b.input("image", 11, 10, 3)
			b.add(pool("max_pooling2d", "MaxPooling2D", 2, 1, "valid"))
			b.add(pool("average_pooling2d", "AveragePooling2D", 3, 2, "same"))
			b.add(pool("average_pooling2d_1", "AveragePooling2D", 2, 2, "valid"))
			b.add(pool("max_pooling2d_1", "MaxPooling2D", 2, 2, "same"))
			return b.outputs()
		}},
	{name: "global average pooling", ops: []tfl.BuiltinOp{tfl.OpMean, tfl.OpMean, shape, mul},
		build: func(b *kb) *keras.Model {
			b.input("image", 5, 6, 4)
			g := b.add(&keras.Layer{Name: "gap", Class: "GlobalAveragePooling2D"})
			k := b.add(&keras.Layer{Name: "gap_keep", Class: "GlobalAveragePooling2D", KeepDims: true}, "image")
			f := b.add(layer("flatten", "Flatten"), k)
			b.add(layer("multiply", "Multiply"), g, f)
			return b.outputs()
		}},
	{name: "squeeze and excite", ops: []tfl.BuiltinOp{conv, tfl.OpMean, conv, conv, tfl.OpLogistic, mul},
		build: func(b *kb) *keras.Model {
			b.input("image", 6, 6, 3)
			x := b.add(b.conv("conv2d", 3, 8, 3, same, relu))
			b.add(&keras.Layer{Name: "gap", Class: "GlobalAveragePooling2D", KeepDims: true})
			b.add(b.conv("squeeze", 8, 2, 1, relu))
			s := b.add(b.conv("excite", 2, 8, 1, activation("sigmoid")))
			b.add(layer("multiply", "Multiply"), x, s)
			return b.outputs()
		}},
	{name: "zero padding", ops: []tfl.BuiltinOp{tfl.OpPad, conv},
		build: func(b *kb) *keras.Model {
			b.input("image", 5, 4, 2)
			b.add(&keras.Layer{Name: "zero_padding2d", Class: "ZeroPadding2D", Pad: [2][2]int{{1, 2}, {0, 3}}})
			b.add(b.conv("conv2d", 2, 3, 3, stride(2)))
			return b.outputs()
		}},
	{name: "flatten reshape dense keep dims", ops: []tfl.BuiltinOp{shape, shape, fc, shape},
		build: func(b *kb) *keras.Model {
			b.input("image", 4, 3, 2)
			b.add(layer("flatten", "Flatten"))
			b.add(&keras.Layer{Name: "reshape", Class: "Reshape", TargetShape: []int{-1, 4}})
			b.add(b.dense("dense", 4, 5, "linear"))
			b.add(&keras.Layer{Name: "reshape_1", Class: "Reshape", TargetShape: []int{5, 3, 2}})
			return b.outputs()
		}},
	{name: "add of three with relu", ops: []tfl.BuiltinOp{conv, conv, conv, add, add}, fused: map[int]tfl.Activation{3: tfl.ActNone, 4: tfl.ActRelu},
		notes: []string{"add of 3 inputs lowered to a chain of 2 ADD operators"},
		build: func(b *kb) *keras.Model {
			b.input("image", 5, 5, 2)
			x := b.add(b.conv("a", 2, 3, 1))
			y := b.add(b.conv("b", 2, 3, 3, same), "image")
			z := b.add(b.conv("c", 2, 3, 1), "image")
			b.add(layer("add", "Add"), x, y, z)
			b.add(act("activation", "relu"))
			return b.outputs()
		}},
	{name: "concatenate", ops: []tfl.BuiltinOp{conv, conv, cat, cat},
		build: func(b *kb) *keras.Model {
			b.input("image", 5, 5, 2)
			x := b.add(b.conv("a", 2, 3, 1))
			y := b.add(b.conv("b", 2, 4, 3, same), "image")
			c := b.add(&keras.Layer{Name: "concatenate", Class: "Concatenate", Axis: []int{-1}}, x, y, "image")
			b.add(&keras.Layer{Name: "concatenate_1", Class: "Concatenate", Axis: []int{1}}, c, c)
			return b.outputs()
		}},
	{name: "multiple outputs in order", ops: []tfl.BuiltinOp{conv, tfl.OpMean, fc, tfl.OpSoftmax, fc},
		build: func(b *kb) *keras.Model {
			b.input("image", 5, 5, 3)
			b.add(b.conv("conv2d", 3, 4, 3, relu))
			g := b.add(&keras.Layer{Name: "gap", Class: "GlobalAveragePooling2D"})
			p := b.add(b.dense("probs", 4, 3, "softmax"), g)
			v := b.add(b.dense("box", 4, 4, "linear"), g)
			return b.outputs(v, p, "conv2d")
		}},
	{name: "two inputs", ops: []tfl.BuiltinOp{cat, fc, tfl.OpTanh},
		build: func(b *kb) *keras.Model {
			x := b.input("a", 3)
			y := b.input("b", 5)
			b.add(&keras.Layer{Name: "concatenate", Class: "Concatenate", Axis: []int{-1}}, x, y)
			b.add(b.dense("dense", 8, 2, "tanh"))
			return b.outputs()
		}},
	{name: "rescaling unit folded", ops: []tfl.BuiltinOp{conv}, norm: preprocess.Unit, pixels: true,
		notes: []string{"rescaling folded into the input normalisation (unit)"},
		build: func(b *kb) *keras.Model {
			b.input("image", 6, 6, 3)
			b.add(rescaling("rescaling", []float64{1.0 / 255}, []float64{0}))
			b.add(b.conv("conv2d", 3, 2, 3))
			return b.outputs()
		}},
	{name: "rescaling symmetric folded", ops: []tfl.BuiltinOp{conv}, norm: preprocess.Symmetric, pixels: true,
		build: func(b *kb) *keras.Model {
			b.input("image", 6, 6, 3)
			b.add(rescaling("rescaling", []float64{float64(float32(1 / 127.5))}, []float64{-1}))
			b.add(b.conv("conv2d", 3, 2, 3))
			return b.outputs()
		}},
	{name: "normalization symmetric folded", ops: []tfl.BuiltinOp{conv}, norm: preprocess.Symmetric, pixels: true,
		build: func(b *kb) *keras.Model {
			b.input("image", 6, 6, 3)
			b.add(normalization("normalization", []float64{127.5}, []float64{127.5 * 127.5}))
			b.add(b.conv("conv2d", 3, 2, 3))
			return b.outputs()
		}},
	{name: "rescaling unit then imagenet normalization", ops: []tfl.BuiltinOp{add, mul, conv}, norm: preprocess.Unit, pixels: true,
		notes: []string{"normalization kept as operators"},
		build: func(b *kb) *keras.Model {
			b.input("image", 6, 6, 3)
			b.add(rescaling("rescaling", []float64{1.0 / 255}, []float64{0}))
			b.add(normalization("normalization", []float64{0.485, 0.456, 0.406}, []float64{0.229 * 0.229, 0.224 * 0.224, 0.225 * 0.225}))
			b.add(b.conv("conv2d", 3, 2, 3))
			return b.outputs()
		}},
	{name: "leading rescaling not a preset", ops: []tfl.BuiltinOp{mul, add, conv}, norm: preprocess.None, pixels: true,
		build: func(b *kb) *keras.Model {
			b.input("image", 6, 6, 3)
			b.add(rescaling("rescaling", []float64{1.0 / 100, 1.0 / 50, 1.0 / 25}, []float64{-0.5}))
			b.add(b.conv("conv2d", 3, 2, 3))
			return b.outputs()
		}},
	{name: "rescaling in the middle", ops: []tfl.BuiltinOp{conv, mul, tfl.OpMean, add, tfl.OpMul},
		build: func(b *kb) *keras.Model {
			b.input("image", 6, 6, 3)
			b.add(b.conv("conv2d", 3, 4, 3))
			b.add(rescaling("rescaling", []float64{0.5}, []float64{0}))
			b.add(&keras.Layer{Name: "gap", Class: "GlobalAveragePooling2D"})
			b.add(&keras.Layer{Name: "denorm", Class: "Normalization", Axis: []int{-1}, Invert: true,
				Mean: []float64{1, 2, 3, 4}, Variance: []float64{1, 1, 1, 1}})
			b.add(normalization("norm", []float64{0}, []float64{4}))
			return b.outputs()
		}},
	{name: "dead branch dropped", ops: []tfl.BuiltinOp{conv},
		notes: []string{"unused does not reach any model output; dropped"},
		build: func(b *kb) *keras.Model {
			b.input("image", 5, 5, 2)
			b.add(b.conv("conv2d", 2, 3, 3))
			b.add(b.conv("unused", 2, 3, 3), "image")
			return b.outputs("conv2d")
		}},
}

// TestLowerLayers lowers small graphs, one or two layer kinds at a time,
// and checks that the real TensorFlow Lite runtime and our engine compute
// the same values from the lowered model (to 1e-5), and that both compute
// what the independent Keras forward pass (internal/kerasref) computes.
func TestLowerLayers(t *testing.T) {
	for i, c := range lowerCases {
		t.Run(c.name, func(t *testing.T) {
			m := c.build(newKB(uint64(i)))
			res, err := Lower(m, Options{Description: "test"})
			if err != nil {
				t.Fatal(err)
			}
			checkStructure(t, c, res)
			data := mustWrite(t, res.Model)

			// Two examples per run: batching is part of the contract.
			r := rand.New(rand.NewPCG(uint64(i), 99))
			sg := res.Model.Subgraphs[0]
			var raw [][][]float32 // [example][input]
			for range 2 {
				var ex [][]float32
				for _, ti := range sg.Inputs {
					n := tfl.NumElements(sg.Tensors[ti].Shape[1:])
					if c.pixels {
						v := make([]float32, n)
						for k := range v {
							v[k] = float32(r.IntN(256))
						}
						ex = append(ex, v)
					} else {
						ex = append(ex, randomFloats(r, n, -2, 2))
					}
				}
				raw = append(raw, ex)
			}
			var fed [][][]float32
			for _, ex := range raw {
				var e [][]float32
				for _, x := range ex {
					e = append(e, normalizePixels(x, res.InputNormalize))
				}
				fed = append(fed, e)
			}
			batch := batchOf(fed)
			got := runNative(t, data, batch, 2)
			var ref [][]float32
			if haveRef(t) {
				ref = runRef(t, data, batch, 2)
			}
			scale := max(maxAbs(got), 1)
			if ref != nil {
				dn := maxDiff(t, "native vs TFLite", got, ref)
				t.Logf("max |diff| our engine vs TFLite runtime %.2g (output scale %.3g)", dn, scale)
				if dn > 1e-5*scale {
					t.Errorf("our engine and the TFLite runtime differ by %g (output scale %g)", dn, scale)
				}
			}
			if c.noRef {
				return
			}
			var want [][][]float32
			for _, ex := range raw {
				w, err := kerasref.Forward(m, ex)
				if err != nil {
					t.Fatalf("kerasref: %v", err)
				}
				want = append(want, w)
			}
			// want is [example][output]; the runtimes give [output][batch].
			wantBatch := make([][]float32, len(want[0]))
			for _, w := range want {
				for o := range w {
					wantBatch[o] = append(wantBatch[o], w[o]...)
				}
			}
			for _, r := range []struct {
				what string
				outs [][]float32
			}{{"our engine", got}, {"TFLite runtime", ref}} {
				if r.outs == nil {
					continue
				}
				dk := maxDiff(t, r.what+" vs kerasref", r.outs, wantBatch)
				t.Logf("max |diff| %s vs kerasref %.2g", r.what, dk)
				if dk > 1e-5*scale {
					t.Errorf("the lowered model in the %s and the Keras forward pass differ by %g (output scale %g)", r.what, dk, scale)
				}
			}
		})
	}
}

// normalizePixels applies a folded input normalisation the way the agent
// does (preprocess.Value, in float32).
func normalizePixels(x []float32, n preprocess.Normalize) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		switch n {
		case preprocess.Unit:
			out[i] = v / 255
		case preprocess.Symmetric:
			out[i] = v/127.5 - 1
		default:
			out[i] = v
		}
	}
	return out
}

func checkStructure(t *testing.T, c lowerCase, res *Result) {
	t.Helper()
	m := res.Model
	sg := m.Subgraphs[0]
	var ops []tfl.BuiltinOp
	for _, op := range sg.Operators {
		ops = append(ops, m.OperatorCodes[op.OpcodeIndex].Builtin)
	}
	if c.ops != nil && !slices.Equal(ops, c.ops) {
		t.Errorf("operators %v, want %v\nnotes: %q", ops, c.ops, res.Notes)
	}
	for i, want := range c.fused {
		if i >= len(sg.Operators) {
			continue
		}
		var got tfl.Activation
		switch o := sg.Operators[i].Options.(type) {
		case *tfl.Conv2DOptions:
			got = o.Activation
		case *tfl.DepthwiseConv2DOptions:
			got = o.Activation
		case *tfl.FullyConnectedOptions:
			got = o.Activation
		case *tfl.ActivationOptions:
			got = o.Activation
		}
		if got != want {
			t.Errorf("operator %d (%s) has fused activation %s, want %s", i, ops[i], got, want)
		}
	}
	if res.InputNormalize != c.norm {
		t.Errorf("InputNormalize = %q, want %q", res.InputNormalize, c.norm)
	}
	joined := strings.Join(res.Notes, "\n")
	for _, n := range c.notes {
		if !strings.Contains(joined, n) {
			t.Errorf("notes lack %q:\n%s", n, joined)
		}
	}
	for _, ti := range sg.Inputs {
		in := sg.Tensors[ti]
		if in.Shape[0] != 1 || len(in.ShapeSignature) != len(in.Shape) || in.ShapeSignature[0] != -1 {
			t.Errorf("input %q has shape %v, signature %v; want batch 1 and signature -1", in.Name, in.Shape, in.ShapeSignature)
		}
	}
}

// TestEveryClassLowered keeps SupportedClasses and the cases above in
// step: every class Lower claims is exercised against the real runtime.
func TestEveryClassLowered(t *testing.T) {
	seen := map[string]bool{}
	for i, c := range lowerCases {
		for _, l := range c.build(newKB(uint64(i))).Layers {
			seen[l.Class] = true
		}
	}
	for _, class := range SupportedClasses {
		if !seen[class] {
			t.Errorf("no test case lowers a %s layer", class)
		}
	}
}

// TestOperatorVersions checks the versions written for the features that
// raise them (tensorflow/lite/tools/versioning/op_version.cc).
func TestOperatorVersions(t *testing.T) {
	b := newKB(1)
	b.input("image", 9, 9, 2)
	b.add(b.depthwise("depthwise", 2, 1, 3, dilation(2)))
	b.add(b.depthwise("depthwise_1", 2, 1, 3, same))
	b.add(b.conv("conv2d", 2, 3, 3, dilation(2)))
	b.add(b.dense("dense", 3, 4, "linear"))
	b.add(layer("flatten", "Flatten"))
	b.add(b.dense("dense_1", 4, 2, "linear"))
	res, err := Lower(b.outputs(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range res.Model.OperatorCodes {
		got = append(got, fmt.Sprintf("%s v%d", c.Builtin, c.Version))
	}
	want := []string{"DEPTHWISE_CONV_2D v2", "DEPTHWISE_CONV_2D v1", "CONV_2D v1", "FULLY_CONNECTED v5", "RESHAPE v1", "FULLY_CONNECTED v1"}
	if !slices.Equal(got, want) {
		t.Errorf("operator codes %v, want %v", got, want)
	}
}
