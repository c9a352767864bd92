package main

import (
	"context"
	"fmt"
	"github.com/fruitcam/fruitcam/internal/cli"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/fruitcam/fruitcam/infer"
)

// cmdQuantize quantises a float .tflite (from our converter or
// TensorFlow's) to full-integer int8.
func cmdQuantize(args []string, stdout, stderr io.Writer) error {
	f := newModelFlags("quantize", stderr)
	f.fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: convert quantize IN.tflite -o OUT.tflite --calibrate DIR [--io int8|uint8] [flags]")
		fmt.Fprintln(stderr, "Preprocessing and labels come from the model's metadata when it has them; flags override.")
		f.fs.PrintDefaults()
	}
	pos, err := cli.ParseFlags(f.fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.Usagef("want one float .tflite file, got %d arguments", len(pos))
	}
	if f.cal.quantize == "" {
		f.cal.quantize = "int8"
	}
	if err := f.check(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()

	in := pos[0]
	file, err := infer.ReadFile(in)
	if err != nil {
		return err
	}
	old, err := file.Metadata()
	if err != nil {
		return err
	}
	if old != nil {
		// What the model says about itself wins over flag defaults, not
		// over flags given.
		if !cli.IsSet(f.fs, "normalize") && old.Normalize != "" {
			*f.normalize = old.Normalize
		}
		if !cli.IsSet(f.fs, "resize") && old.Resize != "" {
			*f.resize = old.Resize
		}
		if !cli.IsSet(f.fs, "name") && old.Name != "" {
			*f.name = old.Name
		}
		if !cli.IsSet(f.fs, "version") {
			*f.version = old.Version
		}
	}
	var known []string
	if old != nil {
		known = old.Labels
	}
	m := file.Model
	md, err := f.metadata(m, in, *f.normalize, known, stderr)
	if err != nil {
		return err
	}
	q, report, err := f.cal.quantizeModel(ctx, m, md, *f.quiet, stderr)
	if err != nil {
		return err
	}
	if err := writeModel(*f.output, q); err != nil {
		return err
	}
	return summarise(stdout, *f.output, q, md, report, time.Since(start))
}
