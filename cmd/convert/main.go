// Command convert turns trained models into .tflite files for the agent,
// and inspects, verifies and runs them:
//
//	convert keras IN.h5|IN.keras -o OUT.tflite [--quantize int8 --calibrate DIR [--io int8|uint8]] [--labels FILE]
//	convert quantize IN.tflite -o OUT.tflite --calibrate DIR
//	convert inspect MODEL
//	convert verify --float F --quant Q --images DIR
//	convert run --model M --input in.bin [--output out.bin] [--repeat N] [--threads T]
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
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/fruitcam/fruitcam/internal/keras"
)

func main() {
	// A child process reading a Keras file for ReadFileIsolated stops here.
	keras.ServeChild()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one subcommand. To add one, write its cmdXxx in its own
// file and list it here.
type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"keras", "convert a Keras .h5/.keras model to a float or int8 .tflite", cmdKeras},
	{"quantize", "quantise a float .tflite to full-integer int8", cmdQuantize},
	{"inspect", "print a model's graph, quantisation, metadata and Edge TPU fitness", cmdInspect},
	{"verify", "compare the accuracy of a float and a quantised model on labelled images", cmdVerify},
	{"run", "run raw tensor bytes through a model (input 0 -> output 0)", cmdRun},
}

// usageError marks errors in how convert was invoked (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: convert <command> [flags]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'convert <command> -h' for a command's flags.")
}

// run is the whole program, testable without a process.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(args[1:], stdout, stderr)
		var ue *usageError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "convert %s: %v\n", c.name, err)
			return 2
		}
		// Other errors already name their package ("keras: ...",
		// "inspect: ..."), which says where they come from.
		fmt.Fprintf(stderr, "convert: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "convert: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

// parseFlags parses a command's flags and returns its positional
// arguments. Flags may follow them (`convert keras IN.h5 -o OUT`), which
// the flag package alone does not allow; "--" ends the flags.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{msg: err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse stopped at a positional argument, or after "--".
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagSet reports whether the named flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}
