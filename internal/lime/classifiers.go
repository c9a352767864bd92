package lime

import (
	"errors"
	"runtime"

	"github.com/fruitcam/fruitcam/infer"
)

// Classifiers builds n classifiers of one model for Explain (n ≤ 0: one
// per core), each on its own engine from newEngine (for the native
// backend: one thread each, so that n of them fill n cores). close closes
// the engines. opts.MaxBatch 0 becomes 32, Explain's batch.
func Classifiers(n int, newEngine func() (infer.Engine, error), md *infer.Metadata, opts infer.ClassifierOptions) (cls []*infer.Classifier, close func() error, err error) {
	if n <= 0 {
		n = runtime.NumCPU()
	}
	if opts.MaxBatch == 0 {
		opts.MaxBatch = 32
	}
	var engines []infer.Engine
	close = func() error {
		var errs []error
		for _, e := range engines {
			errs = append(errs, e.Close())
		}
		return errors.Join(errs...)
	}
	for range n {
		e, err := newEngine()
		if err != nil {
			close()
			return nil, nil, err
		}
		engines = append(engines, e)
		c, err := infer.NewClassifier(e, md, opts)
		if err != nil {
			close()
			return nil, nil, err
		}
		cls = append(cls, c)
	}
	return cls, close, nil
}

// NativeClassifiers is Classifiers on the native backend with one thread
// per engine, for a model file and its own metadata.
func NativeClassifiers(f *infer.File, n int, opts infer.ClassifierOptions) ([]*infer.Classifier, func() error, error) {
	md, err := f.Metadata()
	if err != nil {
		return nil, nil, err
	}
	if opts.Graph == nil {
		opts.Graph = f.Model
	}
	return Classifiers(n, func() (infer.Engine, error) {
		return infer.NewEngine(f, infer.Options{Backend: infer.BackendNative, Threads: 1})
	}, md, opts)
}
