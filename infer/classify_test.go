package infer

import (
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"math"
	"slices"
	"testing"

	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// fakeEngine is a 3-class "colour classifier" over a [n, 2, 2, 3] input:
// class k scores the mean of channel k. It records what it was fed.
type fakeEngine struct {
	in, out  TensorInfo
	inBuf    []byte
	outBuf   []byte
	maxBatch int // SetBatch above this fails
	logits   bool
	invokes  int
	lastIn   []byte
}

func newFake(inType tfl.TensorType, outType tfl.TensorType) *fakeEngine {
	e := &fakeEngine{maxBatch: 64}
	e.in = TensorInfo{Name: "image", Type: inType, Shape: []int{1, 2, 2, 3}}
	if inType != tfl.Float32 {
		e.in.Scale, e.in.ZeroPoint = 1.0/255, 0
	}
	e.out = TensorInfo{Name: "probs", Type: outType, Shape: []int{1, 3}}
	if outType != tfl.Float32 {
		e.out.Scale, e.out.ZeroPoint = 1.0/256, 0
	}
	e.alloc()
	return e
}

func (e *fakeEngine) alloc() {
	e.inBuf = make([]byte, e.in.Bytes())
	e.outBuf = make([]byte, e.out.Bytes())
}

func (e *fakeEngine) Inputs() []TensorInfo  { return []TensorInfo{e.in} }
func (e *fakeEngine) Outputs() []TensorInfo { return []TensorInfo{e.out} }
func (e *fakeEngine) Input(int) []byte      { return e.inBuf }
func (e *fakeEngine) Output(int) []byte     { return e.outBuf }
func (e *fakeEngine) Close() error          { return nil }

func (e *fakeEngine) SetBatch(n int) error {
	if n > e.maxBatch {
		return errors.New("fake: batch too large")
	}
	e.in.Shape = []int{n, 2, 2, 3}
	e.out.Shape = []int{n, 3}
	e.alloc()
	return nil
}

func (e *fakeEngine) Invoke() error {
	e.invokes++
	e.lastIn = slices.Clone(e.inBuf)
	n := e.in.Shape[0]
	for i := range n {
		var sums [3]float64
		for p := range 4 {
			for k := range 3 {
				sums[k] += e.inValue(i*12 + p*3 + k)
			}
		}
		total := sums[0] + sums[1] + sums[2]
		for k, s := range sums {
			v := s / total
			if e.logits {
				v = s
			}
			switch e.out.Type {
			case tfl.Float32:
				binary.LittleEndian.PutUint32(e.outBuf[4*(i*3+k):], math.Float32bits(float32(v)))
			case tfl.Uint8:
				e.outBuf[i*3+k] = uint8(min(math.Round(v*256), 255))
			}
		}
	}
	return nil
}

func (e *fakeEngine) inValue(i int) float64 {
	if e.in.Type == tfl.Float32 {
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(e.inBuf[4*i:])))
	}
	return float64(e.inBuf[i])
}

func solid(c color.NRGBA) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return img
}

var rgbImages = []image.Image{
	solid(color.NRGBA{200, 20, 20, 255}),
	solid(color.NRGBA{10, 250, 30, 255}),
	solid(color.NRGBA{0, 40, 120, 255}),
}

