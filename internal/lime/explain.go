package lime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/infer/tfl"
)

// Hide colours: what a switched-off superpixel is replaced by.
const (
	// HideMean replaces each superpixel by its own mean colour, lime's
	// default (hide_color=None).
	HideMean = "mean"
	// HideBlack replaces it by black, lime's hide_color=0 on 8-bit pixels.
	HideBlack = "black"
	// HideGray replaces it by mid grey (128).
	HideGray = "gray"
)

// Options configures Explain. The zero value is lime's defaults with
// seed 0, one explained class and 1000 samples.
type Options struct {
	// Samples is the number of perturbed images, the first being the
	// image itself (lime's num_samples). 0: 1000.
	Samples int
	// Batch is the number of images per classifier call. 0: 32.
	Batch int
	// Seed makes the random masks; the same seed (and image, model and
	// options) gives the same explanation, bit for bit, whatever the
	// number of classifiers.
	Seed uint64
	// Hide is HideMean (default), HideBlack or HideGray.
	Hide string
	// KernelWidth of the exponential kernel on the cosine distance to
	// the image (lime_image's kernel_width). 0: 0.25.
	KernelWidth float64
	// Features bounds the superpixels in each class's linear model (lime's
	// num_features of explain_instance); 0: all of them (lime's 100000).
	Features int
	// Selection is how those features are chosen: SelectAuto (default),
	// SelectForward, SelectHighestWeights or SelectNone.
	Selection string
	// Labels are the class indexes to explain. Empty: the Top best
	// classes of the image.
	Labels []int
	// Top is the number of best classes explained when Labels is empty.
	// 0: 1.
	Top int
	// SLIC configures the superpixels.
	SLIC SLICOptions
}

// Validate reports options Explain would refuse.
func (o Options) Validate() error {
	_, err := o.withDefaults()
	return err
}

func (o Options) withDefaults() (Options, error) {
	switch {
	case o.Samples < 0, o.Batch < 0, o.Features < 0, o.Top < 0, o.KernelWidth < 0:
		return o, errors.New("lime: samples, batch, features, top and kernel width must not be negative")
	}
	if o.Samples == 0 {
		o.Samples = 1000
	}
	if o.Batch == 0 {
		o.Batch = 32
	}
	if o.KernelWidth == 0 {
		o.KernelWidth = 0.25
	}
	if o.Features == 0 {
		o.Features = 100000
	}
	if o.Top == 0 {
		o.Top = 1
	}
	switch o.Hide {
	case "":
		o.Hide = HideMean
	case HideMean, HideBlack, HideGray:
	default:
		return o, fmt.Errorf("lime: hide colour %q: want mean, black or gray", o.Hide)
	}
	switch o.Selection {
	case "":
		o.Selection = SelectAuto
	case SelectAuto, SelectForward, SelectHighestWeights, SelectNone:
	default:
		return o, fmt.Errorf("lime: feature selection %q: want auto, forward_selection, highest_weights or none", o.Selection)
	}
	return o, nil
}

// Explanation is LIME's answer for one image: its superpixels at the
// model's input resolution and, per explained class, a linear model of
// the class score in the superpixels kept.
type Explanation struct {
	// Width and Height are the model input's size, the resolution of
	// Segments.
	Width  int `json:"width"`
	Height int `json:"height"`
	// Source is the explained image's bounds, Box the part of it the
	// model sees (all of it, or the centred crop of fit "crop").
	Source image.Rectangle `json:"-"`
	Box    image.Rectangle `json:"-"`
	// Segments holds the superpixel of each model input pixel, row-major;
	// NumSegments of them, Pixels[s] pixels in superpixel s.
	Segments    []int32 `json:"-"`
	NumSegments int     `json:"segments"`
	Pixels      []int   `json:"pixels"`

	Samples     int     `json:"samples"`
	Seed        uint64  `json:"seed"`
	Hide        string  `json:"hide"`
	KernelWidth float64 `json:"kernel_width"`
	Selection   string  `json:"feature_selection"`
	// Probabilities reports whether the scores are probabilities (see
	// infer.Result).
	Probabilities bool    `json:"probabilities"`
	Classes       []Class `json:"classes"`

	// Elapsed is the time Explain took (not part of the JSON, which is
	// the same for the same seed).
	Elapsed time.Duration `json:"-"`
}

// Class is the explanation of one class.
type Class struct {
	Index int    `json:"index"`
	Label string `json:"label"`
	// Score is the model's score for the class on the unperturbed image,
	// as the classifier reports it.
	Score float32 `json:"score"`
	// Intercept, Weights: the local linear model, score ≈ Intercept + Σ
	// weight of each kept superpixel. Weights are sorted by |Weight|,
	// largest first (ties by segment).
	Intercept float64  `json:"intercept"`
	Weights   []Weight `json:"weights"`
	// R2 is the model's weighted R² on the samples (lime's score);
	// LocalPred its prediction for the unperturbed image.
	R2        float64 `json:"r2"`
	LocalPred float64 `json:"local_pred"`
}

