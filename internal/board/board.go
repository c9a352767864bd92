package board

import (
	"fmt"
	"slices"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/internal/config"
)

// Status is the outcome of one check, from best to worst.
type Status int

const (
	OK   Status = iota // works
	Skip               // absent, and nothing needs it
	Warn               // works, but worse than it could
	Fail               // will not work
)

var statusNames = [...]string{OK: "ok", Skip: "skip", Warn: "warn", Fail: "fail"}

func (s Status) String() string {
	if s < OK || s > Fail {
		return fmt.Sprintf("Status(%d)", int(s))
	}
	return statusNames[s]
}

// Symbol is the checklist mark: ✓, –, ! or ✗.
func (s Status) Symbol() string {
	switch s {
	case OK:
		return "✓"
	case Skip:
		return "–"
	case Warn:
		return "!"
	}
	return "✗"
}

// MarshalText writes the status as "ok", "skip", "warn" or "fail".
func (s Status) MarshalText() ([]byte, error) {
	if s < OK || s > Fail {
		return nil, fmt.Errorf("board: no such status %d", int(s))
	}
	return []byte(statusNames[s]), nil
}

// UnmarshalText reads what MarshalText writes.
func (s *Status) UnmarshalText(b []byte) error {
	i := slices.Index(statusNames[:], string(b))
	if i < 0 {
		return fmt.Errorf("board: unknown status %q (want ok, skip, warn or fail)", b)
	}
	*s = Status(i)
	return nil
}

// Result is one line of the checklist.
type Result struct {
	// Group is the heading the result is listed under ("board",
	// "libraries", "edgetpu", "cameras", "config"); Diagnose fills it from
	// the Check when empty.
	Group  string `json:"group"`
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Detail says what was found, in a phrase.
	Detail string `json:"detail,omitempty"`
	// Fix says what to do about it; empty when Status is OK or Skip.
	Fix string `json:"fix,omitempty"`
}

// Check is one part of the checklist. Run looks at the machine through env
// and returns a result per thing it checked, none when nothing applies. It
// must not panic on anything it reads: a broken machine is what it is for.
type Check struct {
	Group string
	Run   func(env *Env) []Result
}

// Extra holds checks that optional parts of the agent add to `agent
// doctor`, run after the built-in checks and in order, so they can use what
// those found (Env.Libraries, Env.TPUs). Append to it from the init
// function of a build-tagged shim file (cmd/agent/doctor_tflite.go); the
// doctor command passes it to Diagnose as Options.Extra.
var Extra []Check

// Need says how much the agent, as configured, needs a part of the machine.
type Need int

const (
	NotNeeded Need = iota // a missing part is skipped
	Wanted                // a missing part is a warning: the agent falls back
	Required              // a missing part fails
)

// Missing is the status of a part that is not there.
func (n Need) Missing() Status {
	switch n {
	case Required:
		return Fail
	case Wanted:
		return Warn
	}
	return Skip
}

// Options says what Diagnose checks.
type Options struct {
	Host Host
	// ConfigPath is the agent config to check against the machine; "" for
	// none.
	ConfigPath string
	// Backends are the inference backends this binary has: native always,
	// tflite and edgetpu in the tflite build.
	Backends []string
	// Extra checks run after the built-in ones (normally board.Extra).
	Extra []Check
}

// Env is what checks see: the machine, the config, and what earlier checks
// found.
type Env struct {
	Host     *Host
	Backends []string

	// ConfigPath is Options.ConfigPath; Config is the loaded config, nil
	// when there is none or it did not load (ConfigErr).
	ConfigPath string
	Config     *config.Config
	ConfigErr  error
	// Model is the config's model, read; nil without a config.
	Model *Model

	// Libraries are the shared libraries of the tflite build, by file name
	// (LibTFLite, LibExternalDelegate, LibEdgeTPU), as the libraries checks
	// found them.
	Libraries map[string]*Library
	// TPUs are the Edge TPUs found.
	TPUs []TPU

	board boardInfo
	dpkg  *dpkgDB
}

// Model is the config's model as read from disk.
type Model struct {
	Path     string
	File     *infer.File // nil when Err
	Err      error
	Compiled bool // compiled by edgetpu_compiler (infer.IsEdgeTPU)
}

// Library is a shared library as found on the machine.
type Library struct {
	Name string
	// Path is where it was found (a path on the machine); "" when missing.
	Path string
	// Usable is false when it is missing or broken (wrong architecture,
	// missing symbols or dependencies).
	Usable bool
	// Package is the Debian package and version it came from ("" when it
	// is not from one).
	Package string
}

