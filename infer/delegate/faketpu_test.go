//go:build tflite && cgo

package delegate

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-tflite"
	"github.com/mattn/go-tflite/delegates"

	"github.com/fruitcam/fruitcam/infer/delegate/delegatetest"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

const (
	mobilenetEdgeTPU = "models/coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite"
	mobilenetCPU     = "models/coral/mobilenet_v1_0.25_128_quant.tflite"
)

// generous bounds a wait for something that happens at once unless the
// code is broken; it does not measure anything.
const generous = 60 * time.Second

// interp is a go-tflite interpreter with its model, options and error
// reporter, for driving a model by hand.
type interp struct {
	model *tflite.Model
	opts  *tflite.InterpreterOptions
	it    *tflite.Interpreter
	rep   *delegatetest.Reporter
}

// newInterp loads path with d (nil: none) and allocates the tensors. On
// failure it returns TensorFlow Lite's messages; the caller closes what it
// gets either way.
func newInterp(t *testing.T, path string, d delegates.Delegater) (*interp, string) {
	t.Helper()
	in := &interp{model: tflite.NewModelFromFile(path)}
	if in.model == nil {
		t.Fatalf("tflite.NewModelFromFile(%s): nil", path)
	}
	in.opts = tflite.NewInterpreterOptions()
	in.opts.SetNumThread(1)
	if d != nil {
		in.opts.AddDelegate(d)
	}
	in.rep = delegatetest.NewReporter(t, in.opts)
	if in.it = tflite.NewInterpreter(in.model, in.opts); in.it == nil {
		return in, "NewInterpreter: " + in.rep.Take()
	}
	if in.it.AllocateTensors() != tflite.OK {
		return in, "AllocateTensors: " + in.rep.Take()
	}
	return in, ""
}

// mustInterp is newInterp that fails the test on an error.
func mustInterp(t *testing.T, path string, d delegates.Delegater) *interp {
	t.Helper()
	in, msg := newInterp(t, path, d)
	if msg != "" {
		in.close()
		t.Fatalf("%s: %s", path, msg)
	}
	return in
}

// close deletes the interpreter, then the options, the model and the
// reporter's buffer: the delegate may be deleted after it.
func (in *interp) close() {
	if in.it != nil {
		in.it.Delete()
	}
	in.opts.Delete()
	in.model.Delete()
	in.rep.Free()
}

// run sets input 0 to x, invokes and returns a copy of output 0, or
// TensorFlow Lite's messages.
func (in *interp) run(t *testing.T, x []byte) ([]byte, string) {
	t.Helper()
	in.setInput(t, x)
	if in.it.Invoke() != tflite.OK {
		return nil, in.rep.Take()
	}
	return in.output(t), ""
}

func (in *interp) setInput(t *testing.T, x []byte) {
	t.Helper()
	if st := in.it.GetInputTensor(0).CopyFromBuffer(x); st != tflite.OK {
		t.Fatalf("input of %d bytes: %v (the tensor holds %d)", len(x), st, in.it.GetInputTensor(0).ByteSize())
	}
}

// output is a copy of output 0.
func (in *interp) output(t *testing.T) []byte {
	t.Helper()
	out := in.it.GetOutputTensor(0)
	got := make([]byte, out.ByteSize())
	if st := out.CopyToBuffer(&got[0]); st != tflite.OK {
		t.Fatalf("output: %v", st)
	}
	return got
}

func (in *interp) mustRun(t *testing.T, x []byte) []byte {
	t.Helper()
	got, msg := in.run(t, x)
	if msg != "" {
		t.Fatalf("invoke: %s", msg)
	}
	return got
}

// testInputs are a few deterministic inputs of n bytes: zeros, a ramp and
// pseudo-random bytes.
func testInputs(n int) [][]byte {
	zeros, ramp, random := make([]byte, n), make([]byte, n), make([]byte, n)
	x := uint32(12345)
	for i := range n {
		ramp[i] = byte(i * 7 / 3)
		x = x*1664525 + 1013904223
		random[i] = byte(x >> 24)
	}
	return [][]byte{zeros, ramp, random}
}

// useFake builds the fake TPU, makes it the libedgetpu found, with the
// CPU twin of the coral mobilenet, and returns its dir and control file.
func useFake(t *testing.T) (dir, control string) {
	t.Helper()
	twin := testdata.Path(t, mobilenetCPU)
	dir = delegatetest.FakeTPU(t)
	return dir, delegatetest.Use(t, dir, twin)
}

