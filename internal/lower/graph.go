package lower

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// graph accumulates the TFLite subgraph. Constant data stays in Go slices
// until finish, so that rewrites (batch-norm folding) can still change a
// kernel or bias after the operator that reads it was emitted.
type graph struct {
	batch   int  // leading dimension of activation tensors
	dynamic bool // the Keras batch is unknown: activations get ShapeSignature [-1, ...]
	tensors []tensor
	ops     []op
	layer   string // the Keras layer being lowered, recorded on each operator
}

type tensor struct {
	name  string
	typ   tfl.TensorType
	shape []int // full shape (with the batch for activations)
	act   bool  // an activation (has the batch dimension), not a constant
	f32   []float32
	i32   []int32
}

type op struct {
	layer string // the Keras layer the operator was emitted for
	code  tfl.BuiltinOp
	in    []int
	out   []int
	opts  any
}

// activation adds an activation tensor of per-example shape s.
func (g *graph) activation(name string, s []int) int {
	g.tensors = append(g.tensors, tensor{name: name, typ: tfl.Float32,
		shape: append([]int{g.batch}, s...), act: true})
	return len(g.tensors) - 1
}

// constF adds a float32 constant; data is owned by the graph from now on.
func (g *graph) constF(name string, shape []int, data []float32) int {
	g.tensors = append(g.tensors, tensor{name: name, typ: tfl.Float32, shape: slices.Clone(shape), f32: data})
	return len(g.tensors) - 1
}

// constI adds an int32 constant (shapes, axes, paddings).
func (g *graph) constI(name string, shape []int, data []int32) int {
	g.tensors = append(g.tensors, tensor{name: name, typ: tfl.Int32, shape: slices.Clone(shape), i32: data})
	return len(g.tensors) - 1
}

func (g *graph) addOp(code tfl.BuiltinOp, in, out []int, opts any) int {
	g.ops = append(g.ops, op{layer: g.layer, code: code, in: in, out: out, opts: opts})
	return len(g.ops) - 1
}

// fused returns the fused activation of operator i and whether it has one
// to set at all.
func (g *graph) fused(i int) (tfl.Activation, bool) {
	switch o := g.ops[i].opts.(type) {
	case *tfl.Conv2DOptions:
		return o.Activation, true
	case *tfl.DepthwiseConv2DOptions:
		return o.Activation, true
	case *tfl.FullyConnectedOptions:
		return o.Activation, true
	case *tfl.ActivationOptions: // ADD, MUL
		return o.Activation, true
	}
	return tfl.ActNone, false
}

func (g *graph) setFused(i int, a tfl.Activation) {
	switch o := g.ops[i].opts.(type) {
	case *tfl.Conv2DOptions:
		o.Activation = a
	case *tfl.DepthwiseConv2DOptions:
		o.Activation = a
	case *tfl.FullyConnectedOptions:
		o.Activation = a
	case *tfl.ActivationOptions:
		o.Activation = a
	}
}

// opVersion is the operator version TensorFlow's converter writes for a
// float32 operator with these options (tensorflow/lite/tools/versioning/
// op_version.cc): 1 for every float op we emit, except a dilated
// DEPTHWISE_CONV_2D (2) and FULLY_CONNECTED with keep_num_dims (5). A
// runtime refuses an operator whose version it does not know, so writing
// the lowest version that has the feature keeps old runtimes working.
func opVersion(o op) int32 {
	switch opts := o.opts.(type) {
	case *tfl.DepthwiseConv2DOptions:
		if opts.DilationW != 1 || opts.DilationH != 1 {
			return 2
		}
	case *tfl.FullyConnectedOptions:
		if opts.KeepNumDims {
			return 5
		}
	}
	return 1
}

// finish assembles the model: operator codes in first-use order, one
// buffer per constant (buffer 0 empty, shared by every activation).
func (g *graph) finish(description string, inputs, outputs []int) *tfl.Model {
	m := &tfl.Model{Version: 3, Description: description, Buffers: [][]byte{nil}}
	sg := tfl.Subgraph{Name: "main", Inputs: inputs, Outputs: outputs}
	for _, t := range g.tensors {
		tt := tfl.Tensor{Name: t.name, Type: t.typ, Shape: t.shape}
		if t.act && g.dynamic {
			tt.ShapeSignature = slices.Clone(t.shape)
			tt.ShapeSignature[0] = -1
		}
		if !t.act {
			tt.Buffer = len(m.Buffers)
			m.Buffers = append(m.Buffers, constBytes(t))
		}
		sg.Tensors = append(sg.Tensors, tt)
	}
	type key struct {
		code    tfl.BuiltinOp
		version int32
	}
	codes := map[key]int{}
	for _, o := range g.ops {
		k := key{o.code, opVersion(o)}
		idx, ok := codes[k]
		if !ok {
			idx = len(m.OperatorCodes)
			codes[k] = idx
			m.OperatorCodes = append(m.OperatorCodes, tfl.OperatorCode{Builtin: k.code, Version: k.version})
		}
		sg.Operators = append(sg.Operators, tfl.Operator{OpcodeIndex: idx, Inputs: o.in, Outputs: o.out, Options: o.opts})
	}
	m.Subgraphs = []tfl.Subgraph{sg}
	return m
}

func constBytes(t tensor) []byte {
	switch {
	case t.f32 != nil:
		b := make([]byte, 4*len(t.f32))
		for i, v := range t.f32 {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return b
	case t.i32 != nil:
		b := make([]byte, 4*len(t.i32))
		for i, v := range t.i32 {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
		}
		return b
	}
	return nil
}
