package infer

import (
	"fmt"
	"image"
	"math"
	"slices"

	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// ClassifierOptions override what the model's metadata says; the zero
// value keeps it.
type ClassifierOptions struct {
	// Labels replaces the metadata's labels (a sidecar labels.txt). They
	// are fitted to the number of classes with FitLabels. Without labels
	// from either source, classes are named by index ("class 17").
	Labels []string
	// Normalize, ColorOrder, Resize and Fit override the metadata's
	// preprocessing; see package preprocess for the names. A model with
	// neither metadata nor an option gets preprocess.GuessNormalize and
	// the preprocess defaults (nearest, squash, RGB).
	Normalize  string
	ColorOrder string
	Resize     string
	Fit        string
	// Softmax turns outputs that are not already probabilities (logits)
	// into probabilities. Without it such outputs are reported as raw
	// scores, flagged by Result.Probabilities = false.
	Softmax bool
	// MaxBatch bounds how many images run in one invocation; 0 means 8.
	MaxBatch int
	// Graph is the parsed model, when the caller has it. It tells whether
	// output 0 is produced by SOFTMAX or LOGISTIC, i.e. holds
	// probabilities; without it the output's quantisation (softmax's
	// fixed 1/256 scale) or, for float outputs, the scores themselves
	// decide.
	Graph *tfl.Model
}

// Class is one entry of a ranking.
type Class struct {
	Index int     `json:"index"`
	Label string  `json:"label"`
	Score float32 `json:"score"`
}

// Result is the classification of one image.
type Result struct {
	// Top holds the best classes, highest score first (ties by index).
	Top []Class
	// Scores is the full output vector, dequantised ((q-zp)*scale).
	Scores []float32
	// Probabilities reports whether Scores is a probability distribution
	// (non-negative, summing to 1 within 2%), either as the model output
	// it or because the Softmax option converted it.
	Probabilities bool
}

// outputKind says how a classifier knows whether scores are probabilities.
type outputKind int

const (
	outputUnknown outputKind = iota // decide per image: isDistribution
	outputProbabilities
	outputScores
)

// classifyOutput decides, once per model, whether output 0 holds
// probabilities. A per-image sum test alone is wrong for quantised
// softmax outputs: 1001 classes rounded to steps of 1/256 can sum to
// anywhere near 1 ± 4%.
func classifyOutput(g *tfl.Model, out TensorInfo) outputKind {
	if g != nil {
		if op, ok := producer(g, 0); ok {
			switch op {
			case tfl.OpSoftmax, tfl.OpLogistic:
				return outputProbabilities
			}
			return outputScores
		}
	}
	if out.Quantized() && out.Scale == 1.0/256 {
		// TFLite fixes softmax/logistic outputs at scale 1/256 with the
		// type's lowest value as zero point.
		if (out.Type == tfl.Uint8 && out.ZeroPoint == 0) || (out.Type == tfl.Int8 && out.ZeroPoint == -128) {
			return outputProbabilities
		}
	}
	return outputUnknown
}

// producer returns the operator that computes subgraph output i, looking
// through operators that only move or requantise data.
func producer(g *tfl.Model, i int) (tfl.BuiltinOp, bool) {
	if len(g.Subgraphs) == 0 || i >= len(g.Subgraphs[0].Outputs) {
		return 0, false
	}
	sg := &g.Subgraphs[0]
	t := sg.Outputs[i]
	for range len(sg.Operators) + 1 {
		var found *tfl.Operator
		for j := range sg.Operators {
			for _, o := range sg.Operators[j].Outputs {
				if o == t {
					found = &sg.Operators[j]
				}
			}
		}
		if found == nil || found.OpcodeIndex >= len(g.OperatorCodes) {
			return 0, false
		}
		code := g.OperatorCodes[found.OpcodeIndex].Builtin
		switch code {
		case tfl.OpReshape, tfl.OpSqueeze, tfl.OpQuantize, tfl.OpDequantize:
			if len(found.Inputs) == 0 || found.Inputs[0] < 0 {
				return code, true
			}
			t = found.Inputs[0]
			continue
		}
		return code, true
	}
	return 0, false
}

// Classifier runs images through an image-classification model: one
// image input, and output 0 holding one score per class.
type Classifier struct {
	e         Engine
	labels    []string
	classes   int
	pre       *preprocess.Preprocessor
	spec      preprocess.Spec
	tensor    preprocess.Tensor
	softmax   bool
	kind      outputKind
	maxBatch  int
	batchable bool // false once SetBatch or the output shape refused a batch
	guessed   bool
}

// NewClassifier wraps e. md may be nil (a model without metadata). The
// preprocessing is taken from md, then overridden by opts, then completed
// by preprocess.GuessNormalize and the package defaults.
func NewClassifier(e Engine, md *Metadata, opts ClassifierOptions) (*Classifier, error) {
	ins, outs := e.Inputs(), e.Outputs()
	if len(ins) != 1 {
		return nil, fmt.Errorf("infer: classifier: the model has %d inputs, want one image input", len(ins))
	}
	if len(outs) == 0 {
		return nil, fmt.Errorf("infer: classifier: the model has no outputs")
	}
	in, out := ins[0], outs[0]
	if _, err := preprocess.ShapeSpec(in.Shape); err != nil {
		return nil, fmt.Errorf("infer: classifier: input %s: %w", in, err)
	}
	batch := in.Shape[0]
	if batch < 1 || len(out.Shape) == 0 || out.Shape[0] != batch {
		return nil, fmt.Errorf("infer: classifier: output %s does not have one row per image of input %s", out, in)
	}
	classes := tfl.NumElements(out.Shape) / batch
	if classes < 1 {
		return nil, fmt.Errorf("infer: classifier: output %s has no classes", out)
	}
	switch out.Type {
	case tfl.Float32, tfl.Uint8, tfl.Int8:
	default:
		return nil, fmt.Errorf("infer: classifier: output %s: only float32, uint8 and int8 scores are supported", out)
	}
	if out.Type != tfl.Float32 && !out.Quantized() {
		return nil, fmt.Errorf("infer: classifier: output %s is %s without quantisation parameters", out, out.Type)
	}

	var labels []string
	if md != nil {
		labels = md.Labels
	}
	if opts.Labels != nil {
		labels = opts.Labels
	}
	var err error
	if labels != nil {
		if labels, err = FitLabels(labels, classes); err != nil {
			return nil, err
		}
	} else {
		labels = make([]string, classes)
		for i := range labels {
			labels[i] = fmt.Sprintf("class %d", i)
		}
	}
	tensor := preprocess.Tensor{Type: in.Type, Scale: in.Scale, ZeroPoint: in.ZeroPoint}
	pre, guessed, err := Preprocessing(in.Shape, tensor, md, opts)
	if err != nil {
		return nil, err
	}
	maxBatch := opts.MaxBatch
	if maxBatch <= 0 {
		maxBatch = 8
	}
	return &Classifier{
		e: e, labels: labels, classes: classes, pre: pre, spec: pre.Spec(), tensor: tensor,
		softmax: opts.Softmax, kind: classifyOutput(opts.Graph, out), maxBatch: maxBatch, batchable: true, guessed: guessed,
	}, nil
}

// Preprocessing resolves how images are prepared for an image input of
// shape and tensor, as a Classifier does: the shape gives size and
// layout; normalisation, colour order, resize and fit come from opts,
// else the metadata md, else preprocess's defaults; a model without
// normalisation metadata gets preprocess.GuessNormalize, and guessed
// says so. Feature maps and explanations use it to see what the
// classifier sees.
func Preprocessing(shape []int, tensor preprocess.Tensor, md *Metadata, opts ClassifierOptions) (pre *preprocess.Preprocessor, guessed bool, err error) {
	spec, err := preprocess.ShapeSpec(shape)
	if err != nil {
		return nil, false, fmt.Errorf("infer: input %v: %w", shape, err)
	}
	var norm, color, resize, fit string
	if md != nil {
		norm, color, resize, fit = md.Normalize, md.ColorOrder, md.Resize, md.Fit
	}
	pick := func(v *string, o string) {
		if o != "" {
			*v = o
		}
	}
	pick(&norm, opts.Normalize)
	pick(&color, opts.ColorOrder)
	pick(&resize, opts.Resize)
	pick(&fit, opts.Fit)
	if norm == "" {
		n, err := preprocess.GuessNormalize(tensor)
		if err != nil {
			return nil, false, fmt.Errorf("infer: classifier: the model has no normalisation metadata and %w", err)
		}
		norm, guessed = string(n), true
	}
	if spec.Normalize, err = preprocess.ParseNormalize(norm); err != nil {
		return nil, false, err
	}
	if spec.ColorOrder, err = preprocess.ParseColorOrder(color); err != nil {
		return nil, false, err
	}
	if spec.Resize, err = preprocess.ParseResize(resize); err != nil {
		return nil, false, err
	}
	if spec.Fit, err = preprocess.ParseFit(fit); err != nil {
		return nil, false, err
	}
	if pre, err = preprocess.New(spec, tensor); err != nil {
		return nil, false, fmt.Errorf("infer: classifier: %w", err)
	}
	return pre, guessed, nil
}

// Labels returns the class labels in output order.
func (c *Classifier) Labels() []string { return c.labels }

// Spec returns the preprocessing in use, all defaults resolved.
func (c *Classifier) Spec() preprocess.Spec { return c.spec }

// GuessedNormalize reports whether the normalisation came from
// preprocess.GuessNormalize rather than metadata or options.
func (c *Classifier) GuessedNormalize() bool { return c.guessed }

// Classify runs images through the model and ranks each one's topK
// classes (topK below 1 means 1; above the class count, all). Images run
// in batches of up to MaxBatch when the model accepts a resized batch
// dimension, else one at a time.
func (c *Classifier) Classify(images []image.Image, topK int) ([]Result, error) {
	return c.ClassifyInto(nil, images, topK)
}

// ClassifyInto is Classify writing into dst: the results reuse dst's
// elements' Scores and Top slices, so a caller that passes the previous
// call's results back (a camera pipeline) allocates nothing per frame once
// they have grown. The returned slice may share dst's backing array; the
// results stay valid until it is passed in again.
func (c *Classifier) ClassifyInto(dst []Result, images []image.Image, topK int) ([]Result, error) {
	if cap(dst) < len(images) {
		dst = append(dst[:cap(dst)], make([]Result, len(images)-cap(dst))...)
	}
	dst = dst[:len(images)]
	for start := 0; start < len(images); {
		n := 1
		if c.batchable {
			n = min(len(images)-start, c.maxBatch)
		}
		if err := c.run(images[start:start+n], dst[start:start+n], start, topK); err != nil {
			return nil, err
		}
		start += n
	}
	return dst, nil
}

// run classifies one batch into out. It sizes the engine for len(batch)
// images, falling back to one at a time when the model refuses.
func (c *Classifier) run(batch []image.Image, out []Result, first, topK int) error {
	n := len(batch)
	if err := c.setBatch(n); err != nil {
		if n == 1 {
			return err
		}
		c.batchable = false
		if err := c.setBatch(1); err != nil {
			return err
		}
		for i, img := range batch {
			if err := c.run([]image.Image{img}, out[i:i+1], first+i, topK); err != nil {
				return err
			}
		}
		return nil
	}
	in := c.e.Input(0)
	for i, img := range batch {
		if err := c.pre.Into(in, i, img); err != nil {
			return fmt.Errorf("infer: image %d: %w", first+i, err)
		}
	}
	if err := c.e.Invoke(); err != nil {
		return err
	}
	info := c.e.Outputs()[0]
	raw := c.e.Output(0)
	for i := range n {
		r := &out[i]
		if cap(r.Scores) < c.classes {
			r.Scores = make([]float32, c.classes)
		}
		scores := r.Scores[:c.classes]
		dequantize(scores, raw, i*c.classes, info)
		probs := c.kind == outputProbabilities || (c.kind == outputUnknown && isDistribution(scores))
		if !probs && c.softmax {
			softmax(scores)
			probs = true
		}
		*r = Result{Top: c.top(r.Top[:0], scores, topK), Scores: scores, Probabilities: probs}
	}
	return nil
}

// setBatch resizes the engine to n images when it is not already, and
// checks the output still has one row of c.classes scores per image.
func (c *Classifier) setBatch(n int) error {
	if c.e.Inputs()[0].Shape[0] != n {
		if err := c.e.SetBatch(n); err != nil {
			return fmt.Errorf("infer: classifier: batch of %d: %w", n, err)
		}
	}
	out := c.e.Outputs()[0]
	if len(out.Shape) == 0 || out.Shape[0] != n || tfl.NumElements(out.Shape) != n*c.classes {
		return fmt.Errorf("infer: classifier: batch of %d gives output %s, want %d rows of %d", n, out, n, c.classes)
	}
	return nil
}

// dequantize reads len(dst) scores starting at element off of an output.
func dequantize(dst []float32, raw []byte, off int, t TensorInfo) {
	switch t.Type {
	case tfl.Float32:
		for i := range dst {
			o := 4 * (off + i)
			dst[i] = math.Float32frombits(uint32(raw[o]) | uint32(raw[o+1])<<8 | uint32(raw[o+2])<<16 | uint32(raw[o+3])<<24)
		}
	case tfl.Uint8:
		for i := range dst {
			dst[i] = quant.Dequantize(int32(raw[off+i]), t.ZeroPoint, float64(t.Scale))
		}
	case tfl.Int8:
		for i := range dst {
			dst[i] = quant.Dequantize(int32(int8(raw[off+i])), t.ZeroPoint, float64(t.Scale))
		}
	}
}

// isDistribution: non-negative and summing to 1 within 2%, the test for
// float outputs of models whose graph is not known.
func isDistribution(p []float32) bool {
	var sum float64
	for _, v := range p {
		if v < 0 || v != v {
			return false
		}
		sum += float64(v)
	}
	return math.Abs(sum-1) <= 0.02
}

// softmax replaces scores by exp(s - max) / sum, in float64.
func softmax(s []float32) {
	m := slices.Max(s)
	var sum float64
	for _, v := range s {
		sum += math.Exp(float64(v - m))
	}
	for i, v := range s {
		s[i] = float32(math.Exp(float64(v-m)) / sum)
	}
}

// top ranks the k best scores into best (reusing its array when it has
// room for k+1), ties by lower index.
func (c *Classifier) top(best []Class, scores []float32, k int) []Class {
	k = min(max(k, 1), len(scores))
	if cap(best) < k+1 {
		best = make([]Class, 0, k+1)
	}
	best = best[:0]
	for i, s := range scores {
		if len(best) == k && s <= best[k-1].Score {
			continue
		}
		pos, _ := slices.BinarySearchFunc(best, s, func(c Class, s float32) int {
			if c.Score >= s {
				return -1 // keeps earlier (lower) indices first among ties
			}
			return 1
		})
		best = slices.Insert(best, pos, Class{Index: i, Label: c.labels[i], Score: s})
		if len(best) > k {
			best = best[:k]
		}
	}
	return best
}
