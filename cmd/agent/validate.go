package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/cli"
	"github.com/fruitcam/fruitcam/internal/config"
)

// cmdValidate checks config files. Each file is parsed and validated
// (package config: unknown keys, bad values, every problem with its line),
// then, unless --offline, checked against this machine: the files and
// environment variables it names (config.CheckHost) and the model itself
// (checkModel). A valid file prints "FILE: ok" on stdout; problems go to
// stderr as "FILE:LINE: KEY: message", warnings with "warning:" before the
// message. Any error makes the exit status 1.
//
// --print writes each valid file's effective config (defaults filled,
// paths resolved) to stdout as YAML instead of "ok", one YAML document per
// file.
func cmdValidate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: agent validate [--print] [--offline] CONFIG...")
		fs.PrintDefaults()
	}
	printYAML := fs.Bool("print", false, "print the effective config (defaults filled, paths resolved) as YAML")
	offline := fs.Bool("offline", false, "check the files only, not the model, files, devices and variables they need on this machine")
	files, err := cli.ParseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return cli.Usagef("no config files given")
	}
	failed := 0
	for i, path := range files {
		c, err := config.Load(path)
		if err != nil {
			fmt.Fprintln(stderr, err)
			failed++
			continue
		}
		var errs, warnings config.Errors
		if !*offline {
			errs, warnings = c.CheckHost()
			if !slices.ContainsFunc(errs, func(e *config.Error) bool { return strings.HasPrefix(e.Key, "model.") }) {
				me, mw := checkModel(c)
				errs, warnings = append(errs, me...), append(warnings, mw...)
			}
		}
		report := slices.Clone(errs)
		for _, w := range warnings {
			warn := *w
			warn.Msg = "warning: " + warn.Msg
			report = append(report, &warn)
		}
		slices.SortStableFunc(report, func(a, b *config.Error) int { return cmp.Compare(a.Line, b.Line) })
		for _, e := range report {
			fmt.Fprintln(stderr, e)
		}
		if len(errs) > 0 {
			failed++
			continue
		}
		if !*printYAML {
			fmt.Fprintf(stdout, "%s: ok\n", path)
			continue
		}
		out, err := c.Marshal()
		if err != nil {
			return err
		}
		if i > 0 {
			fmt.Fprintln(stdout, "---")
		}
		fmt.Fprintf(stdout, "# %s: the effective config\n%s", path, out)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d config files have errors", failed, len(files))
	}
	return nil
}

// checkModel reads the model a config names and checks what the config
// assumes about it: that its labels can be read, that every actuator's
// label is one of them (or the unknown label), and that the backend can
// run it (a model compiled for the Edge TPU needs edgetpu or auto; one
// that is not runs on the CPU even with edgetpu, a warning).
func checkModel(c *config.Config) (errs, warnings config.Errors) {
	f, err := infer.ReadFile(c.Model.Path)
	if err != nil {
		return config.Errors{c.Errorf("model.path", "%v", err)}, nil
	}
	compiled := slices.ContainsFunc(f.Model.OperatorCodes, func(oc tfl.OperatorCode) bool {
		return oc.Builtin == tfl.OpCustom && oc.Custom == native.EdgeTPUCustomOp
	})
	switch b := c.Model.Backend; {
	case compiled && b != config.BackendEdgeTPU && b != config.BackendAuto:
		errs = append(errs, c.Errorf("model.backend", "%s is compiled for the Coral Edge TPU: backend %s cannot run it; use edgetpu (or the CPU .tflite it was compiled from)", c.Model.Path, b))
	case !compiled && b == config.BackendEdgeTPU:
		warnings = append(warnings, c.Errorf("model.backend", "%s is not compiled for the Edge TPU (no %s): it will run on the CPU; compile it with edgetpu_compiler", c.Model.Path, native.EdgeTPUCustomOp))
	}
	md, err := f.Metadata()
	if err != nil {
		return append(errs, c.Errorf("model.path", "%v", err)), warnings
	}
	var labels []string
	switch {
	case c.Model.Labels != "":
		if labels, err = infer.ReadLabels(c.Model.Labels); err != nil {
			return append(errs, c.Errorf("model.labels", "%v", err)), warnings
		}
	case md != nil:
		labels = md.Labels
	}
	if len(c.Actuators) > 0 && labels == nil {
		return append(errs, c.Errorf("actuators", "the model has no labels to match actuators against: set model.labels")), warnings
	}
	for i, a := range c.Actuators {
		if a.Label == c.Pipeline.UnknownLabel || slices.Contains(labels, a.Label) {
			continue
		}
		hint := ""
		for _, l := range labels {
			if strings.EqualFold(l, a.Label) {
				hint = fmt.Sprintf(" (the model spells it %q)", l)
				break
			}
		}
		if hint == "" && len(labels) <= 20 {
			hint = " (its labels: " + strings.Join(labels, ", ") + ")"
		}
		errs = append(errs, c.Errorf(fmt.Sprintf("actuators[%d].label", i), "%q is not a label of the model, so the actuator would never fire%s", a.Label, hint))
	}
	return errs, warnings
}
