package infer

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/tfl"
)

// IsEdgeTPU reports whether m was compiled by edgetpu_compiler: it holds
// the Edge TPU's custom operator, which only the edgetpu backend runs.
func IsEdgeTPU(m *tfl.Model) bool {
	for _, c := range m.OperatorCodes {
		if c.Builtin == tfl.OpCustom && c.Custom == native.EdgeTPUCustomOp {
			return true
		}
	}
	return false
}

// CPUTwinPath is where the CPU model of an Edge TPU model is expected:
// edgetpu_compiler writes m_edgetpu.tflite beside the m.tflite it was
// given. It returns "" when path does not follow that naming.
func CPUTwinPath(path string) string {
	dir, base := filepath.Split(path)
	stem, ok := strings.CutSuffix(base, "_edgetpu.tflite")
	if !ok || stem == "" {
		return ""
	}
	return filepath.Join(dir, stem+".tflite")
}

// NativeRuns reports, without building an interpreter, whether the native
// backend has a kernel for every operator of m; the error names the first
// it lacks.
func NativeRuns(m *tfl.Model) error {
	have := map[tfl.BuiltinOp]bool{}
	for _, op := range native.SupportedOps() {
		have[op] = true
	}
	for _, c := range m.OperatorCodes {
		if c.Builtin == tfl.OpCustom || !have[c.Builtin] {
			return fmt.Errorf("the native backend has no kernel for operator %s", c.Name())
		}
	}
	return nil
}

// HaveTFLite reports whether this binary has the TensorFlow Lite C library
// (built with -tags tflite and cgo): the tflite and edgetpu backends.
func HaveTFLite() bool { return haveTFLite }

// Plan is what runs a model: the backend, the file it loads, and for the
// Edge TPU the CPU model that takes over when the TPU fails. Choose makes
// one; NewEngine on it builds an engine per worker.
type Plan struct {
	Backend string // BackendNative, BackendTFLite or BackendEdgeTPU
	File    *File
	// Fallback is the CPU model for backend edgetpu (nil: none), run by
	// FallbackBackend.
	Fallback        *File
	FallbackBackend string
	// Reason says, in a sentence for the log, why this plan.
	Reason string
	opts   Options
}

// Choose decides what runs f with opts. For BackendAuto:
//
//   - a model compiled for the Edge TPU runs on the edgetpu backend when a
//     TPU answers (opts.Device selects it); otherwise its CPU model runs on
//     the CPU;
//   - a CPU model runs on the native backend when it has every operator,
//     else on tflite when this binary has it.
//
// The CPU model of an Edge TPU model is opts.CPUModel, else the file
// CPUTwinPath names when it exists. With backend edgetpu (explicit or
// chosen) that CPU model is the fallback the Watchdog switches to.
// Explicit backends are taken as given, apart from finding the fallback.
func Choose(f *File, opts Options) (Plan, error) {
	p := Plan{Backend: opts.Backend, File: f, opts: opts}
	if p.Backend == "" {
		p.Backend = BackendNative
	}
	compiled := IsEdgeTPU(f.Model)
	switch p.Backend {
	case BackendNative, BackendTFLite:
		p.Reason = "backend " + p.Backend + " configured"
		return p, nil
	case BackendEdgeTPU:
		p.Reason = "backend edgetpu configured"
		return p, p.findFallback(compiled)
	case BackendAuto:
	default:
		return p, fmt.Errorf("infer: unknown backend %q (want native, tflite, edgetpu or auto)", opts.Backend)
	}
	if !compiled {
		p.Backend, p.Reason = cpuBackend(f.Model)
		return p, nil
	}
	tpuErr := edgeTPUAvailable(opts.Device)
	if tpuErr == nil {
		p.Backend, p.Reason = BackendEdgeTPU, "the model is compiled for the Edge TPU and a TPU answered"
		return p, p.findFallback(true)
	}
	cpu, err := p.cpuModel()
	if err != nil {
		return p, err
	}
	if cpu == nil {
		return p, fmt.Errorf("infer: %s is compiled for the Edge TPU, which cannot run here (%v), and it has no CPU model: put the .tflite it was compiled from beside it as %s, or set model.cpu_model",
			f.Path, tpuErr, orUnnamed(CPUTwinPath(f.Path)))
	}
	p.File = cpu
	var why string
	p.Backend, why = cpuBackend(cpu.Model)
	p.Reason = fmt.Sprintf("no Edge TPU (%v): running the CPU model %s; %s", tpuErr, cpu.Path, why)
	return p, nil
}

func orUnnamed(p string) string {
	if p == "" {
		return "<name>.tflite for <name>_edgetpu.tflite"
	}
	return p
}

// cpuBackend picks the CPU backend for m, with the reason.
func cpuBackend(m *tfl.Model) (string, string) {
	err := NativeRuns(m)
	switch {
	case err == nil:
		return BackendNative, "the native backend runs every operator of the model"
	case haveTFLite:
		return BackendTFLite, err.Error() + "; the TensorFlow Lite library runs it"
	}
	// native it is: NewEngine then says which operator is missing.
	return BackendNative, err.Error() + " and this binary has no TensorFlow Lite library"
}

// findFallback sets the Edge TPU plan's CPU model, when there is one.
func (p *Plan) findFallback(compiled bool) error {
	if !compiled {
		return nil // the delegate claims nothing: the CPU runs it already
	}
	cpu, err := p.cpuModel()
	if err != nil || cpu == nil {
		return err
	}
	p.Fallback = cpu
	p.FallbackBackend, _ = cpuBackend(cpu.Model)
	return nil
}

// cpuModel reads the CPU model of p.File: opts.CPUModel (must exist), else
// the twin beside it (nil when absent).
func (p *Plan) cpuModel() (*File, error) {
	path, named := p.opts.CPUModel, true
	if path == "" {
		path, named = CPUTwinPath(p.File.Path), false
	}
	if path == "" {
		return nil, nil
	}
	f, err := ReadFile(path)
	if !named && errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("infer: CPU model for %s: %w", p.File.Path, err)
	}
	if IsEdgeTPU(f.Model) {
		return nil, fmt.Errorf("infer: CPU model %s is compiled for the Edge TPU too: name the .tflite it was compiled from", f.Path)
	}
	return f, nil
}

// NewEngine builds an engine that runs the plan. For backend edgetpu with
// a fallback the engine is a Watchdog (opts.Watchdog, opts.Retry); its
// Health tells which backend is running.
func (p Plan) NewEngine() (Engine, error) {
	o := p.opts
	o.Backend = p.Backend
	if p.Backend != BackendEdgeTPU {
		return NewEngine(p.File, o)
	}
	open := func() (Engine, error) { return NewEngine(p.File, o) }
	e, err := open()
	if err != nil {
		return nil, err
	}
	wo := WatchdogOptions{
		Name: BackendEdgeTPU, Timeout: o.Watchdog, Reopen: open, Retry: o.Retry,
		Logger: o.Logger, OnChange: o.OnHealth,
	}
	if p.Fallback != nil {
		fo := o
		fo.Backend = p.FallbackBackend
		wo.FallbackName = p.FallbackBackend
		wo.Fallback = func() (Engine, error) { return NewEngine(p.Fallback, fo) }
	}
	return NewWatchdog(e, wo)
}
