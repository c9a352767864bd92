package board

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/internal/config"
)

// rebuildFix is the fix for a backend this binary lacks.
const rebuildFix = "run an agent built with -tags tflite against TensorFlow Lite 2.9's C library (README: Building for a board; make tflite), or choose backend native or auto"

// checkConfig checks the config against this machine: that it loads, what
// config.CheckHost finds, the model, its CPU model and the backend.
func checkConfig(e *Env) []Result {
	if e.ConfigPath == "" {
		return nil
	}
	if e.ConfigErr != nil {
		return []Result{configLoadResult(e.ConfigPath, e.ConfigErr)}
	}
	c := e.Config
	out := []Result{{Name: "config", Status: OK, Detail: e.ConfigPath + ": valid"}}
	errs, warnings := c.CheckHost()
	for _, list := range []struct {
		errs   config.Errors
		status Status
	}{{errs, Fail}, {warnings, Warn}} {
		for _, ce := range list.errs {
			// The model's files are checked below, with more to say;
			// camera devices under cameras, on the Host.
			if ce.Key == "model.path" || ce.Key == "model.cpu_model" || isCameraDeviceKey(ce.Key) {
				continue
			}
			out = append(out, ConfigResult(ce, list.status))
		}
	}
	out = append(out, e.checkModelFile())
	if r, ok := e.checkCPUModel(); ok {
		out = append(out, r)
	}
	return append(out, e.checkBackend())
}

// isCameraDeviceKey matches cameras[N].source.device.
func isCameraDeviceKey(key string) bool {
	return strings.HasPrefix(key, "cameras[") && strings.HasSuffix(key, "].source.device")
}

// ConfigResult turns a config finding (from config.CheckHost or `agent
// validate`'s model checks) into a result named by its key, whose fix
// points at the line.
func ConfigResult(ce *config.Error, s Status) Result {
	r := Result{Group: "config", Name: ce.Key, Status: s, Detail: ce.Msg}
	if r.Name == "" {
		r.Name = "config"
	}
	switch {
	case ce.File != "" && ce.Line > 0:
		r.Fix = fmt.Sprintf("edit %s line %d", ce.File, ce.Line)
	case ce.File != "":
		r.Fix = "edit " + ce.File
	}
	return r
}

// configLoadResult reports a config that did not load: its first problem
// and how many more there are.
func configLoadResult(path string, err error) Result {
	lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
	r := Result{Name: "config", Status: Fail, Detail: lines[0]}
	if len(lines) > 1 {
		r.Detail += fmt.Sprintf(" (and %d more)", len(lines)-1)
	}
	r.Fix = "agent validate " + path + " lists every problem with its line"
	if errors.Is(err, fs.ErrNotExist) {
		r.Fix = "check the path given to --config"
	}
	return r
}

// checkModelFile reports whether the model reads, and what it is.
func (e *Env) checkModelFile() Result {
	m := e.Model
	r := Result{Name: "model", Status: OK}
	if m.Err != nil {
		r.Status, r.Detail = Fail, m.Err.Error()
		r.Fix = "set model.path to a .tflite file the agent's user can read"
		if errors.Is(m.Err, fs.ErrPermission) {
			r.Fix = fmt.Sprintf("let %s read %s (chmod o+r, or chgrp to a group of the user)", e.Host.userName(), m.Path)
		}
		return r
	}
	kind := "for the CPU"
	if m.Compiled {
		kind = "compiled for the Edge TPU"
	}
	r.Detail = fmt.Sprintf("%s (%s, %s)", m.Path, formatBytes(uint64(len(m.File.Data))), kind)
	return r
}

// cpuModelNeed is how much the CPU model of an Edge TPU model is needed:
// required when auto will run it for lack of a TPU, wanted otherwise (it
// takes over when the TPU stalls or is unplugged).
func (e *Env) cpuModelNeed() Need {
	if e.backend() == config.BackendAuto && !(e.Has(infer.BackendEdgeTPU) && e.tpuSelectable()) {
		return Required
	}
	return Wanted
}

// checkCPUModel checks the CPU model beside an Edge TPU model
// (model.cpu_model, else <name>.tflite beside <name>_edgetpu.tflite).
func (e *Env) checkCPUModel() (Result, bool) {
	c, m := e.Config, e.Model
	b := c.Model.Backend
	if !m.Compiled || (b != config.BackendEdgeTPU && b != config.BackendAuto) {
		return Result{}, false
	}
	r := Result{Name: "cpu model", Status: OK}
	need := e.cpuModelNeed()
	p, named := c.Model.CPUModel, true
	if p == "" {
		p, named = infer.CPUTwinPath(m.Path), false
	}
	if p == "" {
		r.Status = need.Missing()
		r.Detail = "none: the model's name does not end in _edgetpu.tflite and model.cpu_model is not set"
		r.Fix = "set model.cpu_model to the .tflite the Edge TPU model was compiled from"
		return r, true
	}
	f, err := infer.ReadFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !named:
		r.Status = need.Missing()
		r.Detail = p + " is missing: "
		if need == Required {
			r.Detail += "without a usable Edge TPU nothing can classify"
		} else {
			r.Detail += "nothing takes over when the TPU stalls or is unplugged"
		}
		r.Fix = "copy the .tflite the Edge TPU model was compiled from to " + p + ", or set model.cpu_model"
	case err != nil:
		r.Status, r.Detail = Fail, err.Error()
		r.Fix = "set model.cpu_model to a readable .tflite"
	case infer.IsEdgeTPU(f.Model):
		r.Status, r.Detail = Fail, p+" is compiled for the Edge TPU too"
		r.Fix = "use the .tflite the Edge TPU model was compiled from"
	default:
		r.Detail = p + ": the CPU takes over when the TPU is missing or fails"
	}
	return r, true
}

