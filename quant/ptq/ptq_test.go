package ptq

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// smallClassifier is conv → max pool → reshape → FC → softmax on a
// [1, 6, 6, 3] input, with two metadata entries.
func smallClassifier() *tfl.Model {
	g := newGraph(42)
	in := g.input("image", 1, 6, 6, 3)
	c := g.conv(in, "conv", 6, 6, 3, 4, tfl.ActRelu)
	mp := g.op(tfl.OpMaxPool2D, &tfl.Pool2DOptions{Padding: tfl.PaddingValid, StrideW: 2, StrideH: 2, FilterWidth: 2, FilterHeight: 2},
		[]int{c}, "pool", 1, 3, 3, 4)
	shape := g.constI32("shape", []int32{-1, 36}, 2)
	flat := g.op(tfl.OpReshape, &tfl.ReshapeOptions{NewShape: []int{-1, 36}}, []int{mp, shape}, "flat", 1, 36)
	w := g.randF("fc/w", 0.3, 5, 36)
	b := g.randF("fc/b", 0.1, 5)
	logits := g.op(tfl.OpFullyConnected, &tfl.FullyConnectedOptions{}, []int{flat, w, b}, "logits", 1, 5)
	g.output(g.op(tfl.OpSoftmax, &tfl.SoftmaxOptions{Beta: 1}, []int{logits}, "probs", 1, 5))
	g.m.Metadata = []tfl.Metadata{
		{Name: "min_runtime_version", Buffer: g.buffer([]byte("1.5.0\x00\x00\x00"))},
		{Name: "fruitcam", Buffer: g.buffer([]byte(`{"labels":["a","b","c","d","e"]}`))},
	}
	// Keras files carry a dynamic batch dimension.
	g.sg().Tensors[in].ShapeSignature = []int{-1, 6, 6, 3}
	return g.m
}

