// Package limetest makes a model whose answer is known, for testing LIME:
// it looks only at one region of the image, so an explanation of it must
// point there.
package limetest

import (
	"encoding/binary"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/tfl"
)

// Size is the region model's input side; the corner it looks at is the
// top-left Size/2 × Size/2 of its input, i.e. the top-left quarter of any
// image squashed into it.
const Size = 32

// Labels of the region model: class 0 answers "red texture in the top-left
// quarter", class 1 is a constant.
var Labels = []string{"corner", "other"}

// RegionModel builds a float .tflite (with fruitcam metadata: labels,
// normalisation x/255) whose class 0 logit counts the strongly red pixels
// of the top-left quarter:
//
//	r      = relu(R − 0.7)                       (CONV_2D 1×1, per pixel)
//	logit0 = 16 · mean of r over the quarter − 1  (FULLY_CONNECTED)
//	logit1 = 0
//	probs  = softmax(logit0, logit1)
//
// Nothing outside the quarter, and no channel but red, reaches the output.
// The ReLU makes it non-linear, so that replacing a superpixel by its mean
// colour (LIME's default) also changes the score when the red is a
// texture.
func RegionModel() *tfl.Model {
	m := &tfl.Model{Version: 3, Buffers: [][]byte{nil}, Description: "limetest: region model",
		Subgraphs: []tfl.Subgraph{{Name: "main"}}}
	sg := &m.Subgraphs[0]
	add := func(t tfl.Tensor) int {
		sg.Tensors = append(sg.Tensors, t)
		return len(sg.Tensors) - 1
	}
	buf := func(vals []float32) int {
		b := make([]byte, 4*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		m.Buffers = append(m.Buffers, b)
		return len(m.Buffers) - 1
	}
	f32 := func(name string, shape ...int) int {
		return add(tfl.Tensor{Name: name, Type: tfl.Float32, Shape: shape})
	}
	cst := func(name string, vals []float32, shape ...int) int {
		return add(tfl.Tensor{Name: name, Type: tfl.Float32, Shape: shape, Buffer: buf(vals)})
	}
	op := func(code tfl.BuiltinOp, opts any, ins []int, out int) {
		idx := -1
		for i, c := range m.OperatorCodes {
			if c.Builtin == code {
				idx = i
			}
		}
		if idx < 0 {
			idx = len(m.OperatorCodes)
			m.OperatorCodes = append(m.OperatorCodes, tfl.OperatorCode{Builtin: code, Version: 1})
		}
		sg.Operators = append(sg.Operators, tfl.Operator{OpcodeIndex: idx, Inputs: ins, Outputs: []int{out}, Options: opts})
	}

	in := f32("image", 1, Size, Size, 3)
	red := f32("red", 1, Size, Size, 1)
	op(tfl.OpConv2D, &tfl.Conv2DOptions{Padding: tfl.PaddingValid, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1, Activation: tfl.ActRelu},
		[]int{in, cst("red/w", []float32{1, 0, 0}, 1, 1, 1, 3), cst("red/b", []float32{-0.7}, 1)}, red)
	flat := f32("flat", 1, Size*Size)
	shape := add(tfl.Tensor{Name: "shape", Type: tfl.Int32, Shape: []int{2}, Buffer: func() int {
		m.Buffers = append(m.Buffers, []byte{1, 0, 0, 0, Size * Size & 0xff, Size * Size >> 8, 0, 0})
		return len(m.Buffers) - 1
	}()})
	op(tfl.OpReshape, &tfl.ReshapeOptions{NewShape: []int{1, Size * Size}}, []int{red, shape}, flat)
	w := make([]float32, 2*Size*Size)
	quarter := float32(Size * Size / 4)
	for y := range Size / 2 {
		for x := range Size / 2 {
			w[y*Size+x] = 16 / quarter
		}
	}
	logits := f32("logits", 1, 2)
	op(tfl.OpFullyConnected, &tfl.FullyConnectedOptions{},
		[]int{flat, cst("fc/w", w, 2, Size*Size), cst("fc/b", []float32{-1, 0}, 2)}, logits)
	probs := f32("probs", 1, 2)
	op(tfl.OpSoftmax, &tfl.SoftmaxOptions{Beta: 1}, []int{logits}, probs)
	sg.Inputs, sg.Outputs = []int{in}, []int{probs}
	if err := infer.SetMetadata(m, &infer.Metadata{Schema: infer.MetadataSchema, Name: "limetest_region", Version: "1",
		Labels: Labels, Normalize: "unit", Resize: "nearest", Fit: "squash"}); err != nil {
		panic(err) // fixed, valid metadata
	}
	return m
}

// WriteRegionModel writes RegionModel to a temporary directory of t and
// returns its path.
func WriteRegionModel(t testing.TB) string {
	t.Helper()
	data, err := tfl.Write(RegionModel())
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "region.tflite")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// RegionImage is a side×side image the region model answers "corner"
// for: a red checker texture (R 255 and 100 on alternate model pixels) in
// the top-left quarter, seeded random greens and blues elsewhere.
func RegionImage(side int, seed uint64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	r := rand.New(rand.NewPCG(seed, 1))
	block := max(1, side/Size)
	for y := range side {
		for x := range side {
			c := color.RGBA{uint8(r.IntN(100)), uint8(60 + r.IntN(160)), uint8(60 + r.IntN(160)), 255}
			if x < side/2 && y < side/2 {
				c = color.RGBA{100, uint8(r.IntN(40)), uint8(r.IntN(40)), 255}
				if (x/block+y/block)%2 == 0 {
					c.R = 255
				}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// InCorner reports whether source pixel (x, y) of a side×side image lies in
// the quarter the region model looks at.
func InCorner(x, y, side int) bool { return x < side/2 && y < side/2 }
