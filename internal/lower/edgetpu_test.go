package lower

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/inspect"
	"github.com/fruitcam/fruitcam/internal/keras"
	"github.com/fruitcam/fruitcam/internal/tfliteref"
	"github.com/fruitcam/fruitcam/quant/ptq"
)

// edgeCases add to lowerCases what only Options.EdgeTPU distinguishes: a
// LeakyReLU after a dense layer (alpha [C]) and one on a tensor deeper
// than PRELU broadcasts, which stays LEAKY_RELU.
var edgeCases = []lowerCase{
	{name: "dense leaky relu", build: func(b *kb) *keras.Model {
		b.input("x", 12)
		b.add(b.dense("dense", 12, 6, "linear"))
		b.add(&keras.Layer{Name: "leaky_re_lu", Class: "LeakyReLU", Alpha: 0.3})
		return b.outputs()
	}},
	{name: "leaky relu on a rank 5 tensor", build: func(b *kb) *keras.Model {
		b.input("x", 2, 3, 2, 4)
		b.add(&keras.Layer{Name: "leaky_re_lu", Class: "LeakyReLU", Alpha: 0.5})
		return b.outputs()
	}},
}

// TestEdgeTPULowering lowers every graph of lowerCases and edgeCases with
// and without Options.EdgeTPU. Graphs without a LeakyReLU must come out
// byte for byte the same; in the others every LEAKY_RELU (and nothing
// else) must become a PRELU with a constant alpha of shape [1, ..., 1, C]
// holding the slope, and both models must compute the same outputs in our
// engine and in the real TensorFlow Lite runtime.
func TestEdgeTPULowering(t *testing.T) {
	for i, c := range slices.Concat(lowerCases, edgeCases) {
		t.Run(c.name, func(t *testing.T) {
			def, err := Lower(c.build(newKB(uint64(i))), Options{Description: "test"})
			if err != nil {
				t.Fatal(err)
			}
			edge, err := Lower(c.build(newKB(uint64(i))), Options{Description: "test", EdgeTPU: true})
			if err != nil {
				t.Fatal(err)
			}
			defData, edgeData := mustWrite(t, def.Model), mustWrite(t, edge.Model)
			prelus := checkPreluSwap(t, def.Model, edge.Model)
			if prelus == 0 {
				if !bytes.Equal(defData, edgeData) {
					t.Fatal("no LeakyReLU was lowered to PRELU, yet EdgeTPU changed the model")
				}
				kept := slices.ContainsFunc(edge.Notes, func(n string) bool { return strings.Contains(n, "kept as LEAKY_RELU") })
				if hasLeaky := slices.ContainsFunc(def.Model.OperatorCodes, func(c tfl.OperatorCode) bool { return c.Builtin == tfl.OpLeakyRelu }); kept != hasLeaky {
					t.Errorf("LEAKY_RELU in the model %v, but a note says it was kept: %v (%q)", hasLeaky, kept, edge.Notes)
				}
				return
			}
			if !slices.ContainsFunc(edge.Notes, func(n string) bool { return strings.Contains(n, "lowered to PRELU") }) {
				t.Errorf("notes do not mention the PRELU: %q", edge.Notes)
			}

			r := rand.New(rand.NewPCG(uint64(i), 98))
			sg := def.Model.Subgraphs[0]
			var examples [][][]float32
			for range 2 {
				var ex [][]float32
				for _, ti := range sg.Inputs {
					n := tfl.NumElements(sg.Tensors[ti].Shape[1:])
					x := randomFloats(r, n, -2, 2)
					if c.pixels {
						for k := range x {
							x[k] = float32(r.IntN(256))
						}
						x = normalizePixels(x, def.InputNormalize)
					}
					ex = append(ex, x)
				}
				examples = append(examples, ex)
			}
			batch := batchOf(examples)
			gotDef := runNative(t, defData, batch, 2)
			gotEdge := runNative(t, edgeData, batch, 2)
			scale := max(maxAbs(gotDef), 1)
			d := maxDiff(t, "native LEAKY_RELU vs PRELU", gotDef, gotEdge)
			t.Logf("%d PRELU; max |diff| LEAKY_RELU vs PRELU model, our engine: %.2g (output scale %.3g)", prelus, d, scale)
			if d > 1e-6*scale {
				t.Errorf("the two lowerings differ by %g in our engine (output scale %g)", d, scale)
			}
			if !haveRef(t) {
				return
			}
			refDef := runRef(t, defData, batch, 2)
			refEdge := runRef(t, edgeData, batch, 2)
			dr := maxDiff(t, "TFLite LEAKY_RELU vs PRELU", refDef, refEdge)
			dn := maxDiff(t, "PRELU model native vs TFLite", gotEdge, refEdge)
			t.Logf("TFLite runtime: LEAKY_RELU vs PRELU model %.2g; PRELU model, our engine vs TFLite %.2g", dr, dn)
			if dr > 1e-6*scale {
				t.Errorf("the two lowerings differ by %g in the TFLite runtime (output scale %g)", dr, scale)
			}
			if dn > 1e-5*scale {
				t.Errorf("the PRELU model differs by %g between our engine and TFLite (output scale %g)", dn, scale)
			}
		})
	}
}