func calibrate(t *testing.T, m *tfl.Model, opts Options, samples [][]byte) *tfl.Model {
	t.Helper()
	c, err := NewCalibrator(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		if err := c.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	if c.Samples() != len(samples) {
		t.Fatalf("Samples() = %d, want %d", c.Samples(), len(samples))
	}
	q, err := c.Quantize()
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestKeepsMetadataAndDescription(t *testing.T) {
	fm := smallClassifier()
	qm := calibrate(t, fm, Options{}, randomInputs(1, 8, 108, 0, 1))
	if qm.Description != fm.Description {
		t.Errorf("description %q, want %q", qm.Description, fm.Description)
	}
	if len(qm.Metadata) != len(fm.Metadata) {
		t.Fatalf("%d metadata entries, want %d", len(qm.Metadata), len(fm.Metadata))
	}
	for i, md := range fm.Metadata {
		got := qm.Metadata[i]
		if got.Name != md.Name || !bytes.Equal(qm.Buffer(got.Buffer), fm.Buffer(md.Buffer)) {
			t.Errorf("metadata %d: %q = %q, want %q = %q", i, got.Name, qm.Buffer(got.Buffer), md.Name, fm.Buffer(md.Buffer))
		}
	}
	checkSpec(t, qm)
	if _, err := tfl.Write(qm); err != nil {
		t.Fatal(err)
	}
}

// TestInputRange: with the pixel normalisation's range, every 8-bit pixel
// value has its own input code (unit: scale 1/255, zero point -128 for
// int8 and 0 for uint8), whatever the calibration images held.
func TestInputRange(t *testing.T) {
	// Calibration inputs in [0.2, 0.7] only: calibrating input 0 would
	// give it a narrower scale.
	samples := randomInputs(2, 8, 108, 0.2, 0.7)
	tests := []struct {
		io    tfl.TensorType
		rng   [2]float64
		scale float32
		zp    int64
	}{
		{tfl.Int8, [2]float64{0, 1}, 1.0 / 255, -128},
		{tfl.Uint8, [2]float64{0, 1}, 1.0 / 255, 0},
		{tfl.Int8, [2]float64{0, 255}, 1, -128},
	}
	for _, tc := range tests {
		qm := calibrate(t, smallClassifier(), Options{IO: tc.io, InputRange: &tc.rng}, samples)
		sg := &qm.Subgraphs[0]
		in := &sg.Tensors[sg.Inputs[0]]
		if in.Type != tc.io || in.Quant.Scale[0] != tc.scale || in.Quant.ZeroPoint[0] != tc.zp {
			t.Errorf("%s %v: input %s scale %g zero point %d, want %s %g %d", tc.io, tc.rng,
				in.Type, in.Quant.Scale[0], in.Quant.ZeroPoint[0], tc.io, tc.scale, tc.zp)
		}
	}
	qm := calibrate(t, smallClassifier(), Options{}, samples)
	sg := &qm.Subgraphs[0]
	if s := sg.Tensors[sg.Inputs[0]].Quant.Scale[0]; s >= 0.7/255+1e-6 {
		t.Errorf("calibrated input scale %g, want the calibration range's (<= 0.7/255)", s)
	}
}

// TestUint8IO: a uint8 model is the int8 model with exact QUANTIZE
// operators at both ends, so TensorFlow Lite's outputs are the int8 ones
// plus 128.
func TestUint8IO(t *testing.T) {
	crun := crunPath(t)
	samples := randomInputs(3, 16, 108, 0, 1)
	i8 := calibrate(t, smallClassifier(), Options{}, samples)
	u8 := calibrate(t, smallClassifier(), Options{IO: tfl.Uint8}, samples)
	checkSpec(t, u8)
	sg := &u8.Subgraphs[0]
	ops := sg.Operators
	first, last := u8.OperatorCodes[ops[0].OpcodeIndex].Builtin, u8.OperatorCodes[ops[len(ops)-1].OpcodeIndex].Builtin
	if first != tfl.OpQuantize || last != tfl.OpQuantize {
		t.Errorf("uint8 model runs %s first and %s last, want QUANTIZE at both ends", first, last)
	}
	in, out := &sg.Tensors[sg.Inputs[0]], &sg.Tensors[sg.Outputs[0]]
	if in.Type != tfl.Uint8 || out.Type != tfl.Uint8 || in.Name != "image" || out.Name != "probs" {
		t.Errorf("input %q %s, output %q %s; want uint8 \"image\" and \"probs\"", in.Name, in.Type, out.Name, out.Type)
	}
	if got := sg.Tensors[ops[0].Outputs[0]].Name; got != "image_int8" {
		t.Errorf("int8 input renamed %q, want image_int8", got)
	}
	d8, err := tfl.Write(i8)
	if err != nil {
		t.Fatal(err)
	}
	du8, err := tfl.Write(u8)
	if err != nil {
		t.Fatal(err)
	}
	var b8, bu8 []byte
	for _, s := range samples {
		q := int8Input(i8, s)
		b8 = append(b8, q...)
		for _, v := range q {
			bu8 = append(bu8, byte(int(int8(v))+128))
		}
	}
	o8, err := tfliteRun(crun, d8, b8, len(samples))
	if err != nil {
		t.Fatal(err)
	}
	ou8, err := tfliteRun(crun, du8, bu8, len(samples))
	if err != nil {
		t.Fatal(err)
	}
	for i := range o8[0] {
		if got, want := int(ou8[0][i]), int(int8(o8[0][i]))+128; got != want {
			t.Fatalf("output byte %d: uint8 model %d, int8 model %d + 128 = %d", i, got, int8(o8[0][i]), want)
		}
	}
}

// TestPercentileNarrowsOutliers: one extreme sample stretches a min/max
// range; the percentile range ignores it.
func TestPercentileNarrowsOutliers(t *testing.T) {
	samples := randomInputs(4, 50, 108, 0, 1)
	// Three of 5400 input values are 50: 0.06 %, inside the 1 % tail
	// that Percentile 99 drops.
	for i := range 3 {
		binary.LittleEndian.PutUint32(samples[10*i][4*i:], math.Float32bits(50))
	}
	scale := func(m *tfl.Model) float32 {
		sg := &m.Subgraphs[0]
		return sg.Tensors[sg.Inputs[0]].Quant.Scale[0]
	}
	mm := calibrate(t, smallClassifier(), Options{Method: MinMax}, samples)
	pc := calibrate(t, smallClassifier(), Options{Method: Percentile, Percentile: 99}, samples)
	if scale(mm) < 50.0/255 {
		t.Errorf("minmax input scale %g, want >= 50/255", scale(mm))
	}
	if scale(pc) > 2.0/255 {
		t.Errorf("percentile input scale %g, want the bulk's (about 1/255)", scale(pc))
	}
}

func TestErrors(t *testing.T) {
	t.Run("already quantised", func(t *testing.T) {
		m, _ := readModel(t, "models/mlperf_tiny/vww_96_int8.tflite")
		if _, err := NewCalibrator(m, Options{}); !errors.Is(err, ErrAlreadyQuantized) {
			t.Errorf("int8 model: got %v, want ErrAlreadyQuantized", err)
		}
		g := newGraph(1)
		in := g.input("in", 1, 4)
		half := g.tensor(tfl.Tensor{Name: "w16", Type: tfl.Float16, Shape: []int{4}, Buffer: g.buffer(make([]byte, 8))})
		w := g.op(tfl.OpDequantize, nil, []int{half}, "w", 4)
		g.output(g.op(tfl.OpAdd, &tfl.ActivationOptions{}, []int{in, w}, "out", 1, 4))
		_, err := NewCalibrator(g.m, Options{})
		if !errors.Is(err, ErrAlreadyQuantized) || !strings.Contains(err.Error(), "DEQUANTIZE") {
			t.Errorf("float16 model: got %v, want ErrAlreadyQuantized naming DEQUANTIZE", err)
		}
	})
	unsupported := []struct {
		name  string
		build func(g *graph)
		index int
		op    string
	}{
		{"unknown operator", func(g *graph) {
			in := g.input("in", 1, 4, 4, 3)
			r := g.op(tfl.OpRelu, nil, []int{in}, "relu", 1, 4, 4, 3)
			size := g.constI32("size", []int32{8, 8}, 2)
			g.output(g.op(23, nil, []int{r, size}, "resized", 1, 8, 8, 3)) // RESIZE_BILINEAR
		}, 1, "RESIZE_BILINEAR"},
		{"custom operator", func(g *graph) {
			in := g.input("in", 1, 4)
			g.output(g.op(tfl.OpCustom, nil, []int{in}, "out", 1, 4))
		}, 0, "CUSTOM"},
		{"fused tanh", func(g *graph) {
			in := g.input("in", 1, 4, 4, 3)
			g.output(g.conv(in, "conv", 4, 4, 3, 2, tfl.ActTanh))
		}, 0, "CONV_2D"},
		{"concatenation with fused relu", func(g *graph) {
			in := g.input("in", 1, 4)
			g.output(g.op(tfl.OpConcatenation, &tfl.ConcatenationOptions{Axis: 1, Activation: tfl.ActRelu}, []int{in, in}, "cat", 1, 8))
		}, 0, "CONCATENATION"},
		{"weights computed at run time", func(g *graph) {
			in := g.input("in", 4, 4)
			g.output(g.op(tfl.OpFullyConnected, &tfl.FullyConnectedOptions{}, []int{in, in, -1}, "out", 4, 4))
		}, 0, "FULLY_CONNECTED"},
		{"two inputs", func(g *graph) {
			a := g.input("a", 1, 4)
			b := g.input("b", 1, 4)
			g.output(g.op(tfl.OpAdd, &tfl.ActivationOptions{}, []int{a, b}, "out", 1, 4))
		}, -1, ""},
	}
	for _, tc := range unsupported {
		t.Run(tc.name, func(t *testing.T) {
			g := newGraph(1)
			tc.build(g)
			_, err := NewCalibrator(g.m, Options{})
			var ue *UnsupportedError
			if !errors.As(err, &ue) {
				t.Fatalf("got %v, want *UnsupportedError", err)
			}
			if ue.Index != tc.index || !strings.HasPrefix(ue.Op, tc.op) {
				t.Errorf("error names operator %d (%s), want %d (%s): %v", ue.Index, ue.Op, tc.index, tc.op, err)
			}
			if tc.index >= 0 && !strings.Contains(err.Error(), "operator") {
				t.Errorf("message %q does not name the operator", err)
			}
		})
	}
	t.Run("samples", func(t *testing.T) {
		c, err := NewCalibrator(smallClassifier(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Quantize(); !errors.Is(err, ErrNoSamples) {
			t.Errorf("Quantize without samples: got %v, want ErrNoSamples", err)
		}
		err = c.Add(make([]byte, 100))
		if err == nil || !strings.Contains(err.Error(), "432") {
			t.Errorf("short sample: got %v, want an error giving the size (432 bytes)", err)
		}
		if c.Samples() != 0 {
			t.Errorf("a refused sample was counted")
		}
		nan := make([]byte, 432)
		for i := 0; i < len(nan); i += 4 {
			binary.LittleEndian.PutUint32(nan[i:], math.Float32bits(float32(math.NaN())))
		}
		if err := c.Add(nan); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Quantize(); err == nil || !strings.Contains(err.Error(), "finite") {
			t.Errorf("NaN-only calibration: got %v, want an error about finite values", err)
		}
	})
	t.Run("options", func(t *testing.T) {
		for _, o := range []Options{
			{IO: tfl.Float16},
			{Method: "kl"},
			{Method: Percentile, Percentile: 20},
			{InputRange: &[2]float64{1, 0}},
			{InputRange: &[2]float64{0, math.Inf(1)}},
		} {
			if _, err := NewCalibrator(smallClassifier(), o); err == nil {
				t.Errorf("options %+v accepted", o)
			}
		}
	})
}
