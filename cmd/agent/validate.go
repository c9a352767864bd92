package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
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

// checkCPUModel checks the CPU model of an Edge TPU model (model.cpu_model,
// else the twin beside it): that there is one, that it is not compiled for
// the TPU too, and that it takes the same inputs and gives the same
// outputs, so it can take over when the TPU fails.
func checkCPUModel(c *config.Config, f *infer.File) (errs, warnings config.Errors) {
	key, path := "model.cpu_model", c.Model.CPUModel
	if path == "" {
		key, path = "model.path", infer.CPUTwinPath(f.Path)
		if path == "" {
			return nil, config.Errors{c.Errorf(key, "%s has no CPU model to fall back on: name it <name>_edgetpu.tflite beside <name>.tflite, or set model.cpu_model", f.Path)}
		}
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, config.Errors{c.Errorf(key, "no CPU model %s beside %s: without a TPU, or when it fails, nothing will classify; copy the .tflite it was compiled from there or set model.cpu_model", path, f.Path)}
		}
	}
	cpu, err := infer.ReadFile(path)
	if err != nil {
		return config.Errors{c.Errorf(key, "CPU model: %v", err)}, nil
	}
	if infer.IsEdgeTPU(cpu.Model) {
		return config.Errors{c.Errorf(key, "CPU model %s is compiled for the Edge TPU too: name the .tflite it was compiled from", path)}, nil
	}
	if err := sameIO(f.Model, cpu.Model); err != nil {
		return config.Errors{c.Errorf(key, "CPU model %s cannot stand in for %s: %v", path, f.Path, err)}, nil
	}
	return nil, nil
}

// sameIO compares the graphs' input and output tensors (batch aside).
func sameIO(a, b *tfl.Model) error {
	ga, gb := a.Subgraphs[0], b.Subgraphs[0]
	check := func(kind string, x, y []int, ta, tb []tfl.Tensor) error {
		if len(x) != len(y) {
			return fmt.Errorf("%d %ss, want %d", len(y), kind, len(x))
		}
		for i := range x {
			p, q := ta[x[i]], tb[y[i]]
			if p.Type != q.Type || !slices.Equal(p.Shape[min(1, len(p.Shape)):], q.Shape[min(1, len(q.Shape)):]) || !sameQuant(p.Quant, q.Quant) {
				return fmt.Errorf("%s %d (%s) differs from %s", kind, i, q.Name, p.Name)
			}
		}
		return nil
	}
	if err := check("input", ga.Inputs, gb.Inputs, ga.Tensors, gb.Tensors); err != nil {
		return err
	}
	return check("output", ga.Outputs, gb.Outputs, ga.Tensors, gb.Tensors)
}

// sameQuant compares per-tensor quantisation parameters.
func sameQuant(a, b *tfl.Quantization) bool {
	if a == nil || b == nil {
		return a == b
	}
	return slices.Equal(a.Scale, b.Scale) && slices.Equal(a.ZeroPoint, b.ZeroPoint)
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
	compiled := infer.IsEdgeTPU(f.Model)
	switch b := c.Model.Backend; {
	case compiled && b != config.BackendEdgeTPU && b != config.BackendAuto:
		errs = append(errs, c.Errorf("model.backend", "%s is compiled for the Coral Edge TPU: backend %s cannot run it; use edgetpu or auto (or the CPU .tflite it was compiled from)", c.Model.Path, b))
	case !compiled && b == config.BackendEdgeTPU:
		warnings = append(warnings, c.Errorf("model.backend", "%s is not compiled for the Edge TPU (no %s): it will run on the CPU; compile it with edgetpu_compiler", c.Model.Path, native.EdgeTPUCustomOp))
	}
	if b := c.Model.Backend; (b == config.BackendTFLite || b == config.BackendEdgeTPU) && !infer.HaveTFLite() {
		warnings = append(warnings, c.Errorf("model.backend", "backend %s needs an agent built with -tags tflite (this one is not): fine if the board's agent is", b))
	}
	if compiled && (c.Model.Backend == config.BackendEdgeTPU || c.Model.Backend == config.BackendAuto) {
		e, w := checkCPUModel(c, f)
		errs, warnings = append(errs, e...), append(warnings, w...)
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
