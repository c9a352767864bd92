package ptq

import (
	"encoding/binary"
	"math"
	"math/rand/v2"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// graph builds small float32 models for tests.
type graph struct {
	m     *tfl.Model
	codes map[tfl.BuiltinOp]int
	rng   *rand.Rand
}

func newGraph(seed uint64) *graph {
	return &graph{
		m: &tfl.Model{Version: 3, Buffers: [][]byte{nil}, Description: "test graph",
			Subgraphs: []tfl.Subgraph{{Name: "main"}}},
		codes: map[tfl.BuiltinOp]int{},
		rng:   rand.New(rand.NewPCG(seed, 99)),
	}
}

func (g *graph) sg() *tfl.Subgraph { return &g.m.Subgraphs[0] }

func (g *graph) tensor(t tfl.Tensor) int {
	g.sg().Tensors = append(g.sg().Tensors, t)
	return len(g.sg().Tensors) - 1
}

// act adds a float activation tensor.
func (g *graph) act(name string, shape ...int) int {
	return g.tensor(tfl.Tensor{Name: name, Type: tfl.Float32, Shape: shape})
}

func (g *graph) input(name string, shape ...int) int {
	t := g.act(name, shape...)
	g.sg().Inputs = append(g.sg().Inputs, t)
	return t
}

func (g *graph) output(t int) { g.sg().Outputs = append(g.sg().Outputs, t) }

func (g *graph) buffer(b []byte) int {
	g.m.Buffers = append(g.m.Buffers, b)
	return len(g.m.Buffers) - 1
}

// constF adds a float32 constant with the given values.
func (g *graph) constF(name string, vals []float32, shape ...int) int {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return g.tensor(tfl.Tensor{Name: name, Type: tfl.Float32, Shape: shape, Buffer: g.buffer(b)})
}

// randF adds a float32 constant of normal values with the given standard
// deviation.
func (g *graph) randF(name string, sd float64, shape ...int) int {
	vals := make([]float32, tfl.NumElements(shape))
	for i := range vals {
		vals[i] = float32(g.rng.NormFloat64() * sd)
	}
	return g.constF(name, vals, shape...)
}

func (g *graph) constI32(name string, vals []int32, shape ...int) int {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
	}
	return g.tensor(tfl.Tensor{Name: name, Type: tfl.Int32, Shape: shape, Buffer: g.buffer(b)})
}

// op adds an operator writing a new activation of the given shape and
// returns that tensor.
func (g *graph) op(code tfl.BuiltinOp, opts any, ins []int, name string, shape ...int) int {
	out := g.act(name, shape...)
	g.opTo(code, opts, ins, out)
	return out
}

func (g *graph) opTo(code tfl.BuiltinOp, opts any, ins []int, out int) {
	k, ok := g.codes[code]
	if !ok {
		k = len(g.m.OperatorCodes)
		g.codes[code] = k
		g.m.OperatorCodes = append(g.m.OperatorCodes, tfl.OperatorCode{Builtin: code, Version: 1})
	}
	g.sg().Operators = append(g.sg().Operators, tfl.Operator{OpcodeIndex: k, Inputs: ins, Outputs: []int{out}, Options: opts})
}

func (g *graph) conv(in int, name string, h, w, cin, cout int, act tfl.Activation) int {
	wt := g.randF(name+"/w", 1/math.Sqrt(float64(9*cin)), cout, 3, 3, cin)
	b := g.randF(name+"/b", 0.1, cout)
	return g.op(tfl.OpConv2D, &tfl.Conv2DOptions{Padding: tfl.PaddingSame, StrideW: 1, StrideH: 1, Activation: act,
		DilationW: 1, DilationH: 1}, []int{in, wt, b}, name, 1, h, w, cout)
}

// randomInputs returns n float32 inputs of the given size, uniform in
// [lo, hi).
func randomInputs(seed uint64, n, size int, lo, hi float32) [][]byte {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([][]byte, n)
	for i := range out {
		out[i] = make([]byte, 4*size)
		for k := range size {
			binary.LittleEndian.PutUint32(out[i][4*k:], math.Float32bits(lo+(hi-lo)*r.Float32()))
		}
	}
	return out
}
