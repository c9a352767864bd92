package infer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// Backend names accepted by Options.Backend.
const (
	BackendNative  = "native"
	BackendTFLite  = "tflite"
	BackendEdgeTPU = "edgetpu"
	// BackendAuto is resolved by Choose into one of the others.
	BackendAuto = "auto"
)

// Options configures Open.
type Options struct {
	// Backend is "native" (default, pure Go), "tflite" or "edgetpu"
	// (both need the agent built with -tags tflite).
	Backend string
	// Threads for the interpreter; 0 means 1.
	Threads int
	// XNNPACK runs backend tflite's model through TFLite's XNNPACK
	// delegate (float and 8-bit operators), where the library has it.
	XNNPACK bool
	// Device selects the Edge TPU for backend edgetpu: "" (the first
	// found), "usb", "usb:N", "pci" or "pci:N", as pycoral names them.
	Device string

	// The rest is read by Choose and Plan.NewEngine only.

	// CPUModel is the CPU model of an Edge TPU model; "" means the file
	// CPUTwinPath names, when it exists.
	CPUModel string
	// Watchdog is how long one Edge TPU inference may take before the TPU
	// counts as stalled; 0: only errors count. Retry is how often a failed
	// TPU is tried again; 0: never.
	Watchdog, Retry time.Duration
	// OnHealth is told every change of an Edge TPU engine's Health.
	OnHealth func(Health)
	Logger   *slog.Logger
}

// File is a model file read from disk and validated.
type File struct {
	Path   string
	Data   []byte
	SHA256 string
	Model  *tfl.Model
}

// ReadFile reads and parses a .tflite file.
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("infer: read model: %w", err)
	}
	m, err := tfl.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("infer: load %s: %w", path, err)
	}
	sum := sha256.Sum256(data)
	return &File{Path: path, Data: data, SHA256: hex.EncodeToString(sum[:]), Model: m}, nil
}

// NewEngine builds an engine for f with the backend opts name.
func NewEngine(f *File, opts Options) (Engine, error) {
	switch opts.Backend {
	case "", BackendNative:
		e, err := NewNative(f.Model, opts.Threads)
		if err != nil {
			return nil, fmt.Errorf("infer: load %s: %w", f.Path, err)
		}
		return e, nil
	case BackendTFLite, BackendEdgeTPU:
		return newCgoEngine(f, opts)
	case BackendAuto:
		return nil, fmt.Errorf("infer: backend auto is resolved by infer.Choose, not NewEngine")
	}
	return nil, fmt.Errorf("infer: unknown backend %q (want native, tflite, edgetpu or auto)", opts.Backend)
}
