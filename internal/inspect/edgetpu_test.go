package inspect

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// graph builds small models in Go for the Edge TPU rules.
type graph struct{ m *tfl.Model }

func newGraph() *graph {
	return &graph{m: &tfl.Model{Version: 3, Buffers: [][]byte{nil}, Subgraphs: []tfl.Subgraph{{Name: "main"}}}}
}

// tensor adds a tensor; data makes it a constant.
func (g *graph) tensor(name string, typ tfl.TensorType, shape []int, data []byte) int {
	sg := &g.m.Subgraphs[0]
	t := tfl.Tensor{Name: name, Type: typ, Shape: shape}
	if data != nil {
		g.m.Buffers = append(g.m.Buffers, data)
		t.Buffer = len(g.m.Buffers) - 1
	}
	sg.Tensors = append(sg.Tensors, t)
	return len(sg.Tensors) - 1
}

func (g *graph) op(code tfl.BuiltinOp, custom string, opts any, in, out []int) {
	idx := -1
	for i, c := range g.m.OperatorCodes {
		if c.Builtin == code && c.Custom == custom {
			idx = i
		}
	}
	if idx < 0 {
		g.m.OperatorCodes = append(g.m.OperatorCodes, tfl.OperatorCode{Builtin: code, Custom: custom, Version: 1})
		idx = len(g.m.OperatorCodes) - 1
	}
	sg := &g.m.Subgraphs[0]
	sg.Operators = append(sg.Operators, tfl.Operator{OpcodeIndex: idx, Inputs: in, Outputs: out, Options: opts})
}

func int32s(v ...int32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return b
}

// conv is an int8 convolution: input t0, weights t1, bias t2, output t3.
func conv() *graph {
	g := newGraph()
	in := g.tensor("input", tfl.Int8, []int{1, 8, 8, 3}, nil)
	w := g.tensor("weights", tfl.Int8, []int{4, 3, 3, 3}, make([]byte, 4*3*3*3))
	b := g.tensor("bias", tfl.Int32, []int{4}, make([]byte, 16))
	out := g.tensor("conv", tfl.Int8, []int{1, 8, 8, 4}, nil)
	g.op(tfl.OpConv2D, "", &tfl.Conv2DOptions{StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1, Activation: tfl.ActRelu}, []int{in, w, b}, []int{out})
	g.m.Subgraphs[0].Inputs, g.m.Subgraphs[0].Outputs = []int{in}, []int{out}
	return g
}

// then appends a second operator on the convolution's output.
func (g *graph) then(code tfl.BuiltinOp, opts any, extra ...int) *graph {
	sg := &g.m.Subgraphs[0]
	out := g.tensor("out", tfl.Int8, []int{1, 8, 8, 4}, nil)
	g.op(code, "", opts, append([]int{3}, extra...), []int{out})
	sg.Outputs = []int{out}
	return g
}

