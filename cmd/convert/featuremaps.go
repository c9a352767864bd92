package main

import (
	"bufio"
	"flag"
	"fmt"
	"image"
	"io"
	"os"
	"strings"
	"time"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/internal/cli"
	"github.com/fruitcam/fruitcam/internal/featuremap"
)

const featuremapsUsage = "usage: convert featuremaps --model M IMAGE [--layer NAME|INDEX ... | --all] -o maps.png [--colormap gray|viridis|inferno]"

// cmdFeaturemaps draws what the chosen layers of a model compute for one
// image: every channel of each tensor, dequantised and normalised as the
// workshop does, one tile per channel under the tensor's name and shape.
// The model runs on the native engine with the agent's preprocessing.
func cmdFeaturemaps(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("featuremaps", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, featuremapsUsage)
		fs.PrintDefaults()
	}
	model := fs.String("model", "", "model `file` (.tflite), float or quantised")
	out := fs.String("o", "", "output `file` (.png)")
	var layers []string
	fs.Func("layer", "tensor `NAME` or index to draw, as convert inspect lists them (repeatable)", func(s string) error {
		layers = append(layers, s)
		return nil
	})
	all := fs.Bool("all", false, "draw every tensor an operator computes")
	cmap := fs.String("colormap", "gray", "colour map: "+strings.Join(featuremap.ColorMapNames, ", "))
	width := fs.Int("width", 0, "picture width in pixels (0: about square)")
	minTile := fs.Int("min-tile", 40, "enlarge tiles smaller than this many pixels (1: never)")
	threads := fs.Int("threads", 1, "interpreter threads")
	normalize := fs.String("normalize", "", "input normalisation: unit (x/255), symmetric (x/127.5-1), caffe or none (default: metadata, else guessed from the input)")
	resize := fs.String("resize", "", "resize method: nearest, bilinear or area (default: metadata, else nearest)")
	fit := fs.String("fit", "", "aspect ratio: squash (stretch) or crop (centre) (default: metadata, else squash)")
	colorOrder := fs.String("color", "", "channel order: rgb or bgr (default: metadata, else rgb)")
	pos, err := cli.ParseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 1:
		return cli.Usagef("want one image, got %d arguments (%s)", len(pos), featuremapsUsage)
	case *model == "" || *out == "":
		return cli.Usagef("--model and -o are required (%s)", featuremapsUsage)
	case *all == (len(layers) > 0):
		return cli.Usagef("give --layer (repeatable) or --all, not both or neither")
	case *width < 0 || *minTile < 1 || *threads < 1:
		return cli.Usagef("--width must be at least 0, --min-tile and --threads at least 1")
	}
	cm, err := featuremap.ParseColorMap(*cmap)
	if err != nil {
		return &cli.UsageError{Msg: err.Error()}
	}
	if err := cli.CheckPreprocess(*normalize, *resize, *fit, *colorOrder); err != nil {
		return err
	}
	start := time.Now()
	f, err := infer.ReadFile(*model)
	if err != nil {
		return err
	}
	e, err := featuremap.New(f, featuremap.Options{Layers: layers, All: *all, Threads: *threads,
		Normalize: *normalize, ColorOrder: *colorOrder, Resize: *resize, Fit: *fit})
	if err != nil {
		return err
	}
	img, err := preprocess.DecodeFile(pos[0])
	if err != nil {
		return err
	}
	maps, err := e.Run(img)
	if err != nil {
		return err
	}
	var r featuremap.Renderer
	pic, err := r.Render(maps, featuremap.Style{ColorMap: cm, Width: *width, MinTile: *minTile})
	if err != nil {
		return err
	}
	if err := writePNG(*out, pic); err != nil {
		return err
	}
	channels := 0
	for _, m := range maps {
		channels += m.Channels
	}
	fmt.Fprintf(stdout, "%s: %d tensors, %d channels, %dx%d pixels (%s) in %v\n", *out, len(maps), channels,
		pic.Rect.Dx(), pic.Rect.Dy(), cm.Name, time.Since(start).Round(time.Millisecond))
	return nil
}

// writePNG writes pic to path through a buffer.
func writePNG(path string, pic *image.Paletted) error {
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(file, 1<<20)
	err = featuremap.EncodePNG(w, pic)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		file.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return file.Close()
}
