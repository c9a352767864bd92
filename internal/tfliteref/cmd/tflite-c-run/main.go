//go:build tfliteref

// Command tflite-c-run runs a .tflite model with the real TensorFlow Lite
// C library on raw input bytes: the reference runner scripts (make bench)
// compare the native engine with.
//
//	tflite-c-run [-threads N] [-repeat N] [-batch B] [-out-dir DIR] MODEL IN.bin [IN1.bin ...] OUT.bin
//
// IN.bin holds the raw little-endian bytes of input 0 (IN1.bin of input 1,
// and so on), exactly the tensor's size; OUT.bin receives output 0 and
// -out-dir DIR, if given, every output as DIR/output_<k>.bin (the WASM
// oracle's names). It prints one JSON line:
// {"median_ms":…,"min_ms":…,"runs":N,"runtime":"…"}, timing invocations
// only. Build (see internal/tfliteref):
//
//	CGO_ENABLED=1 CGO_CFLAGS=-I$REF/c/include \
//	CGO_LDFLAGS="-L$REF/c/linux_amd64 -Wl,-rpath,$REF/c/linux_amd64" \
//	go build -tags tfliteref ./internal/tfliteref/cmd/tflite-c-run
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fruitcam/fruitcam/internal/tfliteref"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "tflite-c-run:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tflite-c-run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	threads := fs.Int("threads", 1, "interpreter threads")
	repeat := fs.Int("repeat", 1, "timed invocations")
	batch := fs.Int("batch", 0, "resize the leading dimension of every input first (0: keep)")
	outDir := fs.String("out-dir", "", "also write every output to `DIR`/output_<k>.bin")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tflite-c-run [-threads N] [-repeat N] [-batch B] [-out-dir DIR] MODEL IN.bin [IN1.bin ...] OUT.bin")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 3 {
		fs.Usage()
		return fmt.Errorf("need MODEL, at least one input and OUT")
	}
	if *repeat < 1 {
		return fmt.Errorf("-repeat must be at least 1")
	}
	model, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	var inputs [][]byte
	for _, p := range fs.Args()[1 : fs.NArg()-1] {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		inputs = append(inputs, b)
	}
	res, err := tfliteref.RunC(model, inputs, tfliteref.Options{Threads: *threads, Repeat: *repeat, Batch: *batch})
	if err != nil {
		return err
	}
	if len(res.Outputs) == 0 {
		return fmt.Errorf("model has no outputs")
	}
	if err := os.WriteFile(fs.Arg(fs.NArg()-1), res.Outputs[0].Data, 0o644); err != nil {
		return err
	}
	if *outDir != "" {
		if err := os.MkdirAll(*outDir, 0o755); err != nil {
			return err
		}
		for k, o := range res.Outputs {
			if err := os.WriteFile(filepath.Join(*outDir, fmt.Sprintf("output_%d.bin", k)), o.Data, 0o644); err != nil {
				return err
			}
		}
	}
	ms := make([]float64, len(res.Invoke))
	for i, d := range res.Invoke {
		ms[i] = float64(d) / float64(time.Millisecond)
	}
	slices.Sort(ms)
	j, err := json.Marshal(map[string]any{"median_ms": ms[len(ms)/2], "min_ms": ms[0], "runs": len(ms), "runtime": res.Runtime})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, string(j))
	return err
}
