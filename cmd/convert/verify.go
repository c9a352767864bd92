package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/fruitcam/fruitcam/internal/cli"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/internal/dataset"
	"github.com/fruitcam/fruitcam/internal/verify"
)

// cmdVerify classifies a folder of images with two models (float and
// quantised, or ours and TensorFlow's) and reports their accuracy,
// agreement and confusion matrices: the check that quantisation kept the
// model's behaviour. Unreadable images are skipped and listed, not fatal.
func cmdVerify(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: convert verify --float F.tflite --quant Q.tflite --images DIR [flags]")
		fmt.Fprintln(stderr, "DIR holds one folder per class, named after the models' labels (else only agreement is reported).")
		fs.PrintDefaults()
	}
	floatPath := fs.String("float", "", "first model `file` (.tflite), usually the float one")
	quantPath := fs.String("quant", "", "second model `file` (.tflite), usually the quantised one")
	images := fs.String("images", "", "image `folder`: one subfolder per class, or images directly for agreement only")
	maxImages := fs.Int("max", 0, "classify at most `N` images, spread over the classes (0: all)")
	chart := fs.String("chart", "", "write the confusion matrices as a PNG heat map to this `file`")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	labelsPath := fs.String("labels", "", "labels `file`, one per line, for both models (default: their metadata)")
	normalize := fs.String("normalize", "", "input normalisation for both models: unit (x/255), symmetric (x/127.5-1), caffe or none (default: metadata, else guessed from the input)")
	resize := fs.String("resize", "", "resize method: nearest, bilinear or area (default: metadata, else nearest)")
	fit := fs.String("fit", "", "aspect ratio: squash (stretch) or crop (centre) (default: metadata, else squash)")
	colorOrder := fs.String("color", "", "channel order: rgb or bgr (default: metadata, else rgb)")
	threads := fs.Int("threads", 0, "workers, each running both models on its share of the images (0: all cores)")
	batch := fs.Int("batch", 16, "images per invocation")
	quiet := fs.Bool("quiet", false, "no progress output")
	pos, err := cli.ParseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return cli.Usagef("unexpected argument %q (the images folder goes in --images)", pos[0])
	case *floatPath == "" || *quantPath == "" || *images == "":
		return cli.Usagef("--float, --quant and --images are required")
	case *maxImages < 0:
		return cli.Usagef("--max must not be negative")
	case *threads < 0:
		return cli.Usagef("--threads must not be negative")
	case *batch < 1:
		return cli.Usagef("--batch must be at least 1")
	}
	// A typo in a preprocessing name is a usage error, not a model failure.
	if err := cli.CheckPreprocess(*normalize, *resize, *fit, *colorOrder); err != nil {
		return err
	}
	opts := verify.Options{Normalize: *normalize, Resize: *resize, Fit: *fit, ColorOrder: *colorOrder, Threads: *threads, Batch: *batch}
	if *labelsPath != "" {
		if opts.Labels, err = infer.ReadLabels(*labelsPath); err != nil {
			return err
		}
	}
	var models [2]verify.Model
	for i, m := range []struct{ name, path string }{{"float", *floatPath}, {"quant", *quantPath}} {
		f, err := infer.ReadFile(m.path)
		if err != nil {
			return err
		}
		models[i] = verify.Model{Name: m.name, File: f}
	}
	set, err := dataset.Scan(*images)
	if err != nil {
		return err
	}
	set = set.Sample(*maxImages)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bar := newProgress(stderr, "classifying", *quiet || *asJSON)
	bar.start(len(set.Items))
	opts.Progress = func(int) { bar.step() }
	r, err := verify.Run(ctx, models, set, opts)
	bar.done()
	if err != nil {
		return err
	}
	if *chart != "" {
		if err := writeChartFile(*chart, r); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	if err := verify.WriteText(stdout, r); err != nil {
		return err
	}
	if n := len(r.Unreadable); n > 0 {
		fmt.Fprintf(stderr, "convert verify: %d of %d images could not be read and were skipped (listed above)\n", n, r.Images)
	}
	return nil
}

func writeChartFile(path string, r *verify.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("verify: chart: %w", err)
	}
	if err := verify.WriteChart(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("verify: chart: %w", err)
	}
	return nil
}
