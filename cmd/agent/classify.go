package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"github.com/fruitcam/fruitcam/internal/cli"
	"image"
	"io"
	"path/filepath"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/preprocess"
)

// classifyResult is one line of --json output.
type classifyResult struct {
	Path          string        `json:"path"`
	Label         string        `json:"label"`
	Index         int           `json:"index"`
	Score         float32       `json:"score"`
	Probabilities bool          `json:"probabilities"`
	Top           []infer.Class `json:"top"`
}

// cmdClassify classifies image files one-shot. Images are decoded and run
// in batches of --batch so memory stays bounded however many are given;
// an image that cannot be read is reported and skipped, and makes the
// exit status 1.
func cmdClassify(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("classify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: agent classify --model M [flags] IMAGE...")
		fs.PrintDefaults()
	}
	model := fs.String("model", "", "model `file` (.tflite)")
	labelsPath := fs.String("labels", "", "labels `file`, one per line (default: the model's metadata)")
	top := fs.Int("top", 5, "number of classes to list per image")
	asJSON := fs.Bool("json", false, "print one JSON object per image")
	backend := fs.String("backend", infer.BackendNative, "backend: native, tflite, edgetpu or auto (tflite and edgetpu need an agent built with -tags tflite)")
	device := fs.String("device", "", "Edge TPU: usb, usb:N, pci, pci:N or :N (default: any)")
	cpuModel := fs.String("cpu-model", "", "the CPU `file` of an Edge TPU model (default: <name>.tflite beside <name>_edgetpu.tflite)")
	threads := fs.Int("threads", 1, "interpreter threads")
	xnn := fs.Bool("xnnpack", false, "backend tflite: run through TFLite's XNNPACK delegate")
	batch := fs.Int("batch", 8, "images per invocation")
	normalize := fs.String("normalize", "", "input normalisation: unit (x/255), symmetric (x/127.5-1), caffe or none (default: metadata, else guessed from the input)")
	resize := fs.String("resize", "", "resize method: nearest, bilinear or area (default: metadata, else nearest)")
	fit := fs.String("fit", "", "aspect ratio: squash (stretch) or crop (centre) (default: metadata, else squash)")
	colorOrder := fs.String("color", "", "channel order: rgb or bgr (default: metadata, else rgb)")
	softmax := fs.Bool("softmax", false, "apply softmax to outputs that are not already probabilities")
	paths, err := cli.ParseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *model == "":
		return cli.Usagef("--model is required")
	case len(paths) == 0:
		return cli.Usagef("no images given")
	case *top < 1:
		return cli.Usagef("--top must be at least 1")
	case *batch < 1:
		return cli.Usagef("--batch must be at least 1")
	case *threads < 1:
		return cli.Usagef("--threads must be at least 1")
	}
	// Check the preprocessing names now: a typo is a usage error, not a
	// model failure.
	if err := cli.CheckPreprocess(*normalize, *resize, *fit, *colorOrder); err != nil {
		return err
	}

	f, err := infer.ReadFile(*model)
	if err != nil {
		return err
	}
	md, err := f.Metadata()
	if err != nil {
		return err
	}
	opts := infer.ClassifierOptions{
		Normalize: *normalize, Resize: *resize, Fit: *fit, ColorOrder: *colorOrder,
		Softmax: *softmax, MaxBatch: *batch, Graph: f.Model,
	}
	if *labelsPath != "" {
		if opts.Labels, err = infer.ReadLabels(*labelsPath); err != nil {
			return err
		}
	}
	plan, err := infer.Choose(f, infer.Options{Backend: *backend, Threads: *threads, XNNPACK: *xnn, Device: *device, CPUModel: *cpuModel})
	if err != nil {
		return err
	}
	if plan.File != f {
		opts.Graph = plan.File.Model
		if md == nil {
			if md, err = plan.File.Metadata(); err != nil {
				return err
			}
		}
	}
	if *backend == infer.BackendAuto {
		fmt.Fprintf(stderr, "agent classify: backend %s for %s: %s\n", plan.Backend, filepath.Base(plan.File.Path), plan.Reason)
	}
	e, err := plan.NewEngine()
	if err != nil {
		return err
	}
	defer e.Close()
	c, err := infer.NewClassifier(e, md, opts)
	if err != nil {
		return err
	}
	if opts.Labels == nil && (md == nil || md.Labels == nil) {
		fmt.Fprintf(stderr, "agent classify: %s has no labels; pass --labels to name the classes\n", filepath.Base(*model))
	}
	if c.GuessedNormalize() && *normalize == "" {
		fmt.Fprintf(stderr, "agent classify: %s has no preprocessing metadata; using normalisation %q guessed from its input (override with --normalize)\n",
			filepath.Base(*model), c.Spec().Normalize)
	}

	failed := 0
	for start := 0; start < len(paths); start += *batch {
		chunk := paths[start:min(start+*batch, len(paths))]
		var imgs []image.Image
		var names []string
		for _, p := range chunk {
			img, err := preprocess.DecodeFile(p)
			if err != nil {
				fmt.Fprintf(stderr, "agent classify: %s: %v\n", p, err)
				failed++
				continue
			}
			imgs = append(imgs, img)
			names = append(names, p)
		}
		if len(imgs) == 0 {
			continue
		}
		res, err := c.Classify(imgs, *top)
		if err != nil {
			return err
		}
		for i, r := range res {
			if err := printResult(stdout, names[i], r, *asJSON, len(paths) > 1); err != nil {
				return err
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d images could not be read", failed, len(paths))
	}
	return nil
}

func printResult(w io.Writer, path string, r infer.Result, asJSON, header bool) error {
	best := r.Top[0]
	if asJSON {
		b, err := json.Marshal(classifyResult{Path: path, Label: best.Label, Index: best.Index, Score: best.Score, Probabilities: r.Probabilities, Top: r.Top})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	if header {
		fmt.Fprintf(w, "%s:\n", path)
	}
	if r.Probabilities {
		fmt.Fprintf(w, "Predicted class: %s with probability %.2f%%\n", best.Label, 100*best.Score)
	} else {
		fmt.Fprintf(w, "Predicted class: %s with score %.4g (raw scores, not probabilities: the model's output does not sum to 1; --softmax converts it)\n", best.Label, best.Score)
	}
	for i, c := range r.Top {
		var err error
		if r.Probabilities {
			_, err = fmt.Fprintf(w, "  %d. %-30s %6.2f%%\n", i+1, c.Label, 100*c.Score)
		} else {
			_, err = fmt.Fprintf(w, "  %d. %-30s %10.4g\n", i+1, c.Label, c.Score)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