// TPU is an Edge TPU found on the machine.
type TPU struct {
	Kind string // "usb" or "pci"
	// Node is the device node libedgetpu opens (/dev/bus/usb/BBB/DDD or
	// /dev/apex_N); "" when there is none.
	Node string
	// Usable is true when the node exists and this user may open it.
	Usable bool
}

// Has reports whether this binary has the backend.
func (e *Env) Has(backend string) bool { return slices.Contains(e.Backends, backend) }

// backend is the config's backend, "" without a config.
func (e *Env) backend() string {
	if e.Config == nil {
		return ""
	}
	return e.Config.Model.Backend
}

func (e *Env) compiled() bool { return e.Model != nil && e.Model.Compiled }

// NeedTFLite is how much the agent needs the TensorFlow Lite C library:
// required by backends tflite and edgetpu, wanted by auto with an Edge TPU
// model (without it the CPU model runs) and by a tflite build without a
// config.
func (e *Env) NeedTFLite() Need {
	switch b := e.backend(); {
	case b == config.BackendTFLite || b == config.BackendEdgeTPU:
		return Required
	case b == config.BackendAuto && e.compiled():
		return Wanted
	case e.Config == nil && e.ConfigErr == nil && e.Has(infer.BackendTFLite):
		return Wanted
	}
	return NotNeeded
}

// NeedEdgeTPU is how much the agent needs an Edge TPU and its runtime
// (libedgetpu, the external delegate library): required by backend
// edgetpu, wanted by auto with an Edge TPU model.
func (e *Env) NeedEdgeTPU() Need {
	switch b := e.backend(); {
	case b == config.BackendEdgeTPU:
		return Required
	case b == config.BackendAuto && e.compiled():
		return Wanted
	}
	return NotNeeded
}

// needDelegate is how much the Edge TPU runtime libraries are needed: as
// much as the TPU, and wanted by a tflite build without a config (which
// may be given an Edge TPU model any time).
func (e *Env) needDelegate() Need {
	if n := e.NeedEdgeTPU(); n != NotNeeded {
		return n
	}
	if e.Config == nil && e.ConfigErr == nil && e.Has(infer.BackendEdgeTPU) {
		return Wanted
	}
	return NotNeeded
}

// Builtin is the built-in checklist, in the order it is printed.
func Builtin() []Check {
	return []Check{
		{Group: "board", Run: checkBoard},
		{Group: "libraries", Run: checkLibraries},
		{Group: "edgetpu", Run: checkEdgeTPU},
		{Group: "cameras", Run: checkCameras},
		{Group: "config", Run: checkConfig},
	}
}

// Diagnose runs the built-in checks and opts.Extra against opts.Host and
// returns every result.
func Diagnose(opts Options) *Report {
	h := opts.Host
	env := &Env{
		Host:       &h,
		Backends:   opts.Backends,
		ConfigPath: opts.ConfigPath,
		Libraries:  map[string]*Library{},
	}
	env.board = readBoard(env.Host)
	env.loadConfig()
	r := &Report{}
	for _, c := range append(Builtin(), opts.Extra...) {
		for _, res := range c.Run(env) {
			if res.Group == "" {
				res.Group = c.Group
			}
			r.Results = append(r.Results, res)
		}
	}
	return r
}

// loadConfig loads the config and reads its model, so that every check
// knows what the agent will need before it runs.
func (e *Env) loadConfig() {
	if e.ConfigPath == "" {
		return
	}
	e.Config, e.ConfigErr = config.Load(e.ConfigPath)
	if e.Config == nil {
		return
	}
	m := &Model{Path: e.Config.Model.Path}
	m.File, m.Err = infer.ReadFile(m.Path)
	if m.File != nil {
		m.Compiled = infer.IsEdgeTPU(m.File.Model)
	}
	e.Model = m
}

// Report is the outcome of Diagnose.
type Report struct {
	Results []Result
}

// Count returns how many results have status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, res := range r.Results {
		if res.Status == s {
			n++
		}
	}
	return n
}

// OK reports whether nothing failed.
func (r *Report) OK() bool { return r.Count(Fail) == 0 }

// Find returns the first result of the group with the name, or nil.
func (r *Report) Find(group, name string) *Result {
	for i := range r.Results {
		if r.Results[i].Group == group && r.Results[i].Name == name {
			return &r.Results[i]
		}
	}
	return nil
}
