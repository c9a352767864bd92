package infer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/internal/testdata"
)

func TestCPUTwinPath(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"/m/fruits_int8_edgetpu.tflite", "/m/fruits_int8.tflite"},
		{"fruits_edgetpu.tflite", "fruits.tflite"},
		{"/m/fruits.tflite", ""},
		{"/m/_edgetpu.tflite", ""},
		{"/m/fruits_edgetpu.tflite.bak", ""},
	} {
		if got := CPUTwinPath(tt.in); got != tt.want {
			t.Errorf("CPUTwinPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestChoose checks the backend decisions this build can make. Without
// the TFLite library auto never finds a TPU; the tagged tests cover the
// Edge TPU found (with the fake TPU of infer/delegate/delegatetest).
func TestChoose(t *testing.T) {
	tpu := testdata.Path(t, "models/coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite")
	cpu := strings.TrimSuffix(tpu, "_edgetpu.tflite") + ".tflite"
	other := testdata.Path(t, "models/coral/mobilenet_v2_1.0_224_quant.tflite")
	lonely := filepath.Join(t.TempDir(), "m_edgetpu.tflite")
	if b, err := os.ReadFile(tpu); err != nil || os.WriteFile(lonely, b, 0o644) != nil {
		t.Fatal("copy the Edge TPU model", err)
	}
	tests := []struct {
		name                    string
		model                   string
		opts                    Options
		backend, file, fallback string // fallback: the CPU model's path, "" for none
		reason, err             string
	}{
		{name: "auto, CPU model", model: other, opts: Options{Backend: BackendAuto},
			backend: BackendNative, file: other, reason: "native backend runs every operator"},
		{name: "auto, Edge TPU model, no TPU", model: tpu, opts: Options{Backend: BackendAuto},
			backend: BackendNative, file: cpu, reason: "no Edge TPU"},
		{name: "auto, Edge TPU model, named CPU model", model: tpu, opts: Options{Backend: BackendAuto, CPUModel: other},
			backend: BackendNative, file: other},
		{name: "auto, Edge TPU model alone", model: lonely, opts: Options{Backend: BackendAuto},
			err: "has no CPU model: put the .tflite it was compiled from beside it as " + strings.TrimSuffix(lonely, "_edgetpu.tflite") + ".tflite, or set model.cpu_model"},
		{name: "auto, missing CPU model", model: tpu, opts: Options{Backend: BackendAuto, CPUModel: "/nowhere/m.tflite"},
			err: "CPU model for " + tpu},
		{name: "auto, CPU model compiled too", model: tpu, opts: Options{Backend: BackendAuto, CPUModel: lonely},
			err: "is compiled for the Edge TPU too"},
		{name: "edgetpu finds the fallback", model: tpu, opts: Options{Backend: BackendEdgeTPU},
			backend: BackendEdgeTPU, file: tpu, fallback: cpu},
		{name: "edgetpu alone", model: lonely, opts: Options{Backend: BackendEdgeTPU},
			backend: BackendEdgeTPU, file: lonely},
		{name: "edgetpu, fallback compiled too", model: tpu, opts: Options{Backend: BackendEdgeTPU, CPUModel: lonely},
			err: "is compiled for the Edge TPU too"},
		{name: "native as configured", model: other, opts: Options{Backend: BackendNative},
			backend: BackendNative, file: other},
		{name: "default", model: other, backend: BackendNative, file: other},
		{name: "unknown", model: other, opts: Options{Backend: "gpu"}, err: `unknown backend "gpu"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ReadFile(tt.model)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Choose(f, tt.opts)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			fb := ""
			if p.Fallback != nil {
				fb = p.Fallback.Path
				if p.FallbackBackend != BackendNative {
					t.Errorf("fallback backend %s", p.FallbackBackend)
				}
			}
			if p.Backend != tt.backend || p.File.Path != tt.file || fb != tt.fallback || !strings.Contains(p.Reason, tt.reason) {
				t.Errorf("plan %s %s fallback %q (%s), want %s %s fallback %q (%s)", p.Backend, p.File.Path, fb, p.Reason, tt.backend, tt.file, tt.fallback, tt.reason)
			}
		})
	}
}

// TestPlanRunsCPUTwin builds the engine auto chose without a TPU and checks
// it is the CPU model's, unguarded.
func TestPlanRunsCPUTwin(t *testing.T) {
	f, err := ReadFile(testdata.Path(t, "models/coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Choose(f, Options{Backend: BackendAuto})
	if err != nil {
		t.Fatal(err)
	}
	e, err := p.NewEngine()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, ok := e.(*Watchdog); ok {
		t.Error("a CPU plan is wrapped in a watchdog")
	}
	if err := e.Invoke(); err != nil {
		t.Fatal(err)
	}
	if got := e.Outputs()[0].Shape; len(got) != 2 || got[1] != 1001 {
		t.Errorf("output shape %v", got)
	}
}

func TestNativeRuns(t *testing.T) {
	for _, tt := range []struct {
		model, err string
	}{
		{"models/coral/mobilenet_v2_1.0_224_quant.tflite", ""},
		{"models/coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite", "no kernel for operator"},
	} {
		f, err := ReadFile(testdata.Path(t, tt.model))
		if err != nil {
			t.Fatal(err)
		}
		err = NativeRuns(f.Model)
		if (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: %v, want %q", tt.model, err, tt.err)
		}
	}
}
