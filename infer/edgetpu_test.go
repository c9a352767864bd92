//go:build tflite && cgo

package infer_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/delegate/delegatetest"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// The Edge TPU path end to end on the fake TPU of delegatetest: libedgetpu's
// plugin entry points, loaded through TFLite's external delegate library,
// running the compiled model's edgetpu-custom-op by executing its CPU model
// in the real TFLite. Test names carry "EdgeTPU" for .ci/tflite_arm64.sh.

const (
	tpuModel = "models/coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite"
	cpuModel = "models/coral/mobilenet_v1_0.25_128_quant.tflite"
)

// edgeTPUFixture builds the fake TPU and points the delegate search at it;
// it returns the models and the fake's control file and directory.
func edgeTPUFixture(t *testing.T) (tpu, cpu *infer.File, control, dir string) {
	t.Helper()
	var err error
	if tpu, err = infer.ReadFile(testdata.Path(t, tpuModel)); err != nil {
		t.Fatal(err)
	}
	if cpu, err = infer.ReadFile(testdata.Path(t, cpuModel)); err != nil {
		t.Fatal(err)
	}
	dir = delegatetest.FakeTPU(t)
	control = delegatetest.Use(t, dir, cpu.Path)
	return tpu, cpu, control, dir
}

// photo returns an input for the CPU model and the CPU model's output for
// it on the backend (the fake TPU runs it on TFLite; on arm64 TFLite's
// default XNNPACK makes that differ from native by a few steps).
func photo(t *testing.T, cpu *infer.File, backend string) (in, out []byte) {
	t.Helper()
	e, err := infer.NewEngine(cpu, infer.Options{Backend: backend})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	in = make([]byte, len(e.Input(0)))
	for i := range in {
		in[i] = byte(i * 7 % 251) // a deterministic pattern the model must carry through
	}
	copy(e.Input(0), in)
	if err := e.Invoke(); err != nil {
		t.Fatal(err)
	}
	return in, bytes.Clone(e.Output(0))
}

func invokeWith(t *testing.T, e infer.Engine, in []byte) []byte {
	t.Helper()
	copy(e.Input(0), in)
	if err := e.Invoke(); err != nil {
		t.Fatalf("invoke: %v", err)
	}
	return bytes.Clone(e.Output(0))
}

// TestEdgeTPUBackendRunsTheModel: backend edgetpu on the compiled model
// gives the CPU model's outputs byte for byte, on the device asked for.
func TestEdgeTPUBackendRunsTheModel(t *testing.T) {
	tpu, cpu, _, dir := edgeTPUFixture(t)
	t.Setenv("FAKETPU_DEVICES", "pci:0,usb:0")
	in, want := photo(t, cpu, infer.BackendTFLite)
	e, err := infer.NewEngine(tpu, infer.Options{Backend: infer.BackendEdgeTPU, Device: "usb"})
	if err != nil {
		t.Fatal(err)
	}
	if got := invokeWith(t, e, in); !bytes.Equal(got, want) {
		t.Error("the Edge TPU output differs from the CPU model's")
	}
	c := delegatetest.ReadCounters(t, dir)
	if c.Claimed != 1 || c.Invokes != 1 || !strings.Contains(c.Device, "usb") {
		t.Errorf("fake TPU counters %+v: want the custom op claimed and run once on usb:0", c)
	}
	e.Close()
	if c := delegatetest.ReadCounters(t, dir); c.Destroyed != c.Created {
		t.Errorf("delegates created %d, destroyed %d after Close", c.Created, c.Destroyed)
	}
}

