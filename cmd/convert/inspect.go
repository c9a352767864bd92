package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"github.com/fruitcam/fruitcam/internal/cli"
	"io"

	"github.com/fruitcam/fruitcam/internal/inspect"
)

// cmdInspect prints what a .tflite file holds: graph, tensors, metadata
// and an Edge TPU compatibility verdict, so a converted model can be
// checked without Netron or Python.
func cmdInspect(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: convert inspect MODEL [--json]")
		fs.PrintDefaults()
	}
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	pos, err := cli.ParseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.Usagef("want one model file, got %d arguments (usage: convert inspect MODEL [--json])", len(pos))
	}
	r, err := inspect.ReadFile(pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return inspect.WriteText(stdout, r)
}
