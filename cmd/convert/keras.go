package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/fruitcam/fruitcam/internal/cli"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/keras"
	"github.com/fruitcam/fruitcam/internal/lower"
)

// converterName goes into every model's metadata, so a model in the field
// says which converter made it.
const converterName = "fruitcam-convert 0.3"

// modelFlags are the flags shared by `convert keras` and `convert quantize`.
type modelFlags struct {
	fs        *flag.FlagSet
	output    *string
	labels    *string
	name      *string
	version   *string
	normalize *string
	resize    *string
	quiet     *bool
	cal       calibrationFlags
}

func newModelFlags(name string, stderr io.Writer) *modelFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &modelFlags{fs: fs}
	f.output = fs.String("o", "", "output `file` (.tflite)")
	f.labels = fs.String("labels", "", "labels `file`, one per line in class order (default: the class folders of --calibrate, sorted, as Keras' flow_from_directory)")
	f.name = fs.String("name", "", "model name for the metadata (default: the input file's base name)")
	f.version = fs.String("version", "", "model version for the metadata")
	f.normalize = fs.String("normalize", "unit", "pixel normalisation the model was trained with: unit (x/255), symmetric (x/127.5-1), caffe or none")
	f.resize = fs.String("resize", "nearest", "resize method the model was trained with: nearest (Keras load_img), bilinear or area")
	f.quiet = fs.Bool("quiet", false, "no progress output")
	f.cal.register(fs)
	return f
}