func TestClassifyBatches(t *testing.T) {
	for _, tc := range []struct {
		name        string
		maxBatch    int
		wantInvokes int
	}{{"batched", 64, 1}, {"one-at-a-time", 1, 3}} {
		e := newFake(tfl.Uint8, tfl.Float32)
		e.maxBatch = tc.maxBatch
		md := &Metadata{Schema: 1, Labels: []string{"red", "green", "blue"}}
		c, err := NewClassifier(e, md, ClassifierOptions{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Classify(rgbImages, 2)
		if err != nil {
			t.Fatal(err)
		}
		if e.invokes != tc.wantInvokes {
			t.Errorf("%s: %d invocations, want %d", tc.name, e.invokes, tc.wantInvokes)
		}
		for i, want := range []string{"red", "green", "blue"} {
			r := res[i]
			if r.Top[0].Label != want || r.Top[0].Index != i || len(r.Top) != 2 || !r.Probabilities {
				t.Errorf("%s: image %d: %+v, want top-1 %s as probabilities", tc.name, i, r, want)
			}
		}
		// The uint8 input at scale 1/255 takes raw pixels.
		if got := e.lastIn[len(e.lastIn)-3:]; !slices.Equal(got, []byte{0, 40, 120}) {
			t.Errorf("%s: last pixel fed as %v, want [0 40 120]", tc.name, got)
		}
	}
}

func TestClassifyQuantisedOutput(t *testing.T) {
	e := newFake(tfl.Uint8, tfl.Uint8)
	c, err := NewClassifier(e, nil, ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Classify(rgbImages[:1], 5)
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	// 200, 20, 20 of 240: 0.8333 -> q 213 -> 213/256.
	if len(r.Top) != 3 || r.Top[0].Label != "class 0" || r.Top[0].Score != 213.0/256 || !r.Probabilities {
		t.Errorf("got %+v, want class 0 at 213/256 first of 3", r)
	}
}

func TestClassifyLogits(t *testing.T) {
	e := newFake(tfl.Float32, tfl.Float32)
	e.logits = true
	c, err := NewClassifier(e, nil, ClassifierOptions{Normalize: "none"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Classify(rgbImages[:1], 1)
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Probabilities || r.Top[0].Score != 800 {
		t.Errorf("logits: got %+v, want raw score 800 flagged as not probabilities", r)
	}
	c, err = NewClassifier(e, nil, ClassifierOptions{Normalize: "none", Softmax: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err = c.Classify(rgbImages[:1], 3)
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if !r.Probabilities || r.Top[0].Index != 0 || math.Abs(float64(r.Top[0].Score)-1) > 1e-6 {
		t.Errorf("softmax: got %+v, want class 0 near 1 as probabilities", r)
	}
}

// TestClassifierSpecPrecedence: options beat metadata, metadata beats the
// guess, and float inputs without either get x/255.
func TestClassifierSpecPrecedence(t *testing.T) {
	md := &Metadata{Schema: 1, Normalize: "symmetric", Resize: "area", ColorOrder: "bgr"}
	tests := []struct {
		md      *Metadata
		opts    ClassifierOptions
		norm    preprocess.Normalize
		resize  preprocess.Resize
		order   preprocess.ColorOrder
		guessed bool
	}{
		{nil, ClassifierOptions{}, preprocess.Unit, preprocess.Nearest, preprocess.RGB, true},
		{md, ClassifierOptions{}, preprocess.Symmetric, preprocess.Area, preprocess.BGR, false},
		{md, ClassifierOptions{Normalize: "none", Resize: "bilinear"}, preprocess.None, preprocess.Bilinear, preprocess.BGR, false},
	}
	for i, tc := range tests {
		c, err := NewClassifier(newFake(tfl.Float32, tfl.Float32), tc.md, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		s := c.Spec()
		if s.Normalize != tc.norm || s.Resize != tc.resize || s.ColorOrder != tc.order || c.GuessedNormalize() != tc.guessed {
			t.Errorf("case %d: spec %+v guessed=%v, want %s %s %s guessed=%v", i, s, c.GuessedNormalize(), tc.norm, tc.resize, tc.order, tc.guessed)
		}
	}
	if _, err := NewClassifier(newFake(tfl.Float32, tfl.Float32), nil, ClassifierOptions{Resize: "cubic"}); err == nil {
		t.Error("unknown resize option accepted")
	}
	if _, err := NewClassifier(newFake(tfl.Float32, tfl.Float32), nil, ClassifierOptions{Labels: []string{"a"}}); err == nil {
		t.Error("1 label for 3 classes accepted")
	}
}

func TestTopTiesByIndex(t *testing.T) {
	c := &Classifier{labels: []string{"a", "b", "c", "d", "e"}}
	got := c.top(nil, []float32{0.1, 0.3, 0.3, 0.05, 0.25}, 3)
	want := []Class{{1, "b", 0.3}, {2, "c", 0.3}, {4, "e", 0.25}}
	if !slices.Equal(got, want) {
		t.Errorf("top = %v, want %v", got, want)
	}
	if got := c.top(nil, []float32{1, 2}, 10); len(got) != 2 {
		t.Errorf("top 10 of 2 = %v", got)
	}
}

// TestClassifyMobileNetBanana runs the real Coral MobileNet v2 (uint8) on
// the workshop's banana photo through the native engine, twice in one
// call to exercise batching (or its fallback).
func TestClassifyMobileNetBanana(t *testing.T) {
	modelPath := testdata.Path(t, "models/coral/mobilenet_v2_1.0_224_quant.tflite")
	labels, err := ReadLabels(testdata.Path(t, "models/coral/imagenet_labels.txt"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := preprocess.DecodeFile(testdata.Path(t, "images/workshop/Banana_wiki.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c, err := NewClassifier(e, nil, ClassifierOptions{Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Spec(); s.Normalize != preprocess.Symmetric || !c.GuessedNormalize() {
		t.Errorf("normalisation %s (guessed %v), want symmetric guessed from the input range", s.Normalize, c.GuessedNormalize())
	}
	res, err := c.Classify([]image.Image{img, img}, 5)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Top[0].Label != "banana" || !r.Probabilities {
			t.Errorf("image %d: top %+v (probabilities %v), want banana", i, r.Top, r.Probabilities)
		}
	}
	if !slices.Equal(res[0].Scores, res[1].Scores) {
		t.Error("the same image scored differently in one batch")
	}
	t.Logf("banana: %+v", res[0].Top)
}

func TestClassifyOutput(t *testing.T) {
	graph := func(last tfl.BuiltinOp) *tfl.Model {
		// logits -> last -> reshape -> output
		return &tfl.Model{
			OperatorCodes: []tfl.OperatorCode{{Builtin: last}, {Builtin: tfl.OpReshape}},
			Subgraphs: []tfl.Subgraph{{
				Tensors: make([]tfl.Tensor, 3), Inputs: []int{0}, Outputs: []int{2},
				Operators: []tfl.Operator{
					{OpcodeIndex: 0, Inputs: []int{0}, Outputs: []int{1}},
					{OpcodeIndex: 1, Inputs: []int{1}, Outputs: []int{2}},
				},
			}},
		}
	}
	u8soft := TensorInfo{Type: tfl.Uint8, Scale: 1.0 / 256, ZeroPoint: 0}
	i8soft := TensorInfo{Type: tfl.Int8, Scale: 1.0 / 256, ZeroPoint: -128}
	i8logits := TensorInfo{Type: tfl.Int8, Scale: 0.11, ZeroPoint: -24}
	f32 := TensorInfo{Type: tfl.Float32}
	tests := []struct {
		name string
		g    *tfl.Model
		out  TensorInfo
		want outputKind
	}{
		{"softmax graph", graph(tfl.OpSoftmax), f32, outputProbabilities},
		{"logistic graph", graph(tfl.OpLogistic), i8logits, outputProbabilities},
		{"fully connected graph", graph(tfl.OpFullyConnected), u8soft, outputScores},
		{"uint8 softmax params", nil, u8soft, outputProbabilities},
		{"int8 softmax params", nil, i8soft, outputProbabilities},
		{"int8 logits", nil, i8logits, outputUnknown},
		{"float without graph", nil, f32, outputUnknown},
	}
	for _, tc := range tests {
		if got := classifyOutput(tc.g, tc.out); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestClassifyIntoReuses: passing the results back makes a steady stream
// of frames allocation-free in the classifier (the engine's own
// invocation aside, which allocates nothing on one thread).
func TestClassifyIntoReuses(t *testing.T) {
	f, err := ReadFile(testdata.Path(t, "models/coral/mobilenet_v1_0.25_128_quant.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClassifier(e, nil, ClassifierOptions{MaxBatch: 2, Graph: f.Model})
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, 160, 120))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	images := []image.Image{img, img}
	want, err := c.Classify(images, 3)
	if err != nil {
		t.Fatal(err)
	}
	var res []Result
	allocs := testing.AllocsPerRun(5, func() {
		if res, err = c.ClassifyInto(res, images, 3); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ClassifyInto allocates %v times per call in steady state", allocs)
	}
	if len(res) != 2 || res[1].Top[0] != want[1].Top[0] || len(res[0].Top) != 3 {
		t.Errorf("ClassifyInto gave %+v, Classify %+v", res, want)
	}
}
