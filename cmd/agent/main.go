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
	"io"
	"os"

	"github.com/fruitcam/fruitcam/internal/cli"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// commands lists the subcommands; each cmdXxx lives in its own file.
var commands = []cli.Command{
	{Name: "run", Summary: "run the cameras, classify and publish over MQTT (the main job)", Run: cmdRun},
	{Name: "watch", Summary: "print what a device publishes (results, stats, status)", Run: cmdWatch},
	{Name: "classify", Summary: "classify image files and print the top classes", Run: cmdClassify},
	{Name: "validate", Summary: "check config files (--print shows the effective config)", Run: cmdValidate},
	{Name: "command", Summary: "send a command to a device (signed with --key) and print its reply", Run: cmdCommand},
	{Name: "fleet", Summary: "push signed fleet configs to groups or devices, and show what each board runs", Run: cmdFleet},
	{Name: "keygen", Summary: "make an operator's signing key and print the line devices trust it by", Run: cmdKeygen},
	{Name: "doctor", Summary: "check this board: libraries, Edge TPUs, cameras, and a config's model and backend", Run: cmdDoctor},
}

// run is the whole program, testable without a process.
func run(args []string, stdout, stderr io.Writer) int {
	return cli.Main("agent", commands, args, stdout, stderr)
}
