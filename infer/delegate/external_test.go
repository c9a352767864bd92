//go:build tflite && cgo

package delegate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/mattn/go-tflite"
	"github.com/mattn/go-tflite/delegates"

	"github.com/fruitcam/fruitcam/infer/delegate/delegatetest"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// Compile-time check: External goes into InterpreterOptions.AddDelegate.
var _ delegates.Delegater = (*External)(nil)

// pluginCounts are the exported globals of testdata/countplugin.c.
type pluginCounts struct {
	created, prepared, destroyed, options int32
	record                                string
}

// buildPlugin compiles src (a C file) into a shared library in a fresh
// temporary directory (see delegatetest.BuildPlugin).
func buildPlugin(t *testing.T, src string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(src), ".c")+".so")
	delegatetest.BuildPlugin(t, src, out)
	return out
}

// readCounts reads the plugin's globals through dlsym; dlopen of the same
// path returns the copy the external delegate library loaded.
func readCounts(t *testing.T, lib string) pluginCounts {
	t.Helper()
	h, err := dlopen(lib)
	if err != nil {
		t.Fatal(err)
	}
	defer dlclose(h)
	i32 := func(name string) int32 {
		p := dlsym(h, name)
		if p == nil {
			t.Fatalf("%s does not export %s", lib, name)
		}
		return *(*int32)(p)
	}
	rec := dlsym(h, "countplugin_record")
	if rec == nil {
		t.Fatalf("%s does not export countplugin_record", lib)
	}
	b := unsafe.Slice((*byte)(rec), 256)
	if n := strings.IndexByte(string(b), 0); n >= 0 {
		b = b[:n]
	}
	return pluginCounts{
		created:   i32("countplugin_created"),
		prepared:  i32("countplugin_prepared"),
		destroyed: i32("countplugin_destroyed"),
		options:   i32("countplugin_options"),
		record:    string(b),
	}
}

// runHelloWorld runs the int8 hello_world model once per input, with d
// (nil: none) added to the interpreter options, and returns the outputs.
// The interpreter and options are deleted before it returns.
func runHelloWorld(t *testing.T, model []byte, d delegates.Delegater, inputs []int8) []int8 {
	t.Helper()
	m := tflite.NewModel(model)
	if m == nil {
		t.Fatal("tflite.NewModel: nil")
	}
	defer m.Delete()
	o := tflite.NewInterpreterOptions()
	defer o.Delete()
	o.SetNumThread(1)
	if d != nil {
		o.AddDelegate(d)
	}
	it := tflite.NewInterpreter(m, o)
	if it == nil {
		t.Fatal("tflite.NewInterpreter: nil")
	}
	defer it.Delete()
	if st := it.AllocateTensors(); st != tflite.OK {
		t.Fatalf("AllocateTensors: %v", st)
	}
	in, out := it.GetInputTensor(0), it.GetOutputTensor(0)
	if in.Type() != tflite.Int8 || in.ByteSize() != 1 || out.Type() != tflite.Int8 || out.ByteSize() != 1 {
		t.Fatalf("hello_world: input %v %d bytes, output %v %d bytes, want one int8 each", in.Type(), in.ByteSize(), out.Type(), out.ByteSize())
	}
	got := make([]int8, len(inputs))
	for i, x := range inputs {
		if err := in.SetInt8s([]int8{x}); err != nil {
			t.Fatal(err)
		}
		if st := it.Invoke(); st != tflite.OK {
			t.Fatalf("Invoke: %v", st)
		}
		got[i] = out.Int8s()[0]
	}
	return got
}

func TestExternalCountPlugin(t *testing.T) {
	plugin := buildPlugin(t, "testdata/countplugin.c")
	modelPath := testdata.Path(t, "models/tflm/hello_world_int8.tflite")
	model, err := os.ReadFile(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	inputs := []int8{-128, -100, -50, -1, 0, 1, 50, 100, 127}
	want := runHelloWorld(t, model, nil, inputs)

	d, err := NewExternal(plugin, map[string]string{"record": "usb:1", "other": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if got := readCounts(t, plugin); got != (pluginCounts{created: 1, options: 2, record: "usb:1"}) {
		t.Errorf("after NewExternal: plugin counts %+v, want created 1, 2 options, record usb:1", got)
	}
	got := runHelloWorld(t, model, d, inputs)
	for i := range inputs {
		if got[i] != want[i] {
			t.Errorf("input %d: output %d with the delegate, %d without", inputs[i], got[i], want[i])
		}
	}
	if got := readCounts(t, plugin); got.created != 1 || got.prepared != 1 || got.destroyed != 0 {
		t.Errorf("after the interpreter is deleted: plugin counts %+v, want created 1, prepared 1, destroyed 0", got)
	}
	d.Delete()
	if got := readCounts(t, plugin); got.created != 1 || got.prepared != 1 || got.destroyed != 1 {
		t.Errorf("after Delete: plugin counts %+v, want created 1, prepared 1, destroyed 1", got)
	}
	if d.Ptr() != nil {
		t.Error("Ptr after Delete is not nil")
	}
	d.Delete() // a second Delete does nothing
	if got := readCounts(t, plugin); got.destroyed != 1 {
		t.Errorf("after a second Delete: destroyed %d, want 1", got.destroyed)
	}
}

func TestExternalErrors(t *testing.T) {
	plugin := buildPlugin(t, "testdata/countplugin.c")
	notPlugin := filepath.Join(t.TempDir(), "notplugin.c")
	if err := os.WriteFile(notPlugin, []byte("int notplugin_value = 1;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notPluginLib := buildPlugin(t, notPlugin)
	missing := filepath.Join(t.TempDir(), "libmissing.so")

	tests := []struct {
		name    string
		lib     string
		options map[string]string
		want    string // in the error
		is      error
	}{
		{"plugin refuses", plugin, map[string]string{"fail": "1"}, plugin + ` with options {fail="1"}`, ErrNoDelegate},
		{"plugin file missing", missing, nil, "plugin library " + missing + " does not exist", os.ErrNotExist},
		{"no plugin symbols", notPluginLib, nil, notPluginLib + " is not a TFLite delegate plugin: it does not export tflite_plugin_create_delegate", nil},
		{"no library", "", nil, "no plugin library given", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := NewExternal(tt.lib, tt.options)
			if err == nil {
				d.Delete()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
		})
	}
	if got := readCounts(t, plugin); got.created != 0 || got.destroyed != 0 {
		t.Errorf("refusing plugin: counts %+v, want nothing created or destroyed", got)
	}
}

func TestFindExternalDelegateLibrary(t *testing.T) {
	// The test binary links libtensorflowlite_c.so, so the library beside
	// it is found first.
	p, err := FindExternalDelegateLibrary()
	if err != nil {
		testdata.Missing(t, err)
	}
	if filepath.Base(p) != ExternalDelegateLibrary {
		t.Errorf("FindExternalDelegateLibrary = %s, want a %s", p, ExternalDelegateLibrary)
	}
}
