package verify

import (
	"context"
	"errors"
	"fmt"
	"image"
	"runtime"
	"sync"
	"time"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/internal/dataset"
)

// Model is one of the two models compared.
type Model struct {
	// Name is how the report calls it ("float", "quant").
	Name string
	File *infer.File
}

// Options configures Run. The zero value uses the models' metadata, all
// cores and batches of 16.
type Options struct {
	// Labels replaces both models' metadata labels (a labels file for
	// models without metadata).
	Labels []string
	// Normalize, Resize, Fit and ColorOrder override both models'
	// metadata, with the names and meaning of infer.ClassifierOptions.
	Normalize, Resize, Fit, ColorOrder string
	// Threads is the number of workers, each running both models on its
	// share of the images with single-threaded engines; 0 means
	// runtime.NumCPU().
	Threads int
	// Batch is the number of images per invocation; 0 means 16.
	Batch int
	// Progress, when set, is called after each image with the number
	// done so far. Calls come from worker goroutines, one at a time; it
	// must return quickly.
	Progress func(done int)
}

// agreementLimit bounds the agreement matrix's labels (see
// agreementMatrix).
const agreementLimit = 24

// Report is the outcome of a verification. It encodes to JSON as is.
type Report struct {
	Models [2]ModelInfo `json:"models"`
	// Root is the image folder; Classes its class folders (nil when
	// unlabelled).
	Root    string   `json:"root"`
	Classes []string `json:"classes,omitempty"`
	// Images is the number of images tried; Classified those both models
	// classified; Unreadable the images skipped, in folder order.
	Images     int          `json:"images"`
	Classified int          `json:"classified"`
	Unreadable []Unreadable `json:"unreadable"`
	// Labels are the models' class labels, shared by both ("class 3"
	// names when neither model nor Options has labels).
	Labels []string `json:"labels"`
	// Agree counts the images on which both models' top-1 label is the
	// same; Agreement is Agree / Classified.
	Agree     int     `json:"agree"`
	Agreement float64 `json:"agreement"`
	// AgreementMatrix is model 0's top-1 label (rows) against model 1's
	// (columns).
	AgreementMatrix *Matrix `json:"agreement_matrix"`
	// Accuracy is nil when the images cannot be scored (an unlabelled
	// folder, models without labels, or folders matching no label).
	Accuracy *Accuracy `json:"accuracy,omitempty"`
	// Notes say what the report could not do and why.
	Notes   []string `json:"notes,omitempty"`
	Seconds float64  `json:"seconds"`
}

// ModelInfo says how a model was run.
type ModelInfo struct {
	Name  string `json:"name"`
	Path  string `json:"path"`
	Input string `json:"input"`
	// Classes is the length of the model's output.
	Classes int `json:"classes"`
	// LabelsFrom is "metadata", "options", "the other model's metadata"
	// or "none".
	LabelsFrom string `json:"labels_from"`
	// Normalize and Resize are the preprocessing used; NormalizeGuessed
	// is set when neither metadata nor options gave the normalisation.
	Normalize        string `json:"normalize"`
	Resize           string `json:"resize"`
	NormalizeGuessed bool   `json:"normalize_guessed,omitempty"`
}

// Unreadable is an image that could not be decoded; it is skipped.
type Unreadable struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// Accuracy scores both models against the class folders.
type Accuracy struct {
	// Scored counts the classified images whose folder matches a label.
	Scored  int        `json:"scored"`
	Correct [2]int     `json:"correct"`
	Top1    [2]float64 `json:"top1"`
	// PerClass follows the confusion matrices' rows.
	PerClass []ClassResult `json:"per_class"`
	// Unmatched lists the class folders that match no label; their
	// images count for agreement only.
	Unmatched []string `json:"unmatched,omitempty"`
	// Confusion is each model's matrix of true class (rows) against
	// predicted label (columns).
	Confusion [2]*Matrix `json:"confusion"`
}

// ClassResult is one class folder's accuracy under both models.
type ClassResult struct {
	Class    string     `json:"class"`
	Images   int        `json:"images"`
	Correct  [2]int     `json:"correct"`
	Accuracy [2]float64 `json:"accuracy"`
}

// ErrNoImages is returned when no image of the set could be read.
var ErrNoImages = errors.New("verify: no image could be read")

// worker is one goroutine's pair of classifiers.
type worker struct {
	names   [2]string
	engines [2]infer.Engine
	cls     [2]*infer.Classifier
}

func (w *worker) close() {
	for _, e := range w.engines {
		if e != nil {
			e.Close()
		}
	}
}

