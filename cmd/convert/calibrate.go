package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"github.com/fruitcam/fruitcam/internal/cli"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/dataset"
	"github.com/fruitcam/fruitcam/quant/ptq"
)

// calibrationFlags say whether and how a float model is quantised.
type calibrationFlags struct {
	quantize   string
	dir        string
	raw        string
	max        int
	method     string
	percentile float64
	io         string
	threads    int
}

func (c *calibrationFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.quantize, "quantize", "", "quantise: int8 (full-integer: int8 weights and activations)")
	fs.StringVar(&c.dir, "calibrate", "", "calibration images `DIR` (class folders or loose images), read with the model's preprocessing")
	fs.StringVar(&c.raw, "calibrate-raw", "", "calibration samples as raw little-endian float32 input tensors: a `file` or a folder of .bin files (for models whose input is not an image)")
	fs.IntVar(&c.max, "calibrate-max", 200, "use at most `N` calibration images, spread over the classes (0: all)")
	fs.StringVar(&c.method, "calibrate-method", string(ptq.MinMax), "activation ranges: minmax or percentile")
	fs.Float64Var(&c.percentile, "percentile", 99.99, "with --calibrate-method percentile, the percentile kept of each tail")
	fs.StringVar(&c.io, "io", "int8", "type of the quantised model's input and output: int8 or uint8")
	fs.IntVar(&c.threads, "threads", runtime.NumCPU(), "threads for calibration")
}

func (c *calibrationFlags) check() error {
	switch c.quantize {
	case "":
		if c.dir != "" || c.raw != "" {
			return cli.Usagef("--calibrate needs --quantize int8")
		}
		return nil
	case "int8":
	default:
		return cli.Usagef("--quantize %q: only int8 is supported", c.quantize)
	}
	switch {
	case c.dir == "" && c.raw == "":
		return cli.Usagef("--quantize int8 needs --calibrate DIR (images the model will see) or --calibrate-raw")
	case c.dir != "" && c.raw != "":
		return cli.Usagef("give --calibrate or --calibrate-raw, not both")
	case c.max < 0:
		return cli.Usagef("--calibrate-max must not be negative")
	case c.method != string(ptq.MinMax) && c.method != string(ptq.Percentile):
		return cli.Usagef("--calibrate-method %q: want minmax or percentile", c.method)
	case c.percentile <= 50 || c.percentile > 100:
		return cli.Usagef("--percentile %g: want a value in (50, 100]", c.percentile)
	case c.io != "int8" && c.io != "uint8":
		return cli.Usagef("--io %q: want int8 or uint8", c.io)
	case c.threads < 1:
		return cli.Usagef("--threads must be at least 1")
	}
	return nil
}

// calibrationReport is what the calibration did, for the summary.
type calibrationReport struct {
	samples, skipped int
	method           string
	took             time.Duration
}

// inputRange is the real range of the model input that a pixel
// normalisation produces; with it the int8 input maps every 8-bit pixel
// exactly. Caffe's per-channel means have no exact common grid: it is
// calibrated like any tensor.
func inputRange(n preprocess.Normalize) *[2]float64 {
	switch n {
	case preprocess.Unit:
		return &[2]float64{0, 1}
	case preprocess.Symmetric:
		return &[2]float64{-1, 1}
	case preprocess.None:
		return &[2]float64{0, 255}
	}
	return nil
}

// quantizeModel calibrates the float model m and returns the int8 model.
func (c *calibrationFlags) quantizeModel(ctx context.Context, m *tfl.Model, md *infer.Metadata, quiet bool, stderr io.Writer) (*tfl.Model, *calibrationReport, error) {
	start := time.Now()
	opts := ptq.Options{
		IO:         tfl.Int8,
		Method:     ptq.Method(c.method),
		Percentile: c.percentile,
		Threads:    c.threads,
	}
	if c.io == "uint8" {
		opts.IO = tfl.Uint8
	}
	if c.dir != "" {
		opts.InputRange = inputRange(preprocess.Normalize(md.Normalize))
	}
	cal, err := ptq.NewCalibrator(m, opts)
	if err != nil {
		return nil, nil, err
	}
	rep := &calibrationReport{method: c.method}
	bar := newProgress(stderr, "calibrating", quiet)
	if c.dir != "" {
		rep.skipped, err = c.addImages(ctx, cal, m, md, bar)
	} else {
		err = c.addRaw(ctx, cal, m, bar)
	}
	bar.done()
	if err != nil {
		return nil, nil, err
	}
	q, err := cal.Quantize()
	if err != nil {
		return nil, nil, err
	}
	rep.samples = cal.Samples()
	rep.took = time.Since(start)
	return q, rep, nil
}

