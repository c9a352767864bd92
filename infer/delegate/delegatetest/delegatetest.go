//go:build tflite && cgo

package delegatetest

/*
#cgo LDFLAGS: -ldl -ltensorflowlite_c
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tensorflow/lite/c/c_api.h"

static void* dt_dlopen(const char* path) { return dlopen(path, RTLD_NOW | RTLD_LOCAL); }
static const char* dt_dlerror(void) { const char* e = dlerror(); return e ? e : "unknown dlopen error"; }
static void* dt_dlsym(void* h, const char* name) { return dlsym(h, name); }
static void dt_dlclose(void* h) { dlclose(h); }

// dt_errbuf collects what TFLite reports: go-tflite v1.0.5's own reporter
// formats the va_list wrongly.
typedef struct { char buf[4096]; size_t n; } dt_errbuf;

static void dt_report(void* user, const char* format, va_list args) {
	dt_errbuf* e = (dt_errbuf*)user;
	size_t room = sizeof(e->buf) - e->n;
	int k;
	if (room < 3) return;
	if (e->n > 0) { e->buf[e->n++] = ';'; e->buf[e->n++] = ' '; room -= 2; }
	k = vsnprintf(e->buf + e->n, room, format, args);
	if (k < 0) return;
	e->n += (size_t)k < room ? (size_t)k : room - 1;
}

static void dt_set_reporter(void* options, dt_errbuf* e) {
	TfLiteInterpreterOptionsSetErrorReporter((TfLiteInterpreterOptions*)options, dt_report, e);
}
*/
import "C"

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	tflite "github.com/mattn/go-tflite"

	"github.com/fruitcam/fruitcam/internal/testdata"
)

// LibraryName is the file FakeTPU writes: libedgetpu's.
const LibraryName = "libedgetpu.so.1"

// Coral16Version is edgetpu_version() of Coral's libedgetpu 16.0 package,
// the fake's default.
const Coral16Version = "BuildLabel(COMPILER=6.3.0 20170516,DATE=redacted,TIME=redacted), RuntimeVersion(14)"

// The states of the fake's control file (see SetControl).
const (
	OK    = "ok"    // invokes run
	Fail  = "fail"  // invokes fail as with an unplugged USB accelerator
	Stall = "stall" // invokes block until the state changes
)

// BuildPlugin compiles the C file src into the shared library out with
// $CC (gcc by default), the TFLite C headers (IncludeDirs) and the extra
// arguments (libraries, linker flags) after the source.
func BuildPlugin(t testing.TB, src, out string, extra ...string) {
	t.Helper()
	cc := "gcc"
	if f := strings.Fields(os.Getenv("CC")); len(f) > 0 {
		cc = f[0]
	}
	ccPath, err := exec.LookPath(cc)
	if err != nil {
		testdata.Missing(t, fmt.Errorf("delegatetest: %s builds the test plugin: %w (%w)", cc, err, os.ErrNotExist))
	}
	args := []string{"-shared", "-fPIC", "-Wall", "-o", out}
	for _, d := range IncludeDirs() {
		args = append(args, "-I"+d)
	}
	args = append(args, src)
	args = append(args, extra...)
	if b, err := exec.Command(ccPath, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", cc, strings.Join(args, " "), err, b)
	}
}

// IncludeDirs are the -I directories of CGO_CPPFLAGS and CGO_CFLAGS (the
// ones the test binary was built with), or else the module's
// .tflite-ref/c/include.
func IncludeDirs() []string {
	dirs := flagDirs("-I", os.Getenv("CGO_CPPFLAGS")+" "+os.Getenv("CGO_CFLAGS"))
	if len(dirs) == 0 {
		if root, err := testdata.ModuleRoot(); err == nil {
			dirs = append(dirs, filepath.Join(root, ".tflite-ref", "c", "include"))
		}
	}
	return dirs
}

// LibraryDirs are the -L directories of CGO_LDFLAGS, or else the module's
// .tflite-ref/c/linux_$GOARCH: where libtensorflowlite_c.so is.
func LibraryDirs() []string {
	dirs := flagDirs("-L", os.Getenv("CGO_LDFLAGS"))
	if len(dirs) == 0 {
		if root, err := testdata.ModuleRoot(); err == nil {
			dirs = append(dirs, filepath.Join(root, ".tflite-ref", "c", "linux_"+runtime.GOARCH))
		}
	}
	return dirs
}