// Run classifies every image of set with both models and compares them.
func Run(ctx context.Context, models [2]Model, set *dataset.Set, opts Options) (*Report, error) {
	start := time.Now()
	if set == nil || len(set.Items) == 0 {
		return nil, errors.New("verify: no images to classify")
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	batch := opts.Batch
	if batch <= 0 {
		batch = 16
	}
	r := &Report{Root: set.Root, Classes: set.Classes, Images: len(set.Items), Unreadable: []Unreadable{}}

	mds, labels, from, err := resolveLabels(models, opts.Labels)
	if err != nil {
		return nil, err
	}
	newWorker := func() (*worker, error) {
		w := &worker{names: [2]string{models[0].Name, models[1].Name}}
		for i, m := range models {
			e, err := infer.NewEngine(m.File, infer.Options{Backend: infer.BackendNative, Threads: 1})
			if err != nil {
				w.close()
				return nil, fmt.Errorf("verify: %s model: %w", m.Name, err)
			}
			w.engines[i] = e
			c, err := infer.NewClassifier(e, mds[i], infer.ClassifierOptions{
				Labels: labels, Normalize: opts.Normalize, Resize: opts.Resize, Fit: opts.Fit,
				ColorOrder: opts.ColorOrder, MaxBatch: batch, Graph: m.File.Model,
			})
			if err != nil {
				w.close()
				return nil, fmt.Errorf("verify: %s model %s: %w", m.Name, m.File.Path, err)
			}
			w.cls[i] = c
		}
		return w, nil
	}
	first, err := newWorker()
	if err != nil {
		return nil, err
	}
	classes := [2]int{len(first.cls[0].Labels()), len(first.cls[1].Labels())}
	if classes[0] != classes[1] {
		first.close()
		return nil, fmt.Errorf("verify: the %s model has %d classes and the %s model %d: they must classify into the same labels",
			models[0].Name, classes[0], models[1].Name, classes[1])
	}
	for i, m := range models {
		c := first.cls[i]
		spec := c.Spec()
		r.Models[i] = ModelInfo{
			Name: m.Name, Path: m.File.Path, Input: first.engines[i].Inputs()[0].String(), Classes: classes[i], LabelsFrom: from[i],
			Normalize: string(spec.Normalize), Resize: string(spec.Resize), NormalizeGuessed: c.GuessedNormalize(),
		}
		if c.GuessedNormalize() {
			r.Notes = append(r.Notes, fmt.Sprintf("the %s model has no preprocessing metadata: normalisation %q was guessed from its input (set it with --normalize)",
				m.Name, spec.Normalize))
		}
	}
	if a, b := r.Models[0].Normalize, r.Models[1].Normalize; a != b {
		r.Notes = append(r.Notes, fmt.Sprintf("the models are normalised differently (%s: %s, %s: %s); twins of one model need the same real input, so one of them is probably wrong: set --normalize",
			models[0].Name, a, models[1].Name, b))
	}
	r.Labels = first.cls[0].Labels()

	// Workers take chunks of batch images in turn; results land at the
	// images' indices, so the outcome does not depend on scheduling.
	n := len(set.Items)
	pred := [2][]int{make([]int, n), make([]int, n)}
	readErr := make([]error, n)
	chunks := (n + batch - 1) / batch
	nw := min(threads, chunks)
	workers := []*worker{first}
	for len(workers) < nw {
		w, err := newWorker()
		if err != nil {
			for _, w := range workers {
				w.close()
			}
			return nil, err
		}
		workers = append(workers, w)
	}
	var (
		mu       sync.Mutex
		next     int
		done     int
		firstErr error
		wg       sync.WaitGroup
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if next >= chunks || firstErr != nil || ctx.Err() != nil {
			return 0, false
		}
		next++
		return next - 1, true
	}
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.close()
			for {
				ci, ok := take()
				if !ok {
					return
				}
				lo, hi := ci*batch, min((ci+1)*batch, n)
				err := w.classify(set.Items[lo:hi], lo, pred, readErr)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				for range hi - lo {
					done++
					if opts.Progress != nil {
						opts.Progress(done)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}

	// Keep the images both models classified.
	var truth []int
	var a, b []int
	for i, it := range set.Items {
		if readErr[i] != nil {
			r.Unreadable = append(r.Unreadable, Unreadable{Path: it.Path, Error: readErr[i].Error()})
			continue
		}
		truth = append(truth, it.Class)
		a = append(a, pred[0][i])
		b = append(b, pred[1][i])
	}
	r.Classified = len(truth)
	if r.Classified == 0 {
		return nil, fmt.Errorf("%w: all %d images of %s failed (first: %s: %s)", ErrNoImages, n, set.Root,
			r.Unreadable[0].Path, r.Unreadable[0].Error)
	}
	for i := range a {
		if a[i] == b[i] {
			r.Agree++
		}
	}
	r.Agreement = float64(r.Agree) / float64(r.Classified)
	r.AgreementMatrix = agreementMatrix(r.Labels, a, b, agreementLimit)

	switch {
	case !set.Labelled():
		r.Notes = append(r.Notes, fmt.Sprintf("%s has no class folders: agreement only (put the images in folders named after the labels to score accuracy)", set.Root))
	case from[0] == "none":
		r.Notes = append(r.Notes, "the models have no labels (no metadata and no labels file): agreement only (pass --labels FILE to score accuracy)")
	default:
		classLabel, err := set.ClassIndex(r.Labels)
		if err != nil {
			r.Notes = append(r.Notes, fmt.Sprintf("agreement only: %v", err))
			break
		}
		r.Accuracy = score(set.Classes, classLabel, truth, [2][]int{a, b})
		if len(r.Accuracy.Unmatched) > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("%d class folder(s) match no label and count for agreement only: %v",
				len(r.Accuracy.Unmatched), r.Accuracy.Unmatched))
		}
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// classify decodes items (the set's images lo...) and runs both models on
// those that decode; an unreadable image is recorded in readErr, not
// fatal.
func (w *worker) classify(items []dataset.Item, lo int, pred [2][]int, readErr []error) error {
	imgs := make([]image.Image, 0, len(items))
	at := make([]int, 0, len(items))
	for i, it := range items {
		img, err := preprocess.DecodeFile(it.Path)
		if err != nil {
			readErr[lo+i] = err
			continue
		}
		imgs = append(imgs, img)
		at = append(at, lo+i)
	}
	if len(imgs) == 0 {
		return nil
	}
	for m, c := range w.cls {
		res, err := c.Classify(imgs, 1)
		if err != nil {
			return fmt.Errorf("verify: %s model on %s...: %w", w.names[m], items[0].Path, err)
		}
		for i, r := range res {
			pred[m][at[i]] = r.Top[0].Index
		}
	}
	return nil
}

// resolveLabels decides the labels both models share: the options', else
// the metadata's. When only one model has metadata labels (our int8 model
// against TensorFlow's, say) they serve for both; two different label
// lists are an error, since agreement by index would then compare
// different things.
func resolveLabels(models [2]Model, opt []string) (mds [2]*infer.Metadata, labels []string, from [2]string, err error) {
	for i, m := range models {
		if mds[i], err = m.File.Metadata(); err != nil {
			return mds, nil, from, fmt.Errorf("verify: %s model: %w", m.Name, err)
		}
	}
	if opt != nil {
		return mds, opt, [2]string{"options", "options"}, nil
	}
	var have [2][]string
	for i := range mds {
		if mds[i] != nil {
			have[i] = mds[i].Labels
		}
	}
	switch {
	case have[0] != nil && have[1] != nil:
		if len(have[0]) != len(have[1]) {
			return mds, nil, from, fmt.Errorf("verify: the %s model has %d labels and the %s model %d: they must classify into the same labels",
				models[0].Name, len(have[0]), models[1].Name, len(have[1]))
		}
		for i := range have[0] {
			if have[0][i] != have[1][i] {
				return mds, nil, from, fmt.Errorf("verify: the models' labels differ: label %d is %q in the %s model and %q in the %s model (pass --labels to use one list for both)",
					i, have[0][i], models[0].Name, have[1][i], models[1].Name)
			}
		}
		return mds, have[0], [2]string{"metadata", "metadata"}, nil
	case have[0] != nil:
		return mds, have[0], [2]string{"metadata", "the other model's metadata"}, nil
	case have[1] != nil:
		return mds, have[1], [2]string{"the other model's metadata", "metadata"}, nil
	}
	return mds, nil, [2]string{"none", "none"}, nil
}

// score computes both models' accuracy over the images whose class has a
// label.
func score(classes []string, classLabel, truth []int, pred [2][]int) *Accuracy {
	acc := &Accuracy{}
	for c, l := range classLabel {
		if l < 0 {
			acc.Unmatched = append(acc.Unmatched, classes[c])
		}
	}
	other := needsOther(classLabel, truth, pred[0], pred[1])
	for m := range pred {
		acc.Confusion[m] = confusion(classes, classLabel, truth, pred[m], other)
	}
	acc.Scored = acc.Confusion[0].Total()
	for m, cm := range acc.Confusion {
		acc.Correct[m] = cm.Diagonal()
		acc.Top1[m] = ratio(acc.Correct[m], acc.Scored)
	}
	for r, name := range acc.Confusion[0].Rows {
		cr := ClassResult{Class: name, Images: acc.Confusion[0].RowTotal(r)}
		for m, cm := range acc.Confusion {
			cr.Correct[m] = cm.Counts[r][r]
			cr.Accuracy[m] = ratio(cr.Correct[m], cr.Images)
		}
		acc.PerClass = append(acc.PerClass, cr)
	}
	return acc
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
