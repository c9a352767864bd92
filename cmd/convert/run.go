package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"github.com/fruitcam/fruitcam/internal/cli"
	"io"
	"os"
	"sort"
	"time"

	"github.com/fruitcam/fruitcam/infer"
)

// cmdRun runs raw input bytes through a model: the same contract as the
// reference runners (TFLite C library, WASM), so outputs and timings can be
// compared from the shell.
func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "", "model `file` (.tflite)")
	input := fs.String("input", "", "raw input tensor `file` (exactly the size of input 0)")
	output := fs.String("output", "", "write output 0's raw bytes to this `file`")
	repeat := fs.Int("repeat", 1, "number of timed invocations")
	threads := fs.Int("threads", 1, "interpreter threads")
	batch := fs.Int("batch", 0, "resize the batch dimension first (0: keep the model's)")
	backend := fs.String("backend", infer.BackendNative, "backend: native, tflite or edgetpu (tflite and edgetpu need a build with -tags tflite)")
	xnn := fs.Bool("xnnpack", false, "backend tflite: run through TFLite's XNNPACK delegate")
	device := fs.String("device", "", "backend edgetpu: usb, usb:N, pci, pci:N or :N (default: any)")
	pos, err := cli.ParseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return cli.Usagef("unexpected argument %q", pos[0])
	case *model == "" || *input == "":
		return cli.Usagef("--model and --input are required")
	case *repeat < 1:
		return cli.Usagef("--repeat must be at least 1")
	}
	f, err := infer.ReadFile(*model)
	if err != nil {
		return err
	}
	e, err := infer.NewEngine(f, infer.Options{Backend: *backend, Threads: *threads, XNNPACK: *xnn, Device: *device})
	if err != nil {
		return err
	}
	defer e.Close()
	if *batch > 0 {
		if err := e.SetBatch(*batch); err != nil {
			return err
		}
	}
	in, err := os.ReadFile(*input)
	if err != nil {
		return err
	}
	info := e.Inputs()[0]
	if len(in) != info.Bytes() {
		return fmt.Errorf("%s has %d bytes, input 0 (%s) needs %d", *input, len(in), info, info.Bytes())
	}
	copy(e.Input(0), in)
	if *repeat > 1 {
		// One untimed run first: it sizes what is made on first use (the
		// thread pool, a delegate's buffers), which later runs reuse.
		if err := e.Invoke(); err != nil {
			return err
		}
	}
	ms := make([]float64, 0, *repeat)
	for range *repeat {
		t := time.Now()
		if err := e.Invoke(); err != nil {
			return err
		}
		ms = append(ms, float64(time.Since(t).Microseconds())/1000)
	}
	if *output != "" {
		if err := os.WriteFile(*output, e.Output(0), 0o644); err != nil {
			return err
		}
	}
	sort.Float64s(ms)
	j, _ := json.Marshal(map[string]any{"median_ms": ms[len(ms)/2], "min_ms": ms[0], "runs": len(ms)})
	fmt.Fprintln(stdout, string(j))
	return nil
}
