package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/internal/board"
	"github.com/fruitcam/fruitcam/internal/cli"
	"github.com/fruitcam/fruitcam/internal/config"
)

// doctorRootEnv is for tests only: when set, doctor reads the machine
// (/proc, /sys, /dev, /etc, /usr/lib, /var/lib/dpkg) under this directory
// instead of /, so that a fake board's tree can be checked. It is not a
// flag because no user has a reason to set it.
const doctorRootEnv = "FRUITCAM_DOCTOR_ROOT"

// cmdDoctor checks this board (package board): the board and its OS, the
// shared libraries of the tflite build, Coral Edge TPUs, cameras, and with
// --config the config's model and backend on this machine. It prints a
// checklist, or one JSON object with --json; the exit status is 1 when a
// check failed (warnings do not count).
func cmdDoctor(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: agent doctor [--config FILE] [--json]")
		fs.PrintDefaults()
	}
	configPath := fs.String("config", "", "also check this config `file` on this machine: its model, CPU model, backend and cameras")
	asJSON := fs.Bool("json", false, "print the checklist as one JSON object")
	rest, err := cli.ParseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return cli.Usagef("unexpected arguments %q (the config goes with --config)", rest)
	}
	h := board.Local()
	if root := os.Getenv(doctorRootEnv); root != "" {
		h.Root, h.Machine = root, ""
	}
	backends := []string{infer.BackendNative}
	if infer.HaveTFLite() {
		backends = append(backends, infer.BackendTFLite, infer.BackendEdgeTPU)
	}
	extra := append([]board.Check{{Group: "config", Run: doctorModelChecks}}, board.Extra...)
	r := board.Diagnose(board.Options{Host: h, ConfigPath: *configPath, Backends: backends, Extra: extra})
	if *asJSON {
		err = r.WriteJSON(stdout)
	} else {
		err = r.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	if !r.OK() {
		return fmt.Errorf("doctor: %s", r.Summary())
	}
	return nil
}

// doctorModelChecks adds what `agent validate` finds about the model's
// labels and the actuators. The model file, its CPU model and the backend
// are package board's checks, which know this machine; validate's findings
// on those keys would repeat them.
func doctorModelChecks(e *board.Env) []board.Result {
	if e.Config == nil || e.Model == nil || e.Model.Err != nil {
		return nil
	}
	errs, warnings := checkModel(e.Config)
	var out []board.Result
	for _, list := range []struct {
		errs   config.Errors
		status board.Status
	}{{errs, board.Fail}, {warnings, board.Warn}} {
		for _, ce := range list.errs {
			if ce.Key == "model.labels" || strings.HasPrefix(ce.Key, "actuators") {
				out = append(out, board.ConfigResult(ce, list.status))
			}
		}
	}
	return out
}