// Weight is one superpixel's weight in a class's linear model.
type Weight struct {
	Segment int     `json:"segment"`
	Weight  float64 `json:"weight"`
}

// Explain runs LIME (Ribeiro et al., "Why Should I Trust You?", KDD
// 2016, as lime_image.LimeImageExplainer does it) on img with the
// classifiers, which must all wrap the same model: one batch of samples
// runs on each at a time, so give one per core, each with one thread.
//
// The image is fitted and resized to the model's input as the classifier
// does it; superpixels are made (SLIC) and switched off at that
// resolution, so each sample is exactly what the model sees.
func Explain(ctx context.Context, cls []*infer.Classifier, img image.Image, o Options) (*Explanation, error) {
	start := time.Now()
	if len(cls) == 0 {
		return nil, errors.New("lime: no classifier")
	}
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	spec := cls[0].Spec()
	pre, err := preprocess.New(spec, preprocess.Tensor{Type: tfl.Float32})
	if err != nil {
		return nil, fmt.Errorf("lime: %w", err)
	}
	pix, err := pre.Resize(img)
	if err != nil {
		return nil, fmt.Errorf("lime: %w", err)
	}
	w, h, ch := spec.Width, spec.Height, spec.Channels
	n := w * h
	rgb := make([]uint8, 3*n)
	for p := range n {
		if ch == 1 {
			rgb[3*p], rgb[3*p+1], rgb[3*p+2] = pix[p], pix[p], pix[p]
		} else {
			copy(rgb[3*p:3*p+3], pix[3*p:])
		}
	}
	base := slices.Clone(pix[:n*ch])

	// The scores of the image itself, as the agent reports them.
	labels := cls[0].Labels()
	topK := o.Top
	if len(o.Labels) > 0 {
		topK = 1
	}
	res, err := cls[0].Classify([]image.Image{img}, topK)
	if err != nil {
		return nil, fmt.Errorf("lime: classify the image: %w", err)
	}
	scores := res[0].Scores
	explain := slices.Clone(o.Labels)
	if len(explain) == 0 {
		for _, c := range res[0].Top {
			explain = append(explain, c.Index)
		}
	}
	for _, l := range explain {
		if l < 0 || l >= len(scores) {
			return nil, fmt.Errorf("lime: class %d does not exist; the model has %d classes (0..%d)", l, len(scores), len(scores)-1)
		}
	}

	segs, k := SLIC(rgb, w, h, o.SLIC)
	e := &Explanation{
		Width: w, Height: h, Source: img.Bounds(), Box: fitBox(img.Bounds(), w, h, spec.Fit),
		Segments: segs, NumSegments: k, Pixels: make([]int, k),
		Samples: o.Samples, Seed: o.Seed, Hide: o.Hide, KernelWidth: o.KernelWidth, Selection: o.Selection,
		Probabilities: res[0].Probabilities,
	}
	for _, s := range segs {
		e.Pixels[s]++
	}
	fudged := hidden(base, segs, k, ch, o.Hide)

	// Random masks, row 0 all ones (the image itself).
	x := make([]uint8, o.Samples*k)
	r := rand.New(rand.NewPCG(o.Seed, 0x6c696d65)) // "lime"
	for i := k; i < len(x); i++ {
		x[i] = uint8(r.Uint32() & 1)
	}
	for i := range k {
		x[i] = 1
	}

	y, err := classifySamples(ctx, cls, x, k, segs, base, fudged, spec, explain, o.Batch)
	if err != nil {
		return nil, err
	}

	// Cosine distance of a binary row with m ones to the all-ones row is
	// 1 − sqrt(m/k) (1 for the empty row); kernel sqrt(exp(−d²/width²)).
	wts := make([]float64, o.Samples)
	for i := range wts {
		m := 0
		for _, v := range x[i*k : (i+1)*k] {
			m += int(v)
		}
		d := 1.0
		if m > 0 {
			d = 1 - math.Sqrt(float64(m)/float64(k))
		}
		wts[i] = math.Sqrt(math.Exp(-d * d / (o.KernelWidth * o.KernelWidth)))
	}
	for j, l := range explain {
		col := make([]float64, o.Samples)
		for i := range col {
			col[i] = y[i*len(explain)+j]
		}
		d := &design{x: x, rows: o.Samples, cols: k, w: wts, y: col}
		used := d.selectFeatures(o.Selection, o.Features)
		f := d.ridge(used, 1)
		c := Class{Index: l, Label: labels[l], Score: scores[l], Intercept: f.intercept, R2: f.r2, LocalPred: f.intercept}
		for i, s := range used {
			c.Weights = append(c.Weights, Weight{Segment: s, Weight: f.coef[i]})
			c.LocalPred += f.coef[i] // the image keeps every superpixel
		}
		slices.SortStableFunc(c.Weights, func(a, b Weight) int {
			if v := cmp.Compare(math.Abs(b.Weight), math.Abs(a.Weight)); v != 0 {
				return v
			}
			return cmp.Compare(a.Segment, b.Segment)
		})
		e.Classes = append(e.Classes, c)
	}
	e.Elapsed = time.Since(start)
	return e, nil
}