// tpuSelectable reports whether the TPU model.edgetpu.device selects is
// usable.
func (e *Env) tpuSelectable() bool {
	n, want := e.selectedTPUs()
	return n >= want
}

// checkBackend checks that this binary has the config's backend and that
// it can run the model here; for auto it says what auto will choose on
// this machine (infer.Choose decides the same way at start-up).
func (e *Env) checkBackend() Result {
	b := e.Config.Model.Backend
	m := e.Model
	r := Result{Name: "backend", Status: OK}
	var nativeErr error
	if m.File != nil {
		nativeErr = infer.NativeRuns(m.File.Model)
	}
	switch b {
	case config.BackendNative:
		r.Detail = "native (pure Go)"
		switch {
		case m.Compiled:
			r.Status, r.Detail = Fail, "native cannot run a model compiled for the Edge TPU"
			r.Fix = "choose backend edgetpu or auto, or point model.path at the .tflite it was compiled from"
		case nativeErr != nil:
			r.Status, r.Detail = Fail, "native: "+nativeErr.Error()
			r.Fix = "choose backend tflite or auto (with an agent built with -tags tflite)"
		}
	case config.BackendTFLite:
		r.Detail = "tflite (TensorFlow Lite C library)"
		switch {
		case !e.Has(infer.BackendTFLite):
			r.Status, r.Detail, r.Fix = Fail, "tflite: this agent is the pure-Go build, without it", rebuildFix
		case m.Compiled:
			r.Status, r.Detail = Fail, "tflite without the Edge TPU delegate cannot run a model compiled for the Edge TPU"
			r.Fix = "choose backend edgetpu or auto"
		}
	case config.BackendEdgeTPU:
		r.Detail = "edgetpu (TensorFlow Lite with the Edge TPU delegate)"
		switch {
		case !e.Has(infer.BackendEdgeTPU):
			r.Status, r.Detail, r.Fix = Fail, "edgetpu: this agent is the pure-Go build, without it", rebuildFix
		case !m.Compiled && m.File != nil:
			r.Status, r.Detail = Warn, "edgetpu: the model is not compiled for the Edge TPU, so it runs on the CPU"
			r.Fix = "compile it with edgetpu_compiler and use the _edgetpu.tflite it writes"
		case !e.tpuSelectable():
			r.Status, r.Detail = Fail, "edgetpu: no usable Edge TPU (see edgetpu above)"
			r.Fix = "fix the Edge TPU, or choose backend auto to run the CPU model meanwhile"
		}
	case config.BackendAuto:
		r = e.autoResult(nativeErr)
	default:
		r.Status, r.Detail = Fail, fmt.Sprintf("unknown backend %q", b)
	}
	return r
}

// autoResult says what backend auto will run here, mirroring infer.Choose.
func (e *Env) autoResult(nativeErr error) Result {
	m := e.Model
	r := Result{Name: "backend", Status: OK}
	if m.File == nil {
		r.Status, r.Detail = Skip, "auto: decided when the model reads"
		return r
	}
	hasTPU := e.tpuSelectable()
	hasEdge := e.Has(infer.BackendEdgeTPU)
	switch {
	case !m.Compiled && nativeErr == nil:
		r.Detail = "auto: native, which runs every operator of the model"
	case !m.Compiled && e.Has(infer.BackendTFLite):
		r.Detail = "auto: tflite (" + nativeErr.Error() + ")"
	case !m.Compiled:
		r.Status, r.Detail, r.Fix = Fail, "auto: "+nativeErr.Error()+", and this agent has no tflite backend", rebuildFix
	case hasEdge && hasTPU:
		r.Detail = "auto: edgetpu (a TPU is usable), the CPU model when it fails"
	case hasEdge:
		r.Status, r.Detail = Warn, "auto: the CPU model, for want of a usable Edge TPU"
		r.Fix = "fix the Edge TPU (see edgetpu above) to run the model on it"
	case len(e.TPUs) > 0:
		r.Status, r.Detail = Warn, "auto: the CPU model: this agent has no edgetpu backend, so the Edge TPU sits idle"
		r.Fix = "run an agent built with -tags tflite (README: Building for a board; make tflite)"
	default:
		r.Detail = "auto: the CPU model (no Edge TPU here)"
	}
	return r
}

// selectedTPUs counts the usable TPUs of the kind model.edgetpu.device
// selects and says how many it needs (":N" and "usb:N" need N+1).
func (e *Env) selectedTPUs() (n, want int) {
	sel := ""
	if e.Config != nil {
		sel = e.Config.Model.EdgeTPU.Device
	}
	kind, idx, hasIdx := strings.Cut(sel, ":")
	for _, t := range e.TPUs {
		if t.Usable && (kind == "" || t.Kind == kind) {
			n++
		}
	}
	want = 1
	if hasIdx {
		var i int
		if _, err := fmt.Sscanf(idx, "%d", &i); err == nil && i >= 0 {
			want = i + 1
		}
	}
	return n, want
}
