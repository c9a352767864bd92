// Command convert turns trained models into .tflite files for the agent and
// runs models for debugging and comparison.
//
//	convert run --model M --input in.bin [--output out.bin] [--repeat N] [--threads T]
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: convert <command> [flags]

commands:
  run       run raw tensor bytes through a model (input 0 -> output 0)
`)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "convert: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "convert:", err)
		return 1
	}
	return 0
}
