// Command agent is fruitcam's device agent. Today it classifies image
// files one-shot, like the workshop's classify_image_model:
//
//	agent classify --model M [--labels L] [--top 5] [--json] IMAGE...
//
// A frame's path: preprocess.DecodeFile reads the image; infer.Classifier
// (infer/classify.go) fits, resizes, normalises and quantises it into the
// model's input tensor (package infer/preprocess), runs the engine (the
// native interpreter in infer/native by default, whose kernels sit one op
// per file there) and ranks the dequantised scores.
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
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one subcommand. To add one, write its cmdXxx in its own
// file and list it here.
type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"classify", "classify image files and print the top classes", cmdClassify},
}

// usageError marks errors in how the agent was invoked (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: agent <command> [flags]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'agent <command> -h' for a command's flags.")
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
			fmt.Fprintf(stderr, "agent %s: %v\n", c.name, err)
			return 2
		}
		fmt.Fprintf(stderr, "agent %s: %v\n", c.name, err)
		return 1
	}
	fmt.Fprintf(stderr, "agent: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

// parseFlags parses a command's flags, turning parse failures into usage
// errors (the flag package has already printed the details).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{msg: err.Error()}
	}
	return nil
}
