package ptq

import (
	"fmt"
	"slices"
	"sync"

	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// Calibrator records the range of every activation of a float32 model
// over a set of representative inputs, then writes the int8 model.
// It is not safe for concurrent use.
type Calibrator struct {
	model *tfl.Model
	opts  Options
	rules []*opRule // per operator of subgraph 0

	it    *native.Interpreter
	input *native.Tensor
	// stats[i] records tensor i; nil for constants and tensors that
	// carry no real values.
	stats []*tensorStats
	// recorded lists the tensors with stats, split into one share per
	// recording goroutine (about equal element counts).
	shares  [][]*tensorStats
	samples int
}

// tensorStats is what calibration learnt about one tensor.
type tensorStats struct {
	t         *native.Tensor
	lo, hi    float32 // finite extremes; valid when seen
	seen      bool
	nonFinite uint64
	hist      *quant.Histogram // Percentile only
}

// NewCalibrator checks that m can be quantised (a float32 model with one
// input whose operators all have int8 rules) and prepares the float
// interpreter that calibration runs. m is read, never modified.
func NewCalibrator(m *tfl.Model, opts Options) (*Calibrator, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("ptq: nil model")
	}
	if len(m.Subgraphs) != 1 {
		return nil, &UnsupportedError{Index: -1, Reason: fmt.Sprintf("model has %d subgraphs; only single-graph models (no control flow) are quantised", len(m.Subgraphs))}
	}
	sg := &m.Subgraphs[0]
	if err := checkFloat(m); err != nil {
		return nil, err
	}
	if len(sg.Inputs) != 1 {
		return nil, &UnsupportedError{Index: -1, Reason: fmt.Sprintf("model has %d inputs; the calibrator feeds exactly one", len(sg.Inputs))}
	}
	in := &sg.Tensors[sg.Inputs[0]]
	if in.Type != tfl.Float32 {
		return nil, &UnsupportedError{Index: -1, Reason: fmt.Sprintf("input %q is %s, want float32", in.Name, in.Type)}
	}
	rules, err := checkOps(m)
	if err != nil {
		return nil, err
	}
	it, err := native.New(m, native.Options{Threads: opts.Threads, KeepTensors: true})
	if err != nil {
		return nil, fmt.Errorf("ptq: the float model does not run in the native engine: %w", err)
	}
	input := it.Inputs()[0]
	if len(input.Shape) > 0 && input.Shape[0] != 1 {
		// Calibration feeds one sample at a time.
		shape := append([]int{1}, input.Shape[1:]...)
		if err := it.ResizeInput(0, shape); err != nil {
			return nil, fmt.Errorf("ptq: cannot run the model with batch 1: %w", err)
		}
	}
	c := &Calibrator{model: m, opts: opts, rules: rules, it: it, input: input}
	c.stats = make([]*tensorStats, len(sg.Tensors))
	var all []*tensorStats
	for _, t := range it.Tensors() {
		if t.Const || t.Type != tfl.Float32 {
			continue
		}
		s := &tensorStats{t: t}
		if opts.Method == Percentile {
			if s.hist, err = quant.NewHistogram(histogramBins); err != nil {
				return nil, err
			}
		}
		c.stats[t.Index] = s
		all = append(all, s)
	}
	c.shares = split(all, opts.Threads)
	return c, nil
}

// checkFloat refuses models that are already quantised: int8 and uint8
// tensors, quantisation parameters, QUANTIZE and DEQUANTIZE operators
// (which is also how float16 models keep their weights).
func checkFloat(m *tfl.Model) error {
	sg := &m.Subgraphs[0]
	for i := range sg.Tensors {
		t := &sg.Tensors[i]
		switch {
		case t.Type == tfl.Int8 || t.Type == tfl.Uint8 || t.Type == tfl.Int16:
			return fmt.Errorf("%w (tensor %q is %s)", ErrAlreadyQuantized, t.Name, t.Type)
		case t.Quant != nil && len(t.Quant.Scale) > 0:
			return fmt.Errorf("%w (tensor %q has quantisation parameters)", ErrAlreadyQuantized, t.Name)
		}
	}
	for i, op := range sg.Operators {
		switch code := m.OperatorCodes[op.OpcodeIndex]; code.Builtin {
		case tfl.OpQuantize, tfl.OpDequantize:
			return fmt.Errorf("%w (operator %d is %s; float16 models also dequantise their weights this way)",
				ErrAlreadyQuantized, i, code.Name())
		}
	}
	return nil
}

// split deals tensors into n shares of similar total size, largest first.
func split(all []*tensorStats, n int) [][]*tensorStats {
	n = max(1, min(n, len(all)))
	shares := make([][]*tensorStats, n)
	load := make([]int, n)
	sorted := slices.Clone(all)
	slices.SortStableFunc(sorted, func(a, b *tensorStats) int { return b.t.NumElements() - a.t.NumElements() })
	for _, s := range sorted {
		k := 0
		for j := range load {
			if load[j] < load[k] {
				k = j
			}
		}
		shares[k] = append(shares[k], s)
		load[k] += s.t.NumElements()
	}
	return shares
}

// Add runs the float model on one sample and records every activation's
// range. input is the raw float32 bytes (little-endian, as in the tensor)
// of input 0 for a batch of one, already preprocessed exactly as at
// inference time.
func (c *Calibrator) Add(input []byte) error {
	if len(input) != len(c.input.Data) {
		return fmt.Errorf("ptq: sample is %d bytes, want %d (one float32 %v input %q)",
			len(input), len(c.input.Data), c.input.Shape, c.input.Name)
	}
	copy(c.input.Data, input)
	if err := c.it.Invoke(); err != nil {
		return fmt.Errorf("ptq: running the float model: %w", err)
	}
	if len(c.shares) == 1 {
		record(c.shares[0])
	} else {
		var wg sync.WaitGroup
		for _, share := range c.shares {
			wg.Go(func() { record(share) })
		}
		wg.Wait()
	}
	c.samples++
	return nil
}

func record(share []*tensorStats) {
	for _, s := range share {
		v := s.t.Float32s()
		lo, hi, ok := quant.MinMax(v)
		if !ok {
			s.nonFinite += uint64(len(v))
			continue
		}
		if !s.seen {
			s.lo, s.hi, s.seen = lo, hi, true
		} else {
			s.lo, s.hi = min(s.lo, lo), max(s.hi, hi)
		}
		if s.hist != nil {
			s.hist.Add(v)
		}
	}
}

// Samples is the number of samples added so far.
func (c *Calibrator) Samples() int { return c.samples }

// rangeOf is the calibrated real range of tensor i.
func (c *Calibrator) rangeOf(i int) (lo, hi float32, err error) {
	s := c.stats[i]
	if s == nil || !s.seen {
		return 0, 0, fmt.Errorf("ptq: tensor %d (%q) showed no finite value in %d samples: the float model produces NaN or Inf on the calibration data",
			i, c.model.Subgraphs[0].Tensors[i].Name, c.samples)
	}
	if s.hist == nil {
		return s.lo, s.hi, nil
	}
	return s.hist.PercentileRange(c.opts.Percentile)
}
