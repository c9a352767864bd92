package ptq

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// synthCase is a small float graph and how far its int8 form may stray
// from it, in steps of the output scale.
type synthCase struct {
	name   string
	build  func(g *graph) // must add one input and the outputs
	lo, hi float32        // input values
	steps  float64        // allowed max |int8 − float| / output scale
	opts   Options
	check  func(t *testing.T, m *tfl.Model) // extra checks of the int8 model
}

var synthCases = []synthCase{
	{"conv relu6", func(g *graph) {
		in := g.input("in", 1, 6, 6, 3)
		g.output(g.conv(in, "conv", 6, 6, 3, 5, tfl.ActRelu6))
	}, -1, 1, 3, Options{}, nil},
	{"depthwise multiplier 2", func(g *graph) {
		in := g.input("in", 1, 6, 6, 4)
		w := g.randF("dw/w", 0.5, 1, 3, 3, 8)
		b := g.randF("dw/b", 0.1, 8)
		g.output(g.op(tfl.OpDepthwiseConv, &tfl.DepthwiseConv2DOptions{Padding: tfl.PaddingValid, StrideW: 1, StrideH: 1,
			DepthMultiplier: 2, Activation: tfl.ActRelu, DilationW: 1, DilationH: 1}, []int{in, w, b}, "dw", 1, 4, 4, 8))
	}, -1, 1, 3, Options{}, nil},
	{"fully connected", func(g *graph) {
		in := g.input("in", 1, 16)
		w := g.randF("fc/w", 0.25, 10, 16)
		b := g.randF("fc/b", 0.1, 10)
		g.output(g.op(tfl.OpFullyConnected, &tfl.FullyConnectedOptions{}, []int{in, w, b}, "fc", 1, 10))
	}, -1, 1, 3, Options{}, nil},
	{"fully connected without bias", func(g *graph) {
		in := g.input("in", 1, 16)
		w := g.randF("fc/w", 0.25, 10, 16)
		g.output(g.op(tfl.OpFullyConnected, &tfl.FullyConnectedOptions{Activation: tfl.ActRelu}, []int{in, w}, "fc", 1, 10))
	}, -1, 1, 3, Options{}, func(t *testing.T, m *tfl.Model) {
		if v := opcode(m, tfl.OpFullyConnected).Version; v != 6 {
			t.Errorf("FULLY_CONNECTED without bias has version %d, want 6", v)
		}
	}},
	{"add constant relu", func(g *graph) {
		in := g.input("in", 1, 3, 3, 4)
		c := g.constF("bias", []float32{0.5, -0.25, 2, -1.5}, 4)
		g.output(g.op(tfl.OpAdd, &tfl.ActivationOptions{Activation: tfl.ActRelu}, []int{in, c}, "add", 1, 3, 3, 4))
	}, -1, 1, 2, Options{}, nil},
	{"add two branches", func(g *graph) {
		in := g.input("in", 1, 4, 4, 2)
		a := g.conv(in, "a", 4, 4, 2, 3, tfl.ActNone)
		b := g.conv(in, "b", 4, 4, 2, 3, tfl.ActRelu)
		g.output(g.op(tfl.OpAdd, &tfl.ActivationOptions{}, []int{a, b}, "add", 1, 4, 4, 3))
	}, -1, 1, 4, Options{}, nil},
	{"sub", func(g *graph) {
		in := g.input("in", 1, 8)
		c := g.constF("c", []float32{1, 2, 3, 4, -1, -2, -3, -4}, 8)
		g.output(g.op(tfl.OpSub, &tfl.ActivationOptions{}, []int{in, c}, "sub", 1, 8))
	}, -2, 2, 2, Options{}, nil},
	{"mul constant (batch norm)", func(g *graph) {
		in := g.input("in", 1, 3, 3, 4)
		c := g.constF("gamma", []float32{0.9, 1.7, 0.3, 2.5}, 4)
		g.output(g.op(tfl.OpMul, &tfl.ActivationOptions{}, []int{in, c}, "mul", 1, 3, 3, 4))
	}, -1, 1, 2, Options{}, nil},
	{"mul large multiplier", func(g *graph) {
		// The input and the constant both have scale 0.125 and zero
		// point 0 (the input through InputRange, the constant from its
		// values), so both are exact; the product is clamped to [-1, 1],
		// whose scale 2/255 is finer than 0.125², so s1·s2/s_out ≈ 2 and
		// MUL must be version 3.
		in := g.input("in", 1, 8)
		c := g.constF("c", []float32{-16, 15.875, 8, -4, 1, 0.5, -12, 2}, 8)
		g.output(g.op(tfl.OpMul, &tfl.ActivationOptions{Activation: tfl.ActReluN1To1}, []int{in, c}, "mul", 1, 8))
	}, -0.5, 0.5, 1, Options{InputRange: &[2]float64{-16, 15.875}}, func(t *testing.T, m *tfl.Model) {
		if v := opcode(m, tfl.OpMul).Version; v != 3 {
			t.Errorf("MUL version %d, want 3", v)
		}
	}},
	{"concat", func(g *graph) {
		in := g.input("in", 1, 4, 4, 2)
		a := g.conv(in, "a", 4, 4, 2, 3, tfl.ActRelu)
		c := g.constF("scale", []float32{5, -4}, 2)
		b := g.op(tfl.OpMul, &tfl.ActivationOptions{}, []int{in, c}, "b", 1, 4, 4, 2)
		g.output(g.op(tfl.OpConcatenation, &tfl.ConcatenationOptions{Axis: 3}, []int{a, b}, "concat", 1, 4, 4, 5))
	}, -1, 1, 3, Options{}, func(t *testing.T, m *tfl.Model) {
		// Both inputs are read by the concatenation only: their
		// producers write its parameters directly, nothing requantises.
		if n := countOps(m, tfl.OpQuantize); n != 0 {
			t.Errorf("%d QUANTIZE operators, want 0", n)
		}
	}},
	{"concat requantised input", func(g *graph) {
		// a is also read by a RELU: widening a to the concatenation's
		// range would cost that reader resolution, so a QUANTIZE
		// requantises it in front of the concatenation instead.
		in := g.input("in", 1, 4, 4, 2)
		a := g.conv(in, "a", 4, 4, 2, 3, tfl.ActNone)
		c := g.constF("scale", []float32{9, -7}, 2)
		b := g.op(tfl.OpMul, &tfl.ActivationOptions{}, []int{in, c}, "b", 1, 4, 4, 2)
		g.output(g.op(tfl.OpConcatenation, &tfl.ConcatenationOptions{Axis: 3}, []int{a, b, in}, "concat", 1, 4, 4, 7))
		g.output(g.op(tfl.OpRelu, nil, []int{a}, "relu", 1, 4, 4, 3))
	}, -1, 1, 3, Options{}, func(t *testing.T, m *tfl.Model) {
		// a (also read by the RELU) and the model input (also read by
		// the convolution and the MUL) are requantised; b is not.
		if n := countOps(m, tfl.OpQuantize); n != 2 {
			t.Errorf("%d QUANTIZE operators, want 2", n)
		}
	}},
	{"max and average pool", func(g *graph) {
		in := g.input("in", 1, 6, 6, 3)
		mp := g.op(tfl.OpMaxPool2D, &tfl.Pool2DOptions{Padding: tfl.PaddingValid, StrideW: 2, StrideH: 2, FilterWidth: 2, FilterHeight: 2},
			[]int{in}, "maxpool", 1, 3, 3, 3)
		g.output(g.op(tfl.OpAveragePool2D, &tfl.Pool2DOptions{Padding: tfl.PaddingSame, StrideW: 1, StrideH: 1, FilterWidth: 2, FilterHeight: 2},
			[]int{mp}, "avgpool", 1, 3, 3, 3))
	}, -3, 5, 1, Options{}, nil},
	{"softmax", func(g *graph) {
		in := g.input("in", 1, 16)
		w := g.randF("fc/w", 0.5, 6, 16)
		b := g.randF("fc/b", 0.1, 6)
		fc := g.op(tfl.OpFullyConnected, &tfl.FullyConnectedOptions{}, []int{in, w, b}, "logits", 1, 6)
		g.output(g.op(tfl.OpSoftmax, &tfl.SoftmaxOptions{Beta: 1}, []int{fc}, "probs", 1, 6))
	}, -1, 1, 3, Options{}, nil},
	{"logistic", func(g *graph) {
		in := g.input("in", 1, 12)
		g.output(g.op(tfl.OpLogistic, nil, []int{in}, "sigmoid", 1, 12))
	}, -6, 6, 2, Options{}, nil},
	{"tanh", func(g *graph) {
		in := g.input("in", 1, 12)
		g.output(g.op(tfl.OpTanh, nil, []int{in}, "tanh", 1, 12))
	}, -3, 3, 2, Options{}, nil},
	{"leaky relu", func(g *graph) {
		in := g.input("in", 1, 4, 4, 3)
		g.output(g.op(tfl.OpLeakyRelu, &tfl.LeakyReluOptions{Alpha: 0.2}, []int{in}, "leaky", 1, 4, 4, 3))
	}, -4, 4, 1, Options{}, nil},
	{"hard swish", func(g *graph) {
		in := g.input("in", 1, 4, 4, 3)
		g.output(g.op(tfl.OpHardSwish, nil, []int{in}, "hswish", 1, 4, 4, 3))
	}, -5, 5, 2, Options{}, nil},
	{"relu relu6 relu_n1_to_1", func(g *graph) {
		in := g.input("in", 1, 10)
		r := g.op(tfl.OpRelu, nil, []int{in}, "relu", 1, 10)
		g.output(g.op(tfl.OpRelu6, nil, []int{r}, "relu6", 1, 10))
		g.output(g.op(tfl.OpReluN1To1, nil, []int{in}, "relu1", 1, 10))
	}, -2, 8, 1.5, Options{}, nil},
	{"pad", func(g *graph) {
		in := g.input("in", 1, 3, 3, 2)
		pads := g.constI32("paddings", []int32{0, 0, 1, 1, 2, 0, 0, 0}, 4, 2)
		g.output(g.op(tfl.OpPad, nil, []int{in, pads}, "pad", 1, 5, 5, 2))
	}, 0.5, 3, 1, Options{}, nil},
	{"mean", func(g *graph) {
		in := g.input("in", 1, 4, 4, 3)
		axes := g.constI32("axes", []int32{1, 2}, 2)
		g.output(g.op(tfl.OpMean, &tfl.ReducerOptions{}, []int{in, axes}, "mean", 1, 3))
	}, -1, 3, 2, Options{}, nil},
	{"reshape squeeze transpose", func(g *graph) {
		in := g.input("in", 1, 2, 3, 4)
		perm := g.constI32("perm", []int32{0, 3, 1, 2}, 4)
		tr := g.op(tfl.OpTranspose, nil, []int{in, perm}, "transpose", 1, 4, 2, 3)
		shape := g.constI32("shape", []int32{-1, 1, 24}, 3)
		rs := g.op(tfl.OpReshape, &tfl.ReshapeOptions{NewShape: []int{-1, 1, 24}}, []int{tr, shape}, "reshape", 1, 1, 24)
		g.output(g.op(tfl.OpSqueeze, &tfl.SqueezeOptions{SqueezeDims: []int{1}}, []int{rs}, "squeeze", 1, 24))
	}, -2, 2, 1, Options{}, nil},
}