func TestEdgeTPUFakeLoadsThroughNewEdgeTPU(t *testing.T) {
	dir, _ := useFake(t)
	d, err := NewEdgeTPU("usb")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.Plugin(), filepath.Join(dir, EdgeTPULibrary); got != want {
		t.Errorf("Plugin() = %s, want %s", got, want)
	}
	got := delegatetest.ReadCounters(t, dir)
	if got.Created != 1 || got.Destroyed != 0 || got.Device != "/sys/bus/usb/devices/faketpu-0" {
		t.Errorf("after NewEdgeTPU: %+v, want one delegate on /sys/bus/usb/devices/faketpu-0", got)
	}
	info, ok := d.EdgeTPUInfo()
	if !ok {
		t.Fatal("EdgeTPUInfo: false for a delegate of NewEdgeTPU")
	}
	tfl := loadedTFLite()
	if info.Library != d.Plugin() || info.Version != delegatetest.Coral16Version || info.Runtime != 14 ||
		!strings.Contains(info.Release, "libedgetpu 16.0") || !strings.Contains(info.Release, "TensorFlow 2.5.0") ||
		info.TFLiteVersion == "" || info.TFLiteVersion != tfl.version || info.TFLite != tfl.path ||
		!info.Delegate || info.Device != "usb" {
		t.Errorf("EdgeTPUInfo = %+v: want the fake, runtime 14, Coral's 16.0, this process's TFLite %+v, a delegate for usb", info, tfl)
	}
	if want := []EdgeTPUDevice{{Type: "usb", Path: "/sys/bus/usb/devices/faketpu-0", Selector: "usb:0"}}; !equalDevices(info.Devices, want) {
		t.Errorf("Devices = %+v, want %+v", info.Devices, want)
	}
	d.Delete()
	if got := delegatetest.ReadCounters(t, dir); got.Destroyed != 1 {
		t.Errorf("after Delete: %+v, want the delegate destroyed", got)
	}
}