// checkPreluSwap checks that edge is def with every LEAKY_RELU replaced by
// a PRELU (same input, same output shape, version 1) whose alpha is a
// float32 constant of shape [1, ..., 1, C] repeating the LEAKY_RELU's
// slope, and returns the number of PRELUs. A LEAKY_RELU on a tensor of
// rank above 4 must stay as it is.
func checkPreluSwap(t *testing.T, def, edge *tfl.Model) int {
	t.Helper()
	ds, es := &def.Subgraphs[0], &edge.Subgraphs[0]
	if len(ds.Operators) != len(es.Operators) {
		t.Fatalf("%d operators with EdgeTPU, %d without", len(es.Operators), len(ds.Operators))
	}
	prelus := 0
	for i := range ds.Operators {
		dop, eop := &ds.Operators[i], &es.Operators[i]
		dc, ec := def.OperatorCodes[dop.OpcodeIndex], edge.OperatorCodes[eop.OpcodeIndex]
		if dc.Builtin == tfl.OpPrelu {
			t.Fatalf("operator %d is PRELU without EdgeTPU", i)
		}
		in := &ds.Tensors[dop.Inputs[0]]
		if dc.Builtin != tfl.OpLeakyRelu || len(in.Shape) > 4 {
			if ec != dc {
				t.Fatalf("operator %d is %s v%d with EdgeTPU, %s v%d without", i, ec.Builtin, ec.Version, dc.Builtin, dc.Version)
			}
			continue
		}
		prelus++
		if ec.Builtin != tfl.OpPrelu || ec.Version != 1 {
			t.Fatalf("operator %d (LEAKY_RELU without EdgeTPU) is %s v%d, want PRELU v1", i, ec.Builtin, ec.Version)
		}
		if eop.Options != nil {
			t.Errorf("PRELU %d has options %T", i, eop.Options)
		}
		x, y := &es.Tensors[eop.Inputs[0]], &es.Tensors[eop.Outputs[0]]
		if !slices.Equal(x.Shape, in.Shape) || !slices.Equal(y.Shape, in.Shape) || x.Name != in.Name {
			t.Errorf("PRELU %d reads %q %v and writes %v, want %q %v", i, x.Name, x.Shape, y.Shape, in.Name, in.Shape)
		}
		a := &es.Tensors[eop.Inputs[1]]
		want := make([]int, len(in.Shape)-1)
		for k := range want {
			want[k] = 1
		}
		want[len(want)-1] = in.Shape[len(in.Shape)-1]
		if len(in.Shape) == 1 {
			want = []int{1}
		}
		if a.Type != tfl.Float32 || !slices.Equal(a.Shape, want) {
			t.Errorf("PRELU %d alpha %q is %s %v, want float32 %v", i, a.Name, a.Type, a.Shape, want)
		}
		slope := dop.Options.(*tfl.LeakyReluOptions).Alpha
		data := edge.Buffer(a.Buffer)
		if len(data) != 4*tfl.NumElements(a.Shape) {
			t.Fatalf("PRELU %d alpha %q holds %d bytes, want a constant of %d values", i, a.Name, len(data), tfl.NumElements(a.Shape))
		}
		for k := 0; k < len(data); k += 4 {
			if v := math.Float32frombits(binary.LittleEndian.Uint32(data[k:])); v != slope {
				t.Fatalf("PRELU %d alpha[%d] = %g, want the slope %g", i, k/4, v, slope)
			}
		}
	}
	return prelus
}