// int8Input quantises a float32 input with input 0's parameters of m.
func int8Input(m *tfl.Model, in []byte) []byte {
	sg := &m.Subgraphs[0]
	q := sg.Tensors[sg.Inputs[0]].Quant
	ap := quant.AffineParams{Scale: q.Scale[0], ZeroPoint: int32(q.ZeroPoint[0])}
	f := floats(in)
	out := make([]byte, len(f))
	for i, v := range f {
		out[i] = byte(int8(ap.Quantize(v, -128, 127)))
	}
	return out
}

func opcode(m *tfl.Model, code tfl.BuiltinOp) tfl.OperatorCode {
	for _, c := range m.OperatorCodes {
		if c.Builtin == code {
			return c
		}
	}
	return tfl.OperatorCode{Version: -1}
}

func countOps(m *tfl.Model, code tfl.BuiltinOp) int {
	n := 0
	for _, op := range m.Subgraphs[0].Operators {
		if m.OperatorCodes[op.OpcodeIndex].Builtin == code {
			n++
		}
	}
	return n
}

// dequantizeInput is the float32 input whose values the int8 input codes
// stand for.
func dequantizeInput(m *tfl.Model, q []byte) []byte {
	sg := &m.Subgraphs[0]
	qp := sg.Tensors[sg.Inputs[0]].Quant
	ap := quant.AffineParams{Scale: qp.Scale[0], ZeroPoint: int32(qp.ZeroPoint[0])}
	out := make([]byte, 4*len(q))
	for i, v := range q {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(ap.Dequantize(int32(int8(v)))))
	}
	return out
}

