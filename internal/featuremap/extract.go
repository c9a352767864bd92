package featuremap

import (
	"fmt"
	"image"
	"slices"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/infer/tfl"
)

// Options configures an Extractor.
type Options struct {
	// Layers are tensor names or indices (see Select); All takes every
	// tensor an operator computes instead.
	Layers []string
	All    bool
	// Threads for the native engine; 0 means 1.
	Threads int
	// Normalize, ColorOrder, Resize and Fit override the preprocessing
	// the model's metadata asks for, as infer.ClassifierOptions do.
	Normalize, ColorOrder, Resize, Fit string
}

// Extractor runs one model on images and reads the chosen tensors. It is
// not safe for concurrent use.
type Extractor struct {
	it      *native.Interpreter
	sg      *tfl.Subgraph
	pre     *preprocess.Preprocessor
	tensors []int
	maps    []Map
}

// New prepares f's model for feature maps: it resolves the layers, builds
// a native interpreter that pins them, and the preprocessing of its
// single image input.
func New(f *infer.File, opts Options) (*Extractor, error) {
	m := f.Model
	tensors, err := Select(m, opts.Layers, opts.All)
	if err != nil {
		return nil, err
	}
	// The input is pinned too: Input promises the bytes Run fed, and
	// an unpinned input's memory is reused once its last reader has run.
	pins := slices.Clone(tensors)
	for _, i := range m.Subgraphs[0].Inputs {
		if !slices.Contains(pins, i) {
			pins = append(pins, i)
		}
	}
	it, err := native.New(m, native.Options{Threads: opts.Threads, PinTensors: pins})
	if err != nil {
		return nil, fmt.Errorf("featuremap: %w", err)
	}
	if len(it.Inputs()) != 1 {
		return nil, fmt.Errorf("featuremap: the model has %d inputs, want one image input", len(it.Inputs()))
	}
	md, err := f.Metadata()
	if err != nil {
		return nil, fmt.Errorf("featuremap: %w", err)
	}
	pre, err := preprocessor(it.Inputs()[0], md, opts)
	if err != nil {
		return nil, err
	}
	e := &Extractor{it: it, sg: &m.Subgraphs[0], pre: pre, tensors: tensors}
	for _, i := range tensors {
		mp, err := newMap(e.sg, i, it.Tensors()[i].Shape)
		if err != nil {
			return nil, err
		}
		e.maps = append(e.maps, mp)
	}
	return e, nil
}

// preprocessor prepares images as the agent's classifier does
// (infer.Preprocessing), so that feature maps show what it sees.
func preprocessor(in *native.Tensor, md *infer.Metadata, opts Options) (*preprocess.Preprocessor, error) {
	tensor := preprocess.Tensor{Type: in.Type, Scale: in.Scale(), ZeroPoint: in.ZeroPoint()}
	pre, _, err := infer.Preprocessing(in.Shape, tensor, md, infer.ClassifierOptions{
		Normalize: opts.Normalize, ColorOrder: opts.ColorOrder, Resize: opts.Resize, Fit: opts.Fit,
	})
	if err != nil {
		return nil, fmt.Errorf("featuremap: input %q: %w", in.Name, err)
	}
	return pre, nil
}

// Tensors returns the chosen tensor indices, in the order of the maps.
func (e *Extractor) Tensors() []int { return e.tensors }

// Spec returns the preprocessing in use, defaults filled in.
func (e *Extractor) Spec() preprocess.Spec { return e.pre.Spec() }

// Input returns the raw bytes of the model's input tensor: what Run fed
// the engine (batch item 0 holds the image).
func (e *Extractor) Input() []byte { return e.it.Inputs()[0].Data }

// Cut returns the model cut so that the chosen tensors are its outputs,
// in the order of the maps (tfl.Model.WithOutputs), serialised by
// tfl.Write: the same computation for another runtime to check, or to run
// where only outputs can be read.
func (e *Extractor) Cut() ([]byte, error) {
	m, err := e.it.Model().WithOutputs(e.tensors...)
	if err != nil {
		return nil, fmt.Errorf("featuremap: %w", err)
	}
	data, err := tfl.Write(m)
	if err != nil {
		return nil, fmt.Errorf("featuremap: write the cut model: %w", err)
	}
	return data, nil
}

// Run preprocesses img into input slot 0, runs the model and returns the
// maps of the chosen tensors. The maps are reused by the next Run.
func (e *Extractor) Run(img image.Image) ([]Map, error) {
	if err := e.pre.Into(e.Input(), 0, img); err != nil {
		return nil, fmt.Errorf("featuremap: %w", err)
	}
	return e.RunInput()
}

// RunInput runs the model on the input tensor's current bytes (see Input)
// and returns the maps of the chosen tensors.
func (e *Extractor) RunInput() ([]Map, error) {
	if err := e.it.Invoke(); err != nil {
		return nil, fmt.Errorf("featuremap: %w", err)
	}
	for k, i := range e.tensors {
		t, ok := e.it.Kept(i)
		if !ok {
			return nil, fmt.Errorf("featuremap: tensor %d (%q) was not kept by the engine", i, e.sg.Tensors[i].Name)
		}
		if err := e.maps[k].Dequantize(t.Data, t.Quant); err != nil {
			return nil, err
		}
	}
	return e.maps, nil
}
