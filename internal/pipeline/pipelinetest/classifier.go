package pipelinetest

import (
	"image"
	"image/color"
	"slices"
	"sync"

	"github.com/fruitcam/fruitcam/infer"
)

// Image is a 1×1 test image that carries the scores a Classifier gives
// it, so a test decides what each frame is classified as.
type Image struct {
	Scores []float32
}

func (*Image) ColorModel() color.Model { return color.GrayModel }
func (*Image) Bounds() image.Rectangle { return image.Rect(0, 0, 1, 1) }
func (*Image) At(x, y int) color.Color { return color.Gray{} }

// Classifier is a fake pipeline.Classifier: it returns the Scores of each
// *Image, and Default for any other image. It reuses its results from
// call to call, allocating nothing in steady state, as a pipeline may
// expect. Use one per worker.
type Classifier struct {
	// Classes names the classes; len(Classes) scores per image.
	Classes []string
	// Default are the scores of images that are not *Image; nil means
	// class 0 with score 1.
	Default []float32
	// Hook, when set, runs at the start of every Classify call with the
	// batch; its error is returned. Tests block in it, advance a fake
	// clock in it (the inference time), or fail the call.
	Hook func(images []image.Image) error

	mu      sync.Mutex
	batches []int // the first maxRecorded batch sizes
	calls   int
	results []infer.Result
	top     []infer.Class
}

// NewClassifier returns a Classifier for labels.
func NewClassifier(labels ...string) *Classifier {
	return &Classifier{Classes: labels}
}

// Labels returns Classes.
func (c *Classifier) Labels() []string { return c.Classes }

// ClassifyInto returns the scores each image carries; topK is honoured as
// 1. The results are the fake's own (dst is ignored), reused across calls
// as the real classifier's are.
func (c *Classifier) ClassifyInto(_ []infer.Result, images []image.Image, topK int) ([]infer.Result, error) {
	if c.Hook != nil {
		if err := c.Hook(images); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	c.calls++
	if len(c.batches) < maxRecorded { // bounded: benchmarks run millions
		c.batches = append(c.batches, len(images))
	}
	c.mu.Unlock()
	k := len(c.Classes)
	for len(c.results) < len(images) {
		c.results = append(c.results, infer.Result{Scores: make([]float32, k), Probabilities: true})
		c.top = append(c.top, infer.Class{})
	}
	res := c.results[:len(images)]
	for i, img := range images {
		s := res[i].Scores[:k]
		clear(s)
		switch {
		case isImage(img):
			copy(s, img.(*Image).Scores)
		case c.Default != nil:
			copy(s, c.Default)
		default:
			s[0] = 1
		}
		best := 0
		for j, v := range s {
			if v > s[best] {
				best = j
			}
		}
		c.top[i] = infer.Class{Index: best, Label: c.Classes[best], Score: s[best]}
		res[i].Top = c.top[i : i+1 : i+1]
	}
	return res, nil
}

func isImage(img image.Image) bool {
	_, ok := img.(*Image)
	return ok
}

// maxRecorded bounds the batch sizes a Classifier records.
const maxRecorded = 1024

// Calls returns the number of Classify calls.
func (c *Classifier) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// Batches returns the sizes of the first 1024 batches classified, in
// order.
func (c *Classifier) Batches() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.batches)
}