// TestSynthetic quantises small float graphs covering every operator the
// quantiser handles, runs the int8 models in the real TensorFlow Lite
// runtime and in the native engine, and compares with the float model.
func TestSynthetic(t *testing.T) {
	crun := crunPath(t)
	for i, tc := range synthCases {
		t.Run(tc.name, func(t *testing.T) {
			g := newGraph(uint64(i) + 1)
			tc.build(g)
			fm := g.m
			sg := &fm.Subgraphs[0]
			size := tfl.NumElements(sg.Tensors[sg.Inputs[0]].Shape)
			c, err := NewCalibrator(fm, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			cal := randomInputs(uint64(i)+100, 64, size, tc.lo, tc.hi)
			for _, in := range cal {
				if err := c.Add(in); err != nil {
					t.Fatal(err)
				}
			}
			qm, err := c.Quantize()
			if err != nil {
				t.Fatal(err)
			}
			checkSpec(t, qm)
			if tc.check != nil {
				tc.check(t, qm)
			}
			qdata, err := tfl.Write(qm)
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			// Samples of the calibration set: their values are inside the
			// calibrated ranges, so what remains is quantisation error, not
			// the clipping of values calibration never showed.
			tests := cal[:16]
			var qins [][]byte
			for _, in := range tests {
				qins = append(qins, int8Input(qm, in))
			}
			// The float reference reads the int8 input's real values, so
			// that input rounding does not count against the quantiser.
			var deq [][]byte
			for _, q := range qins {
				deq = append(deq, dequantizeInput(qm, q))
			}
			fi, err := native.New(fm, native.Options{})
			if err != nil {
				t.Fatal(err)
			}
			qi, err := native.New(qm, native.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var batch []byte
			for _, q := range qins {
				batch = append(batch, q...)
			}
			ref, err := tfliteRun(crun, qdata, batch, len(qins))
			if err != nil {
				t.Fatalf("TensorFlow Lite refuses the quantised model: %v", err)
			}
			worst := 0.0
			for k := range tests {
				copy(fi.Inputs()[0].Data, deq[k])
				copy(qi.Inputs()[0].Data, qins[k])
				fi.Invoke()
				qi.Invoke()
				for o, qt := range qi.Outputs() {
					per := len(ref[o]) / len(tests)
					refK := ref[o][k*per : (k+1)*per]
					fv := fi.Outputs()[o].Float32s()
					s, z := float64(qt.Quant.Scale[0]), float64(qt.Quant.ZeroPoint[0])
					for e, v := range qt.Int8s() {
						if d := int(v) - int(int8(refK[e])); d > 1 || d < -1 {
							t.Fatalf("sample %d output %d[%d]: native %d, TensorFlow Lite %d", k, o, e, v, int8(refK[e]))
						}
						// Judge the runtime's answer against float.
						steps := math.Abs((float64(int8(refK[e]))-z)*s-float64(fv[e])) / s
						worst = max(worst, steps)
					}
				}
			}
			t.Logf("max |int8 − float| = %.2f output steps", worst)
			if worst > tc.steps {
				t.Errorf("int8 output strays %.2f steps from float, want <= %g", worst, tc.steps)
			}
		})
	}
}

// TestConcatNeedsSharedParams shows why concatenation inputs share the
// output's parameters: TensorFlow Lite 2.9's int8 CONCATENATION refuses
// to prepare otherwise ("t->params.scale != output->params.scale").
func TestConcatNeedsSharedParams(t *testing.T) {
	crun := crunPath(t)
	g := newGraph(10)
	in := g.input("in", 1, 4)
	c := g.constF("c", []float32{3, -3, 2, 1}, 4)
	b := g.op(tfl.OpMul, &tfl.ActivationOptions{}, []int{in, c}, "b", 1, 4)
	g.output(g.op(tfl.OpConcatenation, &tfl.ConcatenationOptions{Axis: 1}, []int{in, b}, "cat", 1, 8))
	qm := calibrate(t, g.m, Options{}, randomInputs(1, 8, 4, -1, 1))
	data, err := tfl.Write(qm)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tfliteRun(crun, data, make([]byte, 4), 1); err != nil {
		t.Fatalf("TensorFlow Lite refuses the quantised model: %v", err)
	}
	// Now give one input its own scale, as a naive quantiser would.
	sg := &qm.Subgraphs[0]
	cat := sg.Operators[len(sg.Operators)-1]
	q := *sg.Tensors[cat.Inputs[1]].Quant
	q.Scale = []float32{q.Scale[0] * 1.5}
	sg.Tensors[cat.Inputs[1]].Quant = &q
	data, err = tfl.Write(qm)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tfliteRun(crun, data, make([]byte, 4), 1); err == nil || !strings.Contains(err.Error(), "CONCATENATION") {
		t.Errorf("TensorFlow Lite ran a concatenation of differently quantised inputs (%v); the sharing rule may be relaxed", err)
	}
}
