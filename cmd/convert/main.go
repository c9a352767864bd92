// Command convert turns trained models into .tflite files for the agent,
// and inspects, verifies and runs them:
//
//	convert keras IN.h5|IN.keras -o OUT.tflite [--quantize int8 --calibrate DIR [--io int8|uint8]] [--labels FILE]
//	convert quantize IN.tflite -o OUT.tflite --calibrate DIR
//	convert inspect MODEL
//	convert verify --float F --quant Q --images DIR
//	convert run --model M --input in.bin [--output out.bin] [--repeat N] [--threads T]
//	convert lime --model M IMAGE [--label L | --top K] [--samples 1000] [--features 5] [--seed S] -o lime.png [--json]
//	convert featuremaps --model M IMAGE [--layer NAME|INDEX ... | --all] -o maps.png [--colormap gray|viridis|inferno]
//
// A Keras file's path: keras.ReadFileIsolated reads it (in a child process,
// so a corrupt file cannot take this one down) into a layer graph;
// lower.Lower turns the graph into a float32 TFLite graph; with --quantize,
// ptq.Calibrator runs that graph on the calibration images with the native
// engine and writes the int8 model; infer.SetMetadata stores the labels and
// preprocessing in it; tfl.Write serialises it.
//
// Exit status: 0 on success, 1 when a model or image fails, 2 for a usage
// error.
package main

import (
	"io"
	"os"

	"github.com/fruitcam/fruitcam/internal/cli"
	"github.com/fruitcam/fruitcam/internal/keras"
)

func main() {
	// A child process reading a Keras file for ReadFileIsolated stops here.
	keras.ServeChild()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// commands lists the subcommands; each cmdXxx lives in its own file.
var commands = []cli.Command{
	{Name: "keras", Summary: "convert a Keras .h5/.keras model to a float or int8 .tflite", Run: cmdKeras},
	{Name: "quantize", Summary: "quantise a float .tflite to full-integer int8", Run: cmdQuantize},
	{Name: "inspect", Summary: "print a model's graph, quantisation, metadata and Edge TPU fitness", Run: cmdInspect},
	{Name: "verify", Summary: "compare the accuracy of a float and a quantised model on labelled images", Run: cmdVerify},
	{Name: "run", Summary: "run raw tensor bytes through a model (input 0 -> output 0)", Run: cmdRun},
	{Name: "lime", Summary: "explain one image's classification with LIME: an overlay PNG of the superpixels that matter", Run: cmdLime},
	{Name: "featuremaps", Summary: "draw every channel of chosen layers for one image as a PNG grid", Run: cmdFeaturemaps},
}

// run is the whole program, testable without a process.
func run(args []string, stdout, stderr io.Writer) int {
	return cli.Main("convert", commands, args, stdout, stderr)
}
