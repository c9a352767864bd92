package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/internal/cli"
	"github.com/fruitcam/fruitcam/internal/lime"
)

// limeReport is what --json prints: the explanation with the model and
// image it is of. It holds nothing that changes from run to run, so the
// same seed prints the same bytes.
type limeReport struct {
	Model  string `json:"model"`
	SHA256 string `json:"sha256"`
	Image  string `json:"image"`
	*lime.Explanation
}

// cmdLime explains one classification with LIME: which superpixels of
// the image raise (or lower) the class's score. It writes the image with
// the top superpixels outlined, and with --json prints the weights.
func cmdLime(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lime", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: convert lime --model M IMAGE [--label L | --top K] [--samples 1000] [--features 5] [--seed S] -o lime.png [--json]")
		fmt.Fprintln(stderr, "The PNG shows the first class explained (--label, else the best); --json prints every explained class's superpixel weights.")
		fs.PrintDefaults()
	}
	model := fs.String("model", "", "model `file` (.tflite)")
	out := fs.String("o", "", "write the overlay PNG to this `file`")
	label := fs.String("label", "", "explain this class (`label` or index) instead of the best ones")
	top := fs.Int("top", 1, "explain the `K` best classes")
	samples := fs.Int("samples", 1000, "perturbed images classified (lime's num_samples)")
	features := fs.Int("features", 5, "superpixels shown (lime's num_features of get_image_and_mask)")
	modelFeatures := fs.Int("model-features", 0, "superpixels in the linear model (lime's num_features of explain_instance; 0: all)")
	selection := fs.String("selection", lime.SelectAuto, "feature selection for --model-features: auto, forward_selection, highest_weights or none")
	seed := fs.Uint64("seed", 0, "random seed of the masks: the same seed gives the same output")
	segments := fs.Int("segments", 0, "SLIC superpixels wanted (0: 50, at most one per 16 model pixels)")
	compactness := fs.Float64("compactness", 0, "SLIC compactness (0: 10; higher: squarer superpixels)")
	hide := fs.String("hide", lime.HideMean, "what replaces a hidden superpixel: mean (its mean colour, lime's default), black or gray")
	kernelWidth := fs.Float64("kernel-width", 0.25, "width of the exponential kernel on the cosine distance")
	positiveOnly := fs.Bool("positive-only", true, "show only superpixels that raise the score (false: the largest |weight| of either sign, tinted green and red)")
	negativeOnly := fs.Bool("negative-only", false, "show only superpixels that lower the score")
	minWeight := fs.Float64("min-weight", 0, "show only superpixels whose |weight| is above this")
	hideRest := fs.Bool("hide-rest", false, "dim everything but the superpixels shown")
	maxSide := fs.Int("max-side", 0, "scale the overlay down to at most this many pixels on its longer side (0: the image's size)")
	minSide := fs.Int("min-side", 0, "scale the overlay up to at least this many pixels on its longer side (0: the image's size)")
	asJSON := fs.Bool("json", false, "print the explanation (weights per superpixel) as JSON on stdout")
	threads := fs.Int("threads", 0, "workers, one engine of one thread each (0: one per core)")
	labelsPath := fs.String("labels", "", "labels `file`, one per line (default: the model's metadata)")
	normalize := fs.String("normalize", "", "input normalisation: unit, symmetric, caffe or none (default: metadata, else guessed)")
	resize := fs.String("resize", "", "resize method: nearest, bilinear or area (default: metadata, else nearest)")
	fit := fs.String("fit", "", "aspect ratio: squash or crop (default: metadata, else squash)")
	colorOrder := fs.String("color", "", "channel order: rgb or bgr (default: metadata, else rgb)")
	softmax := fs.Bool("softmax", false, "turn the model's scores into probabilities (for models that output logits)")
	pos, err := cli.ParseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 1:
		return cli.Usagef("give one image (got %d arguments)", len(pos))
	case *model == "" || *out == "":
		return cli.Usagef("--model and -o are required")
	case *label != "" && cli.IsSet(fs, "top"):
		return cli.Usagef("give --label or --top, not both")
	case *top < 1:
		return cli.Usagef("--top must be at least 1")
	case *samples < 2:
		return cli.Usagef("--samples must be at least 2 (the image and one perturbation)")
	case *features < 1, *modelFeatures < 0, *segments < 0, *compactness < 0, *kernelWidth <= 0, *threads < 0, *maxSide < 0, *minSide < 0:
		return cli.Usagef("--features must be at least 1, --kernel-width above 0, and --model-features, --segments, --compactness, --threads, --max-side, --min-side not negative")
	case *negativeOnly && cli.IsSet(fs, "positive-only") && *positiveOnly:
		return cli.Usagef("--positive-only and --negative-only cannot both be true")
	}
	if err := cli.CheckPreprocess(*normalize, *resize, *fit, *colorOrder); err != nil {
		return err
	}
	o := lime.Options{
		Samples: *samples, Seed: *seed, Hide: *hide, KernelWidth: *kernelWidth, Features: *modelFeatures,
		Selection: *selection, Top: *top, SLIC: lime.SLICOptions{Segments: *segments, Compactness: *compactness},
	}
	// Option names are checked before the model loads: a typo is a usage
	// error.
	if err := o.Validate(); err != nil {
		return cli.Usagef("%v", err)
	}
	sign := lime.Positive
	switch {
	case *negativeOnly:
		sign = lime.Negative
	case !*positiveOnly:
		sign = lime.Both
	}

	f, err := infer.ReadFile(*model)
	if err != nil {
		return err
	}
	copts := infer.ClassifierOptions{Normalize: *normalize, Resize: *resize, Fit: *fit, ColorOrder: *colorOrder, Softmax: *softmax}
	if *labelsPath != "" {
		if copts.Labels, err = infer.ReadLabels(*labelsPath); err != nil {
			return err
		}
	}
	img, err := preprocess.DecodeFile(pos[0])
	if err != nil {
		return err
	}
	workers := *threads
	if workers == 0 {
		workers = runtime.NumCPU()
	}
	cls, closeAll, err := lime.NativeClassifiers(f, workers, copts)
	if err != nil {
		return err
	}
	defer closeAll()
	if *label != "" {
		idx, err := classIndex(cls[0].Labels(), *label)
		if err != nil {
			return err
		}
		o.Labels = []int{idx}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e, err := lime.Explain(ctx, cls, img, o)
	if err != nil {
		return err
	}
	ov, err := e.Overlay(img, 0, lime.RenderOptions{
		MaskOptions: lime.MaskOptions{Features: *features, MinWeight: *minWeight, Sign: sign},
		HideRest:    *hideRest,
		MaxSide:     *maxSide,
		MinSide:     *minSide,
	})
	if err != nil {
		return err
	}
	if err := writeLimePNG(*out, ov); err != nil {
		return err
	}
	c := e.Classes[0]
	fmt.Fprintf(stderr, "convert lime: %s %q score %.4f: %d superpixels, %d samples on %d workers in %.2f s, R² %.3f; wrote %s\n",
		filepath.Base(pos[0]), c.Label, c.Score, e.NumSegments, e.Samples, len(cls), e.Elapsed.Seconds(), c.R2, *out)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(limeReport{Model: filepath.Base(*model), SHA256: f.SHA256, Image: filepath.Base(pos[0]), Explanation: e})
	}
	return nil
}

// classIndex finds a class by label, else by index.
func classIndex(labels []string, s string) (int, error) {
	for i, l := range labels {
		if l == s {
			return i, nil
		}
	}
	if i, err := strconv.Atoi(s); err == nil && i >= 0 && i < len(labels) {
		return i, nil
	}
	return 0, cli.Usagef("--label %q is neither one of the model's %d labels nor an index below %d", s, len(labels), len(labels))
}

// writeLimePNG writes img to path, removing a partial file on failure.
func writeLimePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("lime: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("lime: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("lime: write %s: %w", path, err)
	}
	return nil
}
