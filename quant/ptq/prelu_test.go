package ptq

import (
	"math"
	"testing"

	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// TestPrelu quantises float graphs with PRELU, as internal/lower writes
// LeakyReLU for the Edge TPU (a constant alpha [1, 1, C] repeating one
// slope) and as Keras' PReLU would be (a slope per channel, some negative
// or above 1), and checks the int8 model: alpha is an int8 constant with
// parameters from its own values, PRELU is version 1 (the only one
// TensorFlow Lite 2.9 registers), the real runtime runs it within one
// step of the native engine, and both stay near the float model.
func TestPrelu(t *testing.T) {
	crun := crunPath(t)
	cases := []struct {
		name  string
		build func(g *graph)
		steps float64 // allowed max |int8 − float| / output scale
	}{
		{"leaky relu 0.5 after conv", func(g *graph) {
			in := g.input("in", 1, 5, 5, 3)
			c := g.conv(in, "conv", 5, 5, 3, 4, tfl.ActNone)
			alpha := g.constF("leaky/alpha", []float32{0.5, 0.5, 0.5, 0.5}, 1, 1, 4)
			g.output(g.op(tfl.OpPrelu, nil, []int{c, alpha}, "leaky", 1, 5, 5, 4))
		}, 3},
		{"per-channel alpha", func(g *graph) {
			in := g.input("in", 1, 4, 4, 4)
			alpha := g.constF("prelu/alpha", []float32{0.25, -0.5, 1.5, 0}, 1, 1, 4)
			g.output(g.op(tfl.OpPrelu, nil, []int{in, alpha}, "prelu", 1, 4, 4, 4))
		}, 1.5},
		{"dense units", func(g *graph) {
			in := g.input("in", 1, 12)
			w := g.randF("fc/w", 0.3, 6, 12)
			b := g.randF("fc/b", 0.1, 6)
			fc := g.op(tfl.OpFullyConnected, &tfl.FullyConnectedOptions{}, []int{in, w, b}, "fc", 1, 6)
			alpha := g.constF("leaky/alpha", []float32{0.1, 0.1, 0.1, 0.1, 0.1, 0.1}, 6)
			g.output(g.op(tfl.OpPrelu, nil, []int{fc, alpha}, "leaky", 1, 6))
		}, 3},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newGraph(uint64(i) + 40)
			tc.build(g)
			fm := g.m
			sg := &fm.Subgraphs[0]
			size := tfl.NumElements(sg.Tensors[sg.Inputs[0]].Shape)
			cal := randomInputs(uint64(i)+400, 48, size, -2, 2)
			qm := calibrate(t, fm, Options{}, cal)

			if v := opcode(qm, tfl.OpPrelu).Version; v != 1 {
				t.Errorf("PRELU version %d, want 1", v)
			}
			checkPreluAlpha(t, fm, qm)

			qdata, err := tfl.Write(qm)
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			tests := cal[:16]
			var batch []byte
			var qins [][]byte
			for _, in := range tests {
				q := int8Input(qm, in)
				qins = append(qins, q)
				batch = append(batch, q...)
			}
			ref, err := tfliteRun(crun, qdata, batch, len(tests))
			if err != nil {
				t.Fatalf("TensorFlow Lite refuses the quantised model: %v", err)
			}
			fi, err := native.New(fm, native.Options{})
			if err != nil {
				t.Fatal(err)
			}
			qi, err := native.New(qm, native.Options{})
			if err != nil {
				t.Fatal(err)
			}
			worst, worstRef := 0.0, 0
			for k := range tests {
				copy(fi.Inputs()[0].Data, dequantizeInput(qm, qins[k]))
				copy(qi.Inputs()[0].Data, qins[k])
				if err := fi.Invoke(); err != nil {
					t.Fatal(err)
				}
				if err := qi.Invoke(); err != nil {
					t.Fatal(err)
				}
				qt := qi.Outputs()[0]
				per := len(ref[0]) / len(tests)
				refK := ref[0][k*per : (k+1)*per]
				fv := fi.Outputs()[0].Float32s()
				s, z := float64(qt.Quant.Scale[0]), float64(qt.Quant.ZeroPoint[0])
				for e, v := range qt.Int8s() {
					d := int(v) - int(int8(refK[e]))
					worstRef = max(worstRef, d, -d)
					worst = max(worst, math.Abs((float64(v)-z)*s-float64(fv[e]))/s)
				}
			}
			t.Logf("max |native − TensorFlow Lite| = %d steps; max |int8 − float| = %.2f output steps", worstRef, worst)
			if worstRef > 1 {
				t.Errorf("native and TensorFlow Lite differ by %d steps, want <= 1", worstRef)
			}
			if worst > tc.steps {
				t.Errorf("int8 output strays %.2f steps from float, want <= %g", worst, tc.steps)
			}
		})
	}
}

// checkPreluAlpha checks that every PRELU of the int8 model reads a
// constant int8 alpha whose parameters come from the float alpha's own
// range, and whose codes stand for the float values to half a step.
func checkPreluAlpha(t *testing.T, fm, qm *tfl.Model) {
	t.Helper()
	fsg, qsg := &fm.Subgraphs[0], &qm.Subgraphs[0]
	var falpha []int
	for _, op := range fsg.Operators {
		if fm.OperatorCodes[op.OpcodeIndex].Builtin == tfl.OpPrelu {
			falpha = append(falpha, op.Inputs[1])
		}
	}
	n := 0
	for _, op := range qsg.Operators {
		if qm.OperatorCodes[op.OpcodeIndex].Builtin != tfl.OpPrelu {
			continue
		}
		a := &qsg.Tensors[op.Inputs[1]]
		data := qm.Buffer(a.Buffer)
		if a.Type != tfl.Int8 || len(data) == 0 || a.Quant == nil || len(a.Quant.Scale) != 1 {
			t.Fatalf("alpha %q: %s, constant %v, quantisation %+v; want a per-tensor int8 constant", a.Name, a.Type, len(data) > 0, a.Quant)
		}
		vals := floats(fm.Buffer(fsg.Tensors[falpha[n]].Buffer))
		lo, hi, _ := quant.MinMax(vals)
		want, err := quant.ChooseAffine(lo, hi, -128, 127)
		if err != nil {
			t.Fatal(err)
		}
		got := quant.AffineParams{Scale: a.Quant.Scale[0], ZeroPoint: int32(a.Quant.ZeroPoint[0])}
		if got != want {
			t.Errorf("alpha %q parameters %+v, want %+v (from its range [%g, %g])", a.Name, got, want, lo, hi)
		}
		for k, v := range vals {
			if d := math.Abs(float64(got.Dequantize(int32(int8(data[k])))) - float64(v)); d > float64(got.Scale)/2 {
				t.Errorf("alpha %q[%d] = %g stored as %d, off by %g", a.Name, k, v, int8(data[k]), d)
			}
		}
		n++
	}
	if n != len(falpha) || n == 0 {
		t.Fatalf("%d PRELU operators in the int8 model, want %d", n, len(falpha))
	}
}