func TestCheckEdgeTPU(t *testing.T) {
	tests := []struct {
		name    string
		build   func() *graph
		verdict string
		op      int    // operator of the first offence
		reason  string // in the first offence; "" for none
		note    string
	}{
		{"int8 convolution", conv, Compatible, 0, "", ""},
		{"dynamic batch only", func() *graph {
			g := conv()
			g.m.Subgraphs[0].Tensors[0].ShapeSignature = []int{-1, 8, 8, 3}
			return g
		}, Compatible, 0, "", "1 tensor(s) have a dynamic batch"},
		{"float input", func() *graph {
			g := conv()
			g.m.Subgraphs[0].Tensors[0].Type = tfl.Float32
			return g
		}, Incompatible, 0, `tensor t0 float32[1,8,8,3] is float32`, ""},
		{"int32 activation", func() *graph {
			g := conv()
			g.m.Subgraphs[0].Tensors[3].Type = tfl.Int32
			return g
		}, Incompatible, 0, "is int32; the Edge TPU takes int32 only for biases", ""},
		{"bias computed at run time", func() *graph {
			g := conv()
			g.m.Subgraphs[0].Tensors[2].Buffer = 0
			return g
		}, Incompatible, 0, "tensor t2 int32[4] is computed at run time", ""},
		{"weights computed at run time", func() *graph {
			g := conv()
			g.m.Subgraphs[0].Tensors[1].Buffer = 0
			return g
		}, Incompatible, 0, "holds weights", ""},
		{"dynamic height", func() *graph {
			g := conv()
			g.m.Subgraphs[0].Tensors[0].ShapeSignature = []int{1, -1, 8, 3}
			return g
		}, Incompatible, 0, "dynamic in a dimension other than the batch", ""},
		{"batch of 2", func() *graph {
			g := conv()
			g.m.Subgraphs[0].Tensors[0].Shape = []int{2, 8, 8, 3}
			g.m.Subgraphs[0].Tensors[3].Shape = []int{2, 8, 8, 4}
			return g
		}, Incompatible, 0, "outside its 3 innermost dimensions", ""},
		{"unsupported second operator", func() *graph {
			return conv().then(tfl.OpDequantize, nil)
		}, Partial, 1, "DEQUANTIZE is not among the Edge TPU's supported operations", ""},
		{"pool with fused activation", func() *graph {
			return conv().then(tfl.OpAveragePool2D, &tfl.Pool2DOptions{FilterWidth: 1, FilterHeight: 1, StrideW: 1, StrideH: 1, Activation: tfl.ActRelu6})
		}, Partial, 1, "fused activation RELU6: the Edge TPU's AVERAGE_POOL_2D takes none", ""},
		{"concatenation with fused activation", func() *graph {
			return conv().then(tfl.OpConcatenation, &tfl.ConcatenationOptions{Axis: 3, Activation: tfl.ActRelu})
		}, Partial, 1, "fused activation RELU", ""},
		{"dilation differs in x and y", func() *graph {
			g := conv()
			g.m.Subgraphs[0].Operators[0].Options.(*tfl.Conv2DOptions).DilationH = 2
			return g
		}, Incompatible, 0, "dilation 2x1 differs", ""},
		{"fully connected, shuffled weights", func() *graph {
			g := newGraph()
			in := g.tensor("in", tfl.Int8, []int{1, 16}, nil)
			w := g.tensor("w", tfl.Int8, []int{4, 16}, make([]byte, 64))
			out := g.tensor("out", tfl.Int8, []int{1, 4}, nil)
			g.op(tfl.OpFullyConnected, "", &tfl.FullyConnectedOptions{WeightsFormat: 1}, []int{in, w, -1}, []int{out})
			return g
		}, Incompatible, 0, "weights format 1", ""},
		{"fully connected, batch of 2", func() *graph {
			g := newGraph()
			in := g.tensor("in", tfl.Int8, []int{2, 16}, nil)
			w := g.tensor("w", tfl.Int8, []int{4, 16}, make([]byte, 64))
			out := g.tensor("out", tfl.Int8, []int{2, 4}, nil)
			g.op(tfl.OpFullyConnected, "", &tfl.FullyConnectedOptions{}, []int{in, w, -1}, []int{out})
			return g
		}, Incompatible, 0, "not one-dimensional", ""},
		{"mean over height and width", func() *graph {
			g := conv()
			axes := g.tensor("axes", tfl.Int32, []int{2}, int32s(1, 2))
			return g.then(tfl.OpMean, &tfl.ReducerOptions{KeepDims: true}, axes)
		}, Compatible, 0, "", ""},
		{"mean over the batch", func() *graph {
			g := conv()
			axes := g.tensor("axes", tfl.Int32, []int{1}, int32s(0))
			return g.then(tfl.OpMean, &tfl.ReducerOptions{}, axes)
		}, Partial, 1, "reduces the batch dimension", ""},
		{"mean over 6 channels", func() *graph {
			g := newGraph()
			in := g.tensor("in", tfl.Int8, []int{1, 4, 4, 6}, nil)
			axes := g.tensor("axes", tfl.Int32, []int{1}, int32s(-1))
			out := g.tensor("out", tfl.Int8, []int{1, 4, 4}, nil)
			g.op(tfl.OpMean, "", &tfl.ReducerOptions{}, []int{in, axes}, []int{out})
			return g
		}, Incompatible, 0, "multiple of 4", ""},
		{"axes computed at run time", func() *graph {
			g := conv()
			axes := g.tensor("axes", tfl.Int32, []int{2}, nil)
			return g.then(tfl.OpMean, &tfl.ReducerOptions{}, axes)
		}, Partial, 1, "is computed at run time; the Edge TPU needs bias and shape parameters", ""},
		{"pad the batch", func() *graph {
			g := conv()
			pads := g.tensor("pads", tfl.Int32, []int{4, 2}, int32s(1, 0, 0, 0, 0, 0, 0, 0))
			return g.then(tfl.OpPad, nil, pads)
		}, Partial, 1, "pads the batch dimension", ""},
		{"pad height and width", func() *graph {
			g := conv()
			pads := g.tensor("pads", tfl.Int32, []int{4, 2}, int32s(0, 0, 1, 1, 1, 1, 0, 0))
			return g.then(tfl.OpPad, nil, pads)
		}, Compatible, 0, "", ""},
		{"two subgraphs", func() *graph {
			g := conv()
			g.m.Subgraphs = append(g.m.Subgraphs, tfl.Subgraph{Name: "branch"})
			return g
		}, Incompatible, -1, "2 subgraphs", ""},
		{"already compiled", func() *graph {
			g := newGraph()
			in := g.tensor("in", tfl.Uint8, []int{1, 8, 8, 3}, nil)
			out := g.tensor("out", tfl.Uint8, []int{1, 10}, nil)
			g.op(tfl.OpCustom, EdgeTPUCustomOp, nil, []int{in}, []int{out})
			return g
		}, Compiled, 0, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := CheckEdgeTPU(tc.build().m)
			if v.Verdict != tc.verdict {
				t.Errorf("verdict %s (%s), want %s", v.Verdict, v.Summary, tc.verdict)
			}
			switch {
			case tc.reason == "" && len(v.Offences) > 0:
				t.Errorf("offences %+v, want none", v.Offences)
			case tc.reason != "" && len(v.Offences) == 0:
				t.Errorf("no offences, want %q", tc.reason)
			case tc.reason != "":
				if o := v.Offences[0]; o.Op != tc.op || !strings.Contains(o.Reason, tc.reason) {
					t.Errorf("first offence %+v, want op %d and %q", o, tc.op, tc.reason)
				}
			}
			if tc.note != "" && (len(v.Notes) == 0 || !strings.Contains(v.Notes[0], tc.note)) {
				t.Errorf("notes %q, want %q", v.Notes, tc.note)
			}
		})
	}
}

// TestGroupedOffences: a float operator gives one line naming every float
// tensor, not one line per tensor.
func TestGroupedOffences(t *testing.T) {
	g := conv()
	for i := range g.m.Subgraphs[0].Tensors {
		g.m.Subgraphs[0].Tensors[i].Type = tfl.Float32
	}
	g.m.Buffers[1] = make([]byte, 4*4*3*3*3)
	v := CheckEdgeTPU(g.m)
	if len(v.Offences) != 1 {
		t.Fatalf("%d offences %+v, want 1", len(v.Offences), v.Offences)
	}
	want := "tensors t0 float32[1,8,8,3], t1 float32[4,3,3,3], t2 float32[4], t3 float32[1,8,8,4] are float32"
	if !strings.Contains(v.Offences[0].Reason, want) {
		t.Errorf("offence %q, want %q", v.Offences[0].Reason, want)
	}
}