func equalDevices(a, b []EdgeTPUDevice) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestEdgeTPUDeviceSelection(t *testing.T) {
	dir, _ := useFake(t)
	tests := []struct {
		devices, device string
		want            string // device path; "" for no TPU found
	}{
		{"usb:0", "", "/sys/bus/usb/devices/faketpu-0"},
		{"usb:0", "usb", "/sys/bus/usb/devices/faketpu-0"},
		{"usb:0", "usb:0", "/sys/bus/usb/devices/faketpu-0"},
		{"usb:0", ":0", "/sys/bus/usb/devices/faketpu-0"},
		{"usb:0", "usb:1", ""},
		{"usb:0", "pci", ""},
		{"usb:0", ":1", ""},
		{"usb,usb", "usb:1", "/sys/bus/usb/devices/faketpu-1"},
		{"usb:0,pci:0", "pci", "/dev/apex_0"},
		{"usb:0,pci:0", "pci:0", "/dev/apex_0"},
		{"usb:0,pci:0", ":1", "/dev/apex_0"},
		{"usb:0,pci:0", "", "/sys/bus/usb/devices/faketpu-0"},
		{"pci:0,usb:4", "usb", "/sys/bus/usb/devices/faketpu-4"},
		{"pci:0,pci:1", "pci:1", "/dev/apex_1"},
		{"pci:0,pci:1", "usb", ""},
		{"", "", ""},
		{"", "usb", ""},
	}
	for _, tt := range tests {
		t.Run(tt.devices+"/"+tt.device, func(t *testing.T) {
			t.Setenv("FAKETPU_DEVICES", tt.devices)
			d, err := NewEdgeTPU(tt.device)
			if tt.want == "" {
				if err == nil {
					d.Delete()
					t.Fatal("no error")
				}
				which := "Edge TPU"
				if tt.device != "" {
					which = `Edge TPU "` + tt.device + `"`
				}
				if !errors.Is(err, ErrNoDelegate) || !strings.Contains(err.Error(), "no "+which+" found by "+filepath.Join(dir, EdgeTPULibrary)) {
					t.Errorf("error %q: want no %s found, wrapping ErrNoDelegate", err, which)
				}
				enumerates := "it enumerates no Edge TPU"
				if tt.devices != "" {
					enumerates = "it enumerates " + strings.Split(tt.devices, ",")[0][:3] + ":0 at "
				}
				if !strings.Contains(err.Error(), enumerates) {
					t.Errorf("error %q does not say what libedgetpu enumerates (%q)", err, enumerates)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer d.Delete()
			if got := delegatetest.ReadCounters(t, dir).Device; got != tt.want {
				t.Errorf("device %q among %q opened %s, want %s", tt.device, tt.devices, got, tt.want)
			}
		})
	}
}

func TestEdgeTPUVersionCheck(t *testing.T) {
	dir, _ := useFake(t)
	lib := filepath.Join(dir, EdgeTPULibrary)
	real := loadedTFLite()
	const coral13 = "BuildLabel(COMPILER=5.4.0 20160609,DATE=redacted,TIME=redacted,CL_NUMBER=291256449), RuntimeVersion(13)"
	const source = "BuildLabel(COMPILER=14.2.0,DATE=Feb 22 2026,TIME=09:51:57), RuntimeVersion(14)"
	old := tfliteLib{path: "/opt/tflite-2.4/libtensorflowlite_c.so", version: "2.4.1"}
	tests := []struct {
		name    string
		version string // FAKETPU_RUNTIME_VERSION
		tflite  tfliteLib
		refuse  []string // in the error; nil: accepted
		note    string   // in EdgeTPUInfo.Note when accepted
	}{
		{"coral 16.0 with this TFLite", delegatetest.Coral16Version, real, nil, ""},
		{"coral 16.0 with older TFLite", delegatetest.Coral16Version, old,
			[]string{lib, "2.4.1", old.path, "libedgetpu 16.0", "2.5.0", "Unsupported data type"}, ""},
		{"coral 16.0 with TFLite 2.12", delegatetest.Coral16Version, tfliteLib{path: "/x/libtensorflowlite_c.so", version: "2.12.0"},
			[]string{lib, "2.12.0", "/x/libtensorflowlite_c.so", "older than 2.12.0", "edgetpu#812"}, ""},
		{"coral 13.0 with this TFLite", coral13, real,
			[]string{lib, "libedgetpu 13.0", real.version, "apt-get install libedgetpu1-std"}, ""},
		{"source build with this TFLite", source, real, nil, "built from source works only with the TensorFlow Lite release it was built against"},
		{"source build with older TFLite", source, old, []string{"2.4.1", "TensorFlow Lite 2.5.0 or later"}, ""},
		{"no runtime version", "libedgetpu of another kind", real, nil, "cannot be checked"},
		{"future runtime", "BuildLabel(COMPILER=15), RuntimeVersion(15)", real, nil, "newer than any libedgetpu known here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("FAKETPU_RUNTIME_VERSION", tt.version)
			created := delegatetest.ReadCounters(t, dir).Created
			d, info, err := newEdgeTPU("usb", tt.tflite)
			if info.Version != tt.version || info.TFLiteVersion != tt.tflite.version || info.TFLite != tt.tflite.path {
				t.Errorf("info %+v does not show both libraries", info)
			}
			if tt.refuse == nil {
				if err != nil {
					t.Fatal(err)
				}
				defer d.Delete()
				if !strings.Contains(info.Note, tt.note) {
					t.Errorf("Note %q does not contain %q", info.Note, tt.note)
				}
				return
			}
			if err == nil {
				d.Delete()
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrEdgeTPUVersion) {
				t.Errorf("error %q is not ErrEdgeTPUVersion", err)
			}
			for _, s := range tt.refuse {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if got := delegatetest.ReadCounters(t, dir).Created; got != created {
				t.Errorf("a refused combination created a delegate (%d, was %d)", got, created)
			}
		})
	}
}

func TestEdgeTPUFakeMatchesCPU(t *testing.T) {
	dir, _ := useFake(t)
	edgetpuModel := testdata.Path(t, mobilenetEdgeTPU)
	cpu := mustInterp(t, os.Getenv("FAKETPU_MODEL"), nil)
	defer cpu.close()
	inputs := testInputs(int(cpu.it.GetInputTensor(0).ByteSize()))
	want := make([][]byte, len(inputs))
	for i, x := range inputs {
		want[i] = cpu.mustRun(t, x)
	}
	if bytes.Equal(want[1], want[2]) {
		t.Fatal("the CPU model gives one output for different inputs: the comparison would prove nothing")
	}

	d, err := NewEdgeTPU("")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Delete()
	tpu := mustInterp(t, edgetpuModel, d)
	defer tpu.close()
	for i, x := range inputs {
		if got := tpu.mustRun(t, x); !bytes.Equal(got, want[i]) {
			t.Errorf("input %d: the Edge TPU model through the fake differs from the CPU model", i)
		}
	}
	if got := delegatetest.ReadCounters(t, dir); got.Claimed != 1 || got.Invokes != int32(len(inputs)) || got.Failures != 0 {
		t.Errorf("counters %+v: want 1 node claimed, %d invokes, no failure", got, len(inputs))
	}
}

func TestEdgeTPUFakeFailAndStall(t *testing.T) {
	dir, control := useFake(t)
	edgetpuModel := testdata.Path(t, mobilenetEdgeTPU)
	cpu := mustInterp(t, os.Getenv("FAKETPU_MODEL"), nil)
	defer cpu.close()
	x := testInputs(int(cpu.it.GetInputTensor(0).ByteSize()))[2]
	want := cpu.mustRun(t, x)

	d, err := NewEdgeTPU("usb:0")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Delete()
	tpu := mustInterp(t, edgetpuModel, d)
	defer tpu.close()
	if got := tpu.mustRun(t, x); !bytes.Equal(got, want) {
		t.Fatal("the fake's first output differs from the CPU model's")
	}

	// An unplugged USB accelerator: the invoke fails with libedgetpu's
	// words, and works again once the TPU is back.
	delegatetest.SetControl(t, control, delegatetest.Fail)
	if _, msg := tpu.run(t, x); !strings.Contains(msg, "USB transfer error") || !strings.Contains(msg, "EdgeTpuDelegateForCustomOp") {
		t.Errorf("failed invoke reported %q: want libedgetpu's USB transfer error from node EdgeTpuDelegateForCustomOp", msg)
	} else if got := ExplainEdgeTPUError(msg); !strings.Contains(got, "the Edge TPU stopped answering") {
		t.Errorf("ExplainEdgeTPUError(%q) = %q: no USB hint", msg, got)
	}
	delegatetest.SetControl(t, control, delegatetest.OK)
	if got := tpu.mustRun(t, x); !bytes.Equal(got, want) {
		t.Error("after a failure the fake's output differs from the CPU model's")
	}

	// A hung transfer: the invoke blocks until released.
	type result struct {
		out []byte
		msg string
	}
	stall := func(release string) result {
		t.Helper()
		delegatetest.SetControl(t, control, delegatetest.Stall)
		tpu.setInput(t, x)
		done := make(chan tflite.Status, 1)
		go func() { done <- tpu.it.Invoke() }()
		// However this ends, the invoke returns before the interpreter
		// is deleted.
		var st tflite.Status
		returned := false
		defer func() {
			if !returned {
				delegatetest.SetControl(t, control, delegatetest.OK)
				<-done
			}
		}()
		stalled := delegatetest.WaitStalling(t, dir, generous)
		select {
		case st = <-done:
			returned = true
			t.Fatalf("a stalled invoke returned %v (%q)", st, tpu.rep.Take())
		default:
		}
		if !stalled {
			t.Fatalf("the invoke did not stall within %v", generous)
		}
		delegatetest.SetControl(t, control, release)
		select {
		case st = <-done:
			returned = true
		case <-time.After(generous):
			t.Fatalf("the invoke was still stalled %v after the release", generous)
		}
		if st != tflite.OK {
			return result{msg: tpu.rep.Take()}
		}
		return result{out: tpu.output(t)}
	}
	if r := stall(delegatetest.OK); r.msg != "" || !bytes.Equal(r.out, want) {
		t.Errorf("released stall: %q, output equal to the CPU's: %v", r.msg, bytes.Equal(r.out, want))
	}
	if r := stall(delegatetest.Fail); !strings.Contains(r.msg, "USB transfer error") {
		t.Errorf("stall ended by a failure reported %q", r.msg)
	}
	delegatetest.SetControl(t, control, delegatetest.OK)

	if got := delegatetest.ReadCounters(t, dir); got.Invokes != 5 || got.Failures != 2 || got.Stalls != 2 || got.Stalling {
		t.Errorf("counters %+v: want 5 invokes, 2 failures, 2 stalls, none stalling now", got)
	}
}

func TestEdgeTPUFakeRefusesWhatItCannotEmulate(t *testing.T) {
	useFake(t)
	edgetpuModel := testdata.Path(t, mobilenetEdgeTPU)
	fizzbuzzTPU := testdata.Path(t, "models/go-tflite/fizzbuzz_model_quant_edgetpu.tflite")
	fizzbuzzFloat := testdata.Path(t, "models/go-tflite/fizzbuzz_model.tflite")
	otherMobilenet := testdata.Path(t, "models/coral/mobilenet_v1_0.5_160_quant.tflite")
	missing := filepath.Join(t.TempDir(), "missing.tflite")
	tests := []struct {
		name, model, twin string
		want              []string
	}{
		{"float twin of a quantised model", fizzbuzzTPU, fizzbuzzFloat,
			[]string{"input 0 of the edgetpu-custom-op is UINT8[1,7]", "FLOAT32", fizzbuzzFloat, "FAKETPU_MODEL must be the quantised model"}},
		{"twin of another shape", edgetpuModel, otherMobilenet,
			[]string{"input 0 of the edgetpu-custom-op is UINT8[1,128,128,3]", "UINT8[1,160,160,3]"}},
		{"no twin", edgetpuModel, "", []string{"FAKETPU_MODEL is not set"}},
		{"missing twin", edgetpuModel, missing, []string{"cannot read the CPU twin " + missing}},
		{"Edge TPU model as twin", edgetpuModel, edgetpuModel, []string{"does not run on the CPU", "edgetpu-custom-op"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("FAKETPU_MODEL", tt.twin)
			d, err := NewEdgeTPU("")
			if err != nil {
				t.Fatal(err)
			}
			defer d.Delete()
			in, msg := newInterp(t, tt.model, d)
			in.close()
			for _, s := range tt.want {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not contain %q", msg, s)
				}
			}
		})
	}
}

func TestEdgeTPUFakeBatch(t *testing.T) {
	useFake(t)
	d, err := NewEdgeTPU("")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Delete()

	// Like libedgetpu, the fake runs a batch along dimension 0 when the
	// compiled model has batch 1: here an int8 twin that can take it.
	twin := testdata.Path(t, "models/tflm/hello_world_int8.tflite")
	t.Setenv("FAKETPU_MODEL", twin)
	wrapped := wrapEdgeTPU(t, twin, 1)
	batch := []byte{0x80, 0xf0, 0x00, 0x10, 0x7f}
	var want, got []byte
	for _, run := range []struct {
		path string
		d    delegates.Delegater
		out  *[]byte
	}{{twin, nil, &want}, {wrapped, d, &got}} {
		in := mustInterp(t, run.path, run.d)
		if st := in.it.ResizeInputTensor(0, []int32{int32(len(batch)), 1}); st != tflite.OK {
			in.close()
			t.Fatalf("%s: ResizeInputTensor: %v: %s", run.path, st, in.rep.Take())
		}
		if st := in.it.AllocateTensors(); st != tflite.OK {
			msg := in.rep.Take()
			in.close()
			t.Fatalf("%s: batch %d: %s", run.path, len(batch), msg)
		}
		*run.out = in.mustRun(t, batch)
		if shape := in.it.GetOutputTensor(0).Shape(); len(shape) != 2 || shape[0] != len(batch) {
			t.Errorf("%s: output shape %v, want batch %d", run.path, shape, len(batch))
		}
		in.close()
	}
	if !bytes.Equal(got, want) {
		t.Errorf("batch of %d through the fake = %v, on the CPU %v", len(batch), got, want)
	}

	// The coral mobilenet ends in a reshape to [1,1001]: its batch is 1,
	// on a real Edge TPU too, and the fake says so rather than run part of
	// the batch.
	t.Setenv("FAKETPU_MODEL", testdata.Path(t, mobilenetCPU))
	tpu := mustInterp(t, testdata.Path(t, mobilenetEdgeTPU), d)
	defer tpu.close()
	if st := tpu.it.ResizeInputTensor(0, []int32{2, 128, 128, 3}); st != tflite.OK {
		t.Fatalf("ResizeInputTensor: %v: %s", st, tpu.rep.Take())
	}
	if st := tpu.it.AllocateTensors(); st == tflite.OK {
		t.Errorf("batch 2 allocated; output shape %v", tpu.it.GetOutputTensor(0).Shape())
	} else if msg := tpu.rep.Take(); !strings.Contains(msg, "cannot take batch 2") || !strings.Contains(msg, "RESHAPE") {
		t.Errorf("batch 2: %q, want the twin's refusal", msg)
	}
}

func TestEdgeTPUFakeRefusesSplitGraph(t *testing.T) {
	useFake(t)
	twin := testdata.Path(t, "models/tflm/hello_world_int8.tflite")
	t.Setenv("FAKETPU_MODEL", twin)
	d, err := NewEdgeTPU("")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Delete()
	in, msg := newInterp(t, wrapEdgeTPU(t, twin, 2), d)
	in.close()
	if !strings.Contains(msg, "2 edgetpu-custom-op nodes") {
		t.Errorf("a model of two edgetpu-custom-ops: %q, want the fake's refusal", msg)
	}
}

// wrapEdgeTPU writes a model shaped like edgetpu_compiler's output for
// twin: its inputs and outputs, computed by ops edgetpu-custom-op nodes
// in a chain (one for a model mapped entirely; more for a split one, the
// intermediate tensors shaped like the outputs). The custom options are
// not an Edge TPU executable: only the fake can run it.
func wrapEdgeTPU(t *testing.T, twin string, ops int) string {
	t.Helper()
	data, err := os.ReadFile(twin)
	if err != nil {
		t.Fatal(err)
	}
	m, err := tfl.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	sg := m.Subgraphs[0]
	if len(sg.Inputs) != 1 || len(sg.Outputs) != 1 {
		t.Fatalf("%s: %d inputs, %d outputs: wrapEdgeTPU takes one of each", twin, len(sg.Inputs), len(sg.Outputs))
	}
	tensor := func(i int, name string) tfl.Tensor {
		src := sg.Tensors[i]
		return tfl.Tensor{Name: name, Type: src.Type, Shape: src.Shape, Quant: src.Quant}
	}
	w := tfl.Subgraph{Name: "main", Tensors: []tfl.Tensor{tensor(sg.Inputs[0], "input")}, Inputs: []int{0}}
	for i := range ops {
		w.Tensors = append(w.Tensors, tensor(sg.Outputs[0], fmt.Sprintf("output%d", i)))
		w.Operators = append(w.Operators, tfl.Operator{Inputs: []int{i}, Outputs: []int{i + 1}, CustomOptions: []byte("faketpu")})
	}
	w.Outputs = []int{ops}
	out, err := tfl.Write(&tfl.Model{
		Description:   "faketpu test model",
		OperatorCodes: []tfl.OperatorCode{{Builtin: tfl.OpCustom, Custom: "edgetpu-custom-op", Version: 1}},
		Subgraphs:     []tfl.Subgraph{w},
		Buffers:       [][]byte{nil},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(twin), ".tflite")+"_edgetpu.tflite")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEdgeTPUProbe(t *testing.T) {
	dir, _ := useFake(t)
	info, err := ProbeEdgeTPU("usb")
	if err != nil {
		t.Fatal(err)
	}
	if info.Library != filepath.Join(dir, EdgeTPULibrary) || !info.Delegate || info.Runtime != 14 || len(info.Devices) != 1 {
		t.Errorf("ProbeEdgeTPU = %+v: want the fake, a delegate, runtime 14, one device", info)
	}
	if got := delegatetest.ReadCounters(t, dir); got.Created != got.Destroyed {
		t.Errorf("ProbeEdgeTPU left a delegate: %+v", got)
	}

	t.Setenv("FAKETPU_DEVICES", "")
	info, err = ProbeEdgeTPU("")
	if !errors.Is(err, ErrNoDelegate) || info.Delegate || info.Devices == nil || len(info.Devices) != 0 || info.Version == "" {
		t.Errorf("ProbeEdgeTPU without a TPU = %+v, %v: want ErrNoDelegate, the version and an empty device list", info, err)
	}

	t.Setenv("LD_LIBRARY_PATH", t.TempDir())
	info, err = ProbeEdgeTPU("")
	switch {
	case info.Library != "":
		t.Logf("libedgetpu installed on this machine: %s", info.Library)
	case !errors.Is(err, os.ErrNotExist) || info.TFLiteVersion == "":
		t.Errorf("ProbeEdgeTPU without libedgetpu = %+v, %v: want not found, and the TFLite version", info, err)
	}
}