// folderClasses returns the class folder names of dir, sorted, or nil when
// it holds loose images.
func folderClasses(dir string) ([]string, error) {
	set, err := dataset.Scan(dir)
	if err != nil {
		return nil, err
	}
	return set.Classes, nil
}

// addImages feeds the calibration images through the model's own
// preprocessing. Images are decoded on all cores in chunks and added in
// folder order, so the same folder always gives the same model. An
// unreadable image is skipped and counted; all of them unreadable is an
// error.
func (c *calibrationFlags) addImages(ctx context.Context, cal *ptq.Calibrator, m *tfl.Model, md *infer.Metadata, bar *progress) (int, error) {
	set, err := dataset.Scan(c.dir)
	if err != nil {
		return 0, err
	}
	set = set.Sample(c.max)
	sg := &m.Subgraphs[0]
	spec, err := preprocess.ShapeSpec(sg.Tensors[sg.Inputs[0]].Shape)
	if err != nil {
		return 0, fmt.Errorf("--calibrate needs an image input: %w; use --calibrate-raw", err)
	}
	spec.Normalize = preprocess.Normalize(md.Normalize)
	spec.Resize = preprocess.Resize(md.Resize)
	workers := max(1, min(c.threads, len(set.Items)))
	procs := make([]*preprocess.Preprocessor, workers)
	for i := range procs {
		if procs[i], err = preprocess.New(spec, preprocess.Tensor{Type: tfl.Float32}); err != nil {
			return 0, err
		}
	}
	slot := procs[0].SlotBytes()
	chunk := 4 * workers
	bufs := make([][]byte, chunk)
	errs := make([]error, chunk)
	for i := range bufs {
		bufs[i] = make([]byte, slot)
	}
	skipped, firstErr := 0, error(nil)
	bar.start(len(set.Items))
	for lo := 0; lo < len(set.Items); lo += chunk {
		if err := ctx.Err(); err != nil {
			return skipped, err
		}
		hi := min(lo+chunk, len(set.Items))
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := lo + w; i < hi; i += workers {
					img, err := preprocess.DecodeFile(set.Items[i].Path)
					if err == nil {
						err = procs[w].Into(bufs[i-lo], 0, img)
					}
					errs[i-lo] = err
				}
			})
		}
		wg.Wait()
		for i := lo; i < hi; i++ {
			if err := errs[i-lo]; err != nil {
				skipped++
				if firstErr == nil {
					firstErr = err
				}
				bar.step()
				continue
			}
			if err := cal.Add(bufs[i-lo]); err != nil {
				return skipped, err
			}
			bar.step()
		}
	}
	if cal.Samples() == 0 {
		return skipped, fmt.Errorf("no calibration image of %s could be read: %w", c.dir, firstErr)
	}
	if skipped > 0 {
		bar.note(fmt.Sprintf("skipped %d unreadable images, the first: %v", skipped, firstErr))
	}
	return skipped, nil
}

// addRaw feeds raw float32 samples: each file holds one or more whole
// input tensors back to back.
func (c *calibrationFlags) addRaw(ctx context.Context, cal *ptq.Calibrator, m *tfl.Model, bar *progress) error {
	files := []string{c.raw}
	if st, err := os.Stat(c.raw); err != nil {
		return err
	} else if st.IsDir() {
		entries, err := os.ReadDir(c.raw)
		if err != nil {
			return err
		}
		files = files[:0]
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".bin") {
				files = append(files, filepath.Join(c.raw, e.Name()))
			}
		}
		slices.Sort(files)
		if len(files) == 0 {
			return fmt.Errorf("--calibrate-raw %s holds no .bin files", c.raw)
		}
	}
	sg := &m.Subgraphs[0]
	size := tfl.NumElements(sg.Tensors[sg.Inputs[0]].Shape) * 4
	bar.start(len(files))
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if len(data) == 0 || len(data)%size != 0 {
			return fmt.Errorf("%s has %d bytes, not a whole number of float32 inputs of %d bytes", f, len(data), size)
		}
		for off := 0; off < len(data); off += size {
			if err := checkFinite(data[off : off+size]); err != nil {
				return fmt.Errorf("%s, sample %d: %w", f, off/size, err)
			}
			if c.max > 0 && cal.Samples() >= c.max {
				break
			}
			if err := cal.Add(data[off : off+size]); err != nil {
				return err
			}
		}
		bar.step()
	}
	return nil
}

// checkFinite refuses NaN and infinite samples, which would poison every
// range they touch.
func checkFinite(b []byte) error {
	for i := 0; i+4 <= len(b); i += 4 {
		v := math.Float32frombits(binary.LittleEndian.Uint32(b[i:]))
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("value %d is %v", i/4, v)
		}
	}
	return nil
}