func flagDirs(prefix, flags string) []string {
	var dirs []string
	for _, f := range strings.Fields(flags) {
		if d, ok := strings.CutPrefix(f, prefix); ok && d != "" {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// FakeTPU compiles ../testdata/faketpu.c into dir/libedgetpu.so.1 in a
// fresh temporary directory, linked to libtensorflowlite_c (LibraryDirs),
// and returns dir. Every call builds a new library, so its counters start
// at zero. Put dir first in LD_LIBRARY_PATH and set the FAKETPU_*
// variables (Use does both).
func FakeTPU(t testing.TB) (dir string) {
	t.Helper()
	src, err := fakeSource()
	if err != nil {
		testdata.Missing(t, err)
	}
	dir = t.TempDir()
	extra := []string{"-Wl,-soname," + LibraryName}
	for _, d := range LibraryDirs() {
		extra = append(extra, "-L"+d, "-Wl,-rpath,"+d)
	}
	BuildPlugin(t, src, filepath.Join(dir, LibraryName), append(extra, "-ltensorflowlite_c")...)
	return dir
}

// fakeSource finds faketpu.c beside this package's source, or under the
// module root.
func fakeSource() (string, error) {
	var tried []string
	if _, file, _, ok := runtime.Caller(0); ok {
		p := filepath.Join(filepath.Dir(file), "..", "testdata", "faketpu.c")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	if root, err := testdata.ModuleRoot(); err == nil {
		p := filepath.Join(root, "infer", "delegate", "testdata", "faketpu.c")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	return "", fmt.Errorf("delegatetest: faketpu.c not found (looked at %s): %w", strings.Join(tried, ", "), os.ErrNotExist)
}

// Use makes the fake in dir the libedgetpu delegate.FindEdgeTPULibrary
// finds, running model (the CPU twin) on one USB device with Coral's 16.0
// version text, and returns the path of its control file (not yet
// written: invokes run). Tests change the FAKETPU_* variables after it
// with t.Setenv as they need. It uses t.Setenv, so the test must not be
// parallel.
func Use(t testing.TB, dir, model string) (control string) {
	t.Helper()
	path := dir
	if old := os.Getenv("LD_LIBRARY_PATH"); old != "" {
		path += string(os.PathListSeparator) + old
	}
	control = filepath.Join(t.TempDir(), "faketpu-control")
	t.Setenv("LD_LIBRARY_PATH", path)
	t.Setenv("FAKETPU_MODEL", model)
	t.Setenv("FAKETPU_DEVICES", "usb:0")
	t.Setenv("FAKETPU_CONTROL", control)
	t.Setenv("FAKETPU_RUNTIME_VERSION", Coral16Version)
	return control
}

// SetControl writes state (OK, Fail or Stall) into the control file
// atomically (a new file renamed over it), so the fake never reads it
// half written.
func SetControl(t testing.TB, control, state string) {
	t.Helper()
	tmp := control + ".new"
	if err := os.WriteFile(tmp, []byte(state+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, control); err != nil {
		t.Fatal(err)
	}
}

// Counters are the fake's exported counters.
type Counters struct {
	Created, Destroyed int32 // delegates
	Claimed            int32 // edgetpu-custom-op nodes taken
	Invokes            int32 // kernel invokes, failed ones included
	Failures           int32 // invokes failed by the control file
	Stalls             int32 // invokes that stalled
	Stalling           bool  // an invoke is stalled now
	Device             string
}

// ReadCounters reads the counters of the fake in dir. They belong to the
// loaded copy: while a delegate of it exists, the one it uses; otherwise a
// fresh copy, all zero.
func ReadCounters(t testing.TB, dir string) Counters {
	t.Helper()
	lib := C.CString(filepath.Join(dir, LibraryName))
	defer C.free(unsafe.Pointer(lib))
	h := C.dt_dlopen(lib)
	if h == nil {
		t.Fatalf("delegatetest: dlopen %s: %s", C.GoString(lib), C.GoString(C.dt_dlerror()))
	}
	defer C.dt_dlclose(h)
	sym := func(name string) unsafe.Pointer {
		cname := C.CString(name)
		defer C.free(unsafe.Pointer(cname))
		p := C.dt_dlsym(h, cname)
		if p == nil {
			t.Fatalf("delegatetest: %s does not export %s", C.GoString(lib), name)
		}
		return p
	}
	i32 := func(name string) int32 { return atomic.LoadInt32((*int32)(sym(name))) }
	dev := unsafe.Slice((*byte)(sym("faketpu_device")), 128)
	if n := strings.IndexByte(string(dev), 0); n >= 0 {
		dev = dev[:n]
	}
	return Counters{
		Created:   i32("faketpu_created"),
		Destroyed: i32("faketpu_destroyed"),
		Claimed:   i32("faketpu_claimed"),
		Invokes:   i32("faketpu_invokes"),
		Failures:  i32("faketpu_failures"),
		Stalls:    i32("faketpu_stalls"),
		Stalling:  i32("faketpu_stalling") != 0,
		Device:    string(dev),
	}
}

// WaitStalling waits until an invoke of the fake in dir is stalled and
// tells whether one did within timeout (make it generous: it bounds a
// hang, it measures nothing). It does not fail the test, so that the
// caller can release the stall before the interpreter is deleted.
func WaitStalling(t testing.TB, dir string, timeout time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ReadCounters(t, dir).Stalling {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

// Reporter collects what TensorFlow Lite reports for an interpreter, in C
// memory the library may hold. Install it on the options before the
// interpreter is created; Free it after the interpreter and the options
// are deleted.
type Reporter struct{ eb *C.dt_errbuf }

// NewReporter installs a Reporter on o. go-tflite v1.0.5 keeps the
// TfLiteInterpreterOptions* as the only field of InterpreterOptions and
// offers no working reporter; another layout fails the test.
func NewReporter(t testing.TB, o *tflite.InterpreterOptions) *Reporter {
	t.Helper()
	typ := reflect.TypeFor[tflite.InterpreterOptions]()
	if typ.NumField() != 1 || typ.Field(0).Type.Kind() != reflect.Pointer {
		t.Fatal("delegatetest: github.com/mattn/go-tflite's InterpreterOptions is not the v1.0.5 layout (one C pointer)")
	}
	r := &Reporter{eb: (*C.dt_errbuf)(C.calloc(1, C.size_t(unsafe.Sizeof(C.dt_errbuf{}))))}
	C.dt_set_reporter(*(*unsafe.Pointer)(unsafe.Pointer(o)), r.eb)
	return r
}

// Take returns and clears the messages reported so far.
func (r *Reporter) Take() string {
	s := strings.TrimSpace(C.GoStringN(&r.eb.buf[0], C.int(r.eb.n)))
	r.eb.n = 0
	return s
}

// Free releases the buffer.
func (r *Reporter) Free() {
	C.free(unsafe.Pointer(r.eb))
	r.eb = nil
}