// TestEdgeTPUAutoChoice: auto takes the TPU when one answers, the CPU
// model when none does (or not the one asked for).
func TestEdgeTPUAutoChoice(t *testing.T) {
	tpu, cpu, _, _ := edgeTPUFixture(t)
	for _, tt := range []struct {
		devices, device string
		backend, file   string
		fallback        bool
	}{
		{"usb:0", "", infer.BackendEdgeTPU, tpu.Path, true},
		{"usb:0", "pci", infer.BackendNative, cpu.Path, false},
		{"", "", infer.BackendNative, cpu.Path, false},
	} {
		t.Setenv("FAKETPU_DEVICES", tt.devices)
		p, err := infer.Choose(tpu, infer.Options{Backend: infer.BackendAuto, Device: tt.device})
		if err != nil {
			t.Fatal(err)
		}
		if p.Backend != tt.backend || p.File.Path != tt.file || (p.Fallback != nil) != tt.fallback {
			t.Errorf("devices %q, device %q: plan %s %s (fallback %v): %s", tt.devices, tt.device, p.Backend, p.File.Path, p.Fallback != nil, p.Reason)
		}
		if tt.backend == infer.BackendNative && !strings.Contains(p.Reason, "no Edge TPU") {
			t.Errorf("reason %q does not say why", p.Reason)
		}
	}
}

// TestEdgeTPUWatchdogFailsOver runs the plan's engine on the fake TPU, makes
// the TPU hang, then fail, then come back: each frame is answered (by the
// CPU model while the TPU is out), and the engine returns to the TPU.
func TestEdgeTPUWatchdogFailsOver(t *testing.T) {
	tpu, cpu, control, dir := edgeTPUFixture(t)
	in, want := photo(t, cpu, infer.BackendTFLite)
	_, wantCPU := photo(t, cpu, infer.BackendNative) // auto's fallback
	var changes []infer.Health
	p, err := infer.Choose(tpu, infer.Options{
		Backend: infer.BackendAuto, Watchdog: 300 * time.Millisecond, Retry: 20 * time.Millisecond,
		OnHealth: func(h infer.Health) { changes = append(changes, h) },
	})
	if err != nil {
		t.Fatal(err)
	}
	e, err := p.NewEngine()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	w, ok := e.(*infer.Watchdog)
	if !ok {
		t.Fatalf("engine %T, want a watchdog", e)
	}
	if got := invokeWith(t, e, in); !bytes.Equal(got, want) {
		t.Fatal("TPU output differs from the CPU model's")
	}

	// A hung USB transfer: the frame is answered by the CPU model after
	// the deadline.
	delegatetest.SetControl(t, control, delegatetest.Stall)
	start := time.Now()
	if got := invokeWith(t, e, in); !bytes.Equal(got, wantCPU) {
		t.Error("the CPU model's answer after the stall differs")
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("answered after %v, before the deadline", d)
	}
	if h := w.Health(); h.State != infer.StateFallback || h.Active != infer.BackendNative || h.Stalls != 1 {
		t.Errorf("health after the stall %+v", h)
	}
	if !delegatetest.WaitStalling(t, dir, time.Minute) {
		t.Error("the fake TPU is not stalled")
	}
	// Retries open new interpreters on the (still hanging) TPU and give
	// up on each after the deadline; meanwhile frames go to the CPU.
	for range 3 {
		if got := invokeWith(t, e, in); !bytes.Equal(got, wantCPU) {
			t.Error("CPU answer differs")
		}
	}
	// The TPU answers again: the engine goes back to it.
	delegatetest.SetControl(t, control, delegatetest.OK)
	back := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && !back; time.Sleep(10 * time.Millisecond) {
		got := invokeWith(t, e, in)
		back = w.Health().State == infer.StateOK
		if w := map[bool][]byte{true: want, false: wantCPU}[back]; !bytes.Equal(got, w) {
			t.Fatalf("answer differs while recovering (on the TPU: %v)", back)
		}
	}
	if !back {
		t.Fatalf("never back on the TPU: %+v", w.Health())
	}

	// An unplugged accelerator: invoke errors, the CPU answers.
	delegatetest.SetControl(t, control, delegatetest.Fail)
	if got := invokeWith(t, e, in); !bytes.Equal(got, wantCPU) {
		t.Error("the CPU model's answer after the failure differs")
	}
	h := w.Health()
	if h.State != infer.StateFallback || h.Failures != 2 || h.Recovered != 1 || !strings.Contains(h.LastError, "USB transfer error") {
		t.Errorf("health after the failure %+v", h)
	}
	if len(changes) != 3 {
		t.Errorf("%d state changes reported, want 3 (fallback, ok, fallback): %+v", len(changes), changes)
	}
	delegatetest.SetControl(t, control, delegatetest.OK) // let a retry finish before Close
}