// cmdKeras converts a Keras model file.
func cmdKeras(args []string, stdout, stderr io.Writer) error {
	f := newModelFlags("keras", stderr)
	floatOut := f.fs.String("float-out", "", "with --quantize, also write the float model to this `file`")
	edgetpu := f.fs.Bool("edgetpu", false, "lower for the Edge TPU: LeakyReLU becomes PRELU, which the Edge TPU runs (TensorFlow writes LEAKY_RELU, which it does not)")
	verbose := f.fs.Bool("v", false, "list every rewrite (folded batch norms, fused activations, removed dropouts)")
	f.fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: convert keras IN.h5|IN.keras -o OUT.tflite [--quantize int8 --calibrate DIR [--io int8|uint8]] [--labels FILE] [flags]")
		f.fs.PrintDefaults()
	}
	pos, err := cli.ParseFlags(f.fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.Usagef("want one Keras file (.h5 or .keras), got %d arguments", len(pos))
	}
	if err := f.check(); err != nil {
		return err
	}
	if *floatOut != "" && f.cal.quantize == "" {
		return cli.Usagef("--float-out needs --quantize (without it -o is the float model)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()

	in := pos[0]
	km, err := keras.ReadFileIsolated(ctx, in)
	if err != nil {
		return err
	}
	res, err := lower.Lower(km, lower.Options{Description: converterName + ": " + filepath.Base(in), EdgeTPU: *edgetpu})
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if *verbose {
		for _, n := range res.Notes {
			fmt.Fprintln(stderr, "note:", n)
		}
	}
	normalize := *f.normalize
	if res.InputNormalize != "" {
		// The model normalises its own input (a leading Rescaling); that
		// layer was folded away and says what the pixels must be.
		if cli.IsSet(f.fs, "normalize") && normalize != string(res.InputNormalize) {
			return cli.Usagef("the model's leading Rescaling/Normalization layer means --normalize %s, not %s; drop the flag",
				res.InputNormalize, normalize)
		}
		normalize = string(res.InputNormalize)
	}
	md, err := f.metadata(res.Model, in, normalize, nil, stderr)
	if err != nil {
		return err
	}
	out := res.Model
	var report *calibrationReport
	if f.cal.quantize != "" {
		if out, report, err = f.cal.quantizeModel(ctx, res.Model, md, *f.quiet, stderr); err != nil {
			return err
		}
		if *floatOut != "" {
			if err := writeModel(*floatOut, res.Model); err != nil {
				return err
			}
		}
	}
	if err := writeModel(*f.output, out); err != nil {
		return err
	}
	return summarise(stdout, *f.output, out, md, report, time.Since(start))
}

// check validates the shared flags.
func (f *modelFlags) check() error {
	if *f.output == "" {
		return cli.Usagef("-o OUT.tflite is required")
	}
	if _, err := preprocess.ParseNormalize(*f.normalize); err != nil {
		return &cli.UsageError{Msg: err.Error()}
	}
	if r, err := preprocess.ParseResize(*f.resize); err != nil {
		return &cli.UsageError{Msg: err.Error()}
	} else if r == preprocess.Area {
		// Keras' load_img has no area filter; a model is never trained so.
		return cli.Usagef("--resize area is not a Keras training resize; use nearest or bilinear")
	}
	return f.cal.check()
}

// metadata builds the model's metadata from the flags and stores it in m.
// Labels come from --labels, else from the model's own metadata (known),
// else from the calibration folder's classes when their number fits the
// model (the workshop trains with flow_from_directory on such a folder);
// a folder that does not fit is only worth a warning, since calibration
// images need not be the training classes.
func (f *modelFlags) metadata(m *tfl.Model, in, normalize string, known []string, stderr io.Writer) (*infer.Metadata, error) {
	name := *f.name
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(in), filepath.Ext(in))
	}
	md := &infer.Metadata{
		Schema:    infer.MetadataSchema,
		Name:      name,
		Version:   *f.version,
		Normalize: normalize,
		Resize:    *f.resize,
		Converter: converterName,
	}
	sg := &m.Subgraphs[0]
	out := &sg.Tensors[sg.Outputs[0]]
	classes := out.Shape[len(out.Shape)-1]
	switch {
	case *f.labels != "":
		labels, err := infer.ReadLabels(*f.labels)
		if err != nil {
			return nil, err
		}
		if len(labels) != classes {
			return nil, fmt.Errorf("%s has %d labels, but the model has %d classes", *f.labels, len(labels), classes)
		}
		md.Labels = labels
	case known != nil:
		md.Labels = known
	case f.cal.dir != "":
		folders, err := folderClasses(f.cal.dir)
		if err != nil {
			return nil, err
		}
		switch {
		case len(folders) == classes:
			md.Labels = folders
		case folders != nil && !*f.quiet:
			fmt.Fprintf(stderr, "warning: %s has %d class folders but the model has %d classes: no labels stored; give --labels\n",
				f.cal.dir, len(folders), classes)
		}
	}
	if err := infer.SetMetadata(m, md); err != nil {
		return nil, err
	}
	return md, nil
}

// writeModel serialises m, proves the bytes load as a model, and writes
// them atomically, so a failed conversion never leaves a half-written or
// unloadable file where the agent would pick it up.
func writeModel(path string, m *tfl.Model) error {
	data, err := tfl.Write(m)
	if err != nil {
		return err
	}
	if _, err := tfl.Parse(data); err != nil {
		return fmt.Errorf("the written model does not read back (a converter bug): %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// summarise prints one line about the written model, and the calibration.
func summarise(w io.Writer, path string, m *tfl.Model, md *infer.Metadata, rep *calibrationReport, took time.Duration) error {
	sg := &m.Subgraphs[0]
	in, out := &sg.Tensors[sg.Inputs[0]], &sg.Tensors[sg.Outputs[0]]
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s: %s %v -> %s %v, %d ops, %d bytes, %d labels, normalize %s, resize %s (%.2fs)\n",
		path, in.Type, in.Shape, out.Type, out.Shape, len(sg.Operators), st.Size(), len(md.Labels), md.Normalize, md.Resize,
		took.Seconds())
	if rep != nil {
		fmt.Fprintf(w, "calibrated on %d samples (%s ranges) in %.2fs", rep.samples, rep.method, rep.took.Seconds())
		if rep.skipped > 0 {
			fmt.Fprintf(w, "; %d unreadable images skipped", rep.skipped)
		}
		fmt.Fprintln(w)
	}
	return nil
}