// hidden returns the image with every superpixel switched off: its mean
// colour (rounded) or a constant.
func hidden(base []uint8, segs []int32, k, ch int, hide string) []uint8 {
	out := make([]uint8, len(base))
	switch hide {
	case HideBlack:
		return out
	case HideGray:
		for i := range out {
			out[i] = 128
		}
		return out
	}
	sum := make([]float64, k*ch)
	cnt := make([]float64, k)
	for p, s := range segs {
		cnt[s]++
		for c := range ch {
			sum[int(s)*ch+c] += float64(base[p*ch+c])
		}
	}
	for p, s := range segs {
		for c := range ch {
			out[p*ch+c] = uint8(math.Round(sum[int(s)*ch+c] / cnt[s]))
		}
	}
	return out
}

// classifySamples classifies every sample (row of x) and returns the
// scores of the explained classes, row-major. Batches are taken in turn
// by one goroutine per classifier; each sample's scores depend only on
// its mask, so the result is the same for any number of classifiers.
func classifySamples(ctx context.Context, cls []*infer.Classifier, x []uint8, k int, segs []int32, base, fudged []uint8,
	spec preprocess.Spec, explain []int, batch int) ([]float64, error) {
	rows := len(x) / k
	nl := len(explain)
	y := make([]float64, rows*nl)
	batches := (rows + batch - 1) / batch
	var (
		next    atomic.Int64
		stop    atomic.Bool
		errOnce sync.Once
		first   error
		wg      sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { first = err })
		stop.Store(true)
	}
	for _, c := range cls[:min(len(cls), batches)] {
		wg.Go(func() {
			imgs := make([]image.Image, batch)
			pixs := make([][]uint8, batch)
			for i := range imgs {
				imgs[i], pixs[i] = newImage(spec.Width, spec.Height, spec.Channels)
			}
			var results []infer.Result
			for !stop.Load() {
				b := int(next.Add(1) - 1)
				if b >= batches {
					return
				}
				if err := ctx.Err(); err != nil {
					fail(fmt.Errorf("lime: %w", err))
					return
				}
				lo, hi := b*batch, min((b+1)*batch, rows)
				for s := lo; s < hi; s++ {
					compose(pixs[s-lo], x[s*k:(s+1)*k], segs, base, fudged, spec.Channels)
				}
				var err error
				results, err = c.ClassifyInto(results, imgs[:hi-lo], 1)
				if err != nil {
					fail(fmt.Errorf("lime: classify samples %d to %d: %w", lo, hi-1, err))
					return
				}
				for s := lo; s < hi; s++ {
					sc := results[s-lo].Scores
					for j, l := range explain {
						y[s*nl+j] = float64(sc[l])
					}
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return y, nil
}

// newImage makes a model-sized image the classifier reads as it is, and
// returns it with its pixel bytes.
func newImage(w, h, ch int) (image.Image, []uint8) {
	r := image.Rect(0, 0, w, h)
	if ch == 1 {
		g := image.NewGray(r)
		return g, g.Pix
	}
	m := image.NewRGBA(r)
	for i := 3; i < len(m.Pix); i += 4 {
		m.Pix[i] = 0xff
	}
	return m, m.Pix
}

// compose writes one sample: the base pixels of the superpixels the mask
// keeps, the hidden ones elsewhere. dst is RGBA (alpha already set) or
// grey.
func compose(dst []uint8, mask []uint8, segs []int32, base, fudged []uint8, ch int) {
	if ch == 1 {
		for p, s := range segs {
			if mask[s] != 0 {
				dst[p] = base[p]
			} else {
				dst[p] = fudged[p]
			}
		}
		return
	}
	for p, s := range segs {
		src := fudged
		if mask[s] != 0 {
			src = base
		}
		dst[4*p], dst[4*p+1], dst[4*p+2] = src[3*p], src[3*p+1], src[3*p+2]
	}
}

// fitBox is the part of an image of bounds b that the model sees, as
// package preprocess fits it: all of it for "squash", the centred region
// with the model's aspect ratio for "crop" (Keras load_img's
// keep_aspect_ratio arithmetic).
func fitBox(b image.Rectangle, outW, outH int, fit preprocess.Fit) image.Rectangle {
	if fit != preprocess.Crop {
		return b
	}
	w, h := b.Dx(), b.Dy()
	cropH := max(min(h, w*outH/outW), 1)
	cropW := max(min(w, h*outW/outH), 1)
	x0, y0 := b.Min.X+(w-cropW)/2, b.Min.Y+(h-cropH)/2
	return image.Rect(x0, y0, x0+cropW, y0+cropH)
}