// TestEdgeTPUFruitCNN quantises the workshop fruit CNN (lowerCases) lowered
// both ways and asks internal/inspect for the Edge TPU verdict: LEAKY_RELU
// cuts the graph ("partial"), PRELU does not ("compatible"). The int8
// PRELU model must run in the real TFLite runtime within one step of our
// engine.
func TestEdgeTPUFruitCNN(t *testing.T) {
	i := slices.IndexFunc(lowerCases, func(c lowerCase) bool { return strings.HasPrefix(c.name, "fruit CNN") })
	if i < 0 {
		t.Fatal("no fruit CNN in lowerCases")
	}
	c := lowerCases[i]
	r := rand.New(rand.NewPCG(3, 4))
	var cal [][]byte
	for range 24 {
		cal = append(cal, f32bytes(randomFloats(r, 20*20*3, 0, 1)))
	}
	var models [2]*tfl.Model
	for k, edgeTPU := range []bool{false, true} {
		res, err := Lower(c.build(newKB(uint64(i))), Options{EdgeTPU: edgeTPU})
		if err != nil {
			t.Fatal(err)
		}
		cb, err := ptq.NewCalibrator(res.Model, ptq.Options{InputRange: &[2]float64{0, 1}})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range cal {
			if err := cb.Add(s); err != nil {
				t.Fatal(err)
			}
		}
		if models[k], err = cb.Quantize(); err != nil {
			t.Fatal(err)
		}
		v := inspect.CheckEdgeTPU(models[k])
		want := map[bool]string{false: inspect.Partial, true: inspect.Compatible}[edgeTPU]
		t.Logf("EdgeTPU %v: %s", edgeTPU, v.Summary)
		if v.Verdict != want {
			t.Errorf("EdgeTPU %v: Edge TPU verdict %q, want %q; offences %+v", edgeTPU, v.Verdict, want, v.Offences)
		}
	}

	// The int8 PRELU model in both runtimes, and against the int8
	// LEAKY_RELU model, on fresh inputs.
	edgeData := mustWrite(t, models[1])
	in := models[1].Subgraphs[0].Tensors[models[1].Subgraphs[0].Inputs[0]]
	const n = 8
	codes := make([]byte, n*tfl.NumElements(in.Shape))
	for k := range codes {
		codes[k] = byte(r.IntN(256))
	}
	outs := [2][]byte{}
	for k, m := range models {
		it, err := native.New(m, native.Options{})
		if err != nil {
			t.Fatal(err)
		}
		per := len(codes) / n
		for e := range n {
			copy(it.Inputs()[0].Data, codes[e*per:(e+1)*per])
			if err := it.Invoke(); err != nil {
				t.Fatal(err)
			}
			outs[k] = append(outs[k], it.Outputs()[0].Data...)
		}
	}
	agree := 0
	for e := range n {
		if argmax8(outs[0][e*16:(e+1)*16]) == argmax8(outs[1][e*16:(e+1)*16]) {
			agree++
		}
	}
	t.Logf("int8 LEAKY_RELU vs PRELU model, our engine: max |diff| %d steps, top-1 agreement %d/%d", maxStep(outs[0], outs[1]), agree, n)
	if !haveRef(t) {
		return
	}
	ref := runRefBytes(t, edgeData, codes, n)
	d := maxStep(outs[1], ref)
	t.Logf("int8 PRELU model, our engine vs TFLite: max |diff| %d steps", d)
	if d > 1 {
		t.Errorf("the int8 PRELU model differs by %d steps between our engine and TFLite, want <= 1", d)
	}
}

func f32bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// maxStep is the largest difference between two int8 outputs, in codes.
func maxStep(a, b []byte) int {
	d := 0
	for i := range a {
		x := int(int8(a[i])) - int(int8(b[i]))
		d = max(d, x, -x)
	}
	return d
}

func argmax8(b []byte) int {
	best := 0
	for i := range b {
		if int8(b[i]) > int8(b[best]) {
			best = i
		}
	}
	return best
}

// runRefBytes runs an int8 model in the real TFLite runtime on a batch of
// n raw inputs and returns output 0's bytes.
func runRefBytes(t *testing.T, data, batch []byte, n int) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	outs, err := tfliteref.RunCLI(ctx, crun(t), data, [][]byte{batch}, n)
	if err != nil {
		t.Fatalf("TensorFlow Lite runtime: %v", err)
	}
	return outs[0]
}
