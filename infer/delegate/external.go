//go:build tflite && cgo

package delegate

/*
#cgo CPPFLAGS: -I${SRCDIR}/../../internal/tflitec/include
#cgo LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include "tensorflow/lite/delegates/external/external_delegate.h"

// fc_dlopen opens path; on failure it copies dlerror's text into err. Both
// happen in one C call so the text belongs to this thread's dlopen.
static void* fc_dlopen(const char* path, char* err, size_t n) {
  void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    const char* e = dlerror();
    strncpy(err, e != NULL ? e : "unknown dlopen error", n - 1);
    err[n - 1] = '\0';
  }
  return h;
}

static void* fc_dlsym(void* h, const char* name) { return dlsym(h, name); }

// fc_tflite_version is TfLiteVersion() of the loaded TFLite library, or
// NULL when none is loaded.
static const char* fc_tflite_version(void) {
  const char* (*fn)(void) = (const char* (*)(void))dlsym(RTLD_DEFAULT, "TfLiteVersion");
  return fn != NULL ? fn() : NULL;
}

// libedgetpu's edgetpu_c.h.
struct fc_edgetpu_device {
  int type; // enum edgetpu_device_type: 0 PCIe, 1 USB
  const char* path;
};

static const char* fc_call_version(void* fn) {
  return ((const char* (*)(void))fn)();
}

static struct fc_edgetpu_device* fc_list_devices(void* fn, size_t* n) {
  return ((struct fc_edgetpu_device* (*)(size_t*))fn)(n);
}

static void fc_free_devices(void* fn, struct fc_edgetpu_device* d) {
  ((void (*)(struct fc_edgetpu_device*))fn)(d);
}

static void fc_dlclose(void* h) { dlclose(h); }

// fc_tflite_path is the file of the loaded library defining TfLiteVersion
// (libtensorflowlite_c.so), or NULL when none is loaded.
static const char* fc_tflite_path(void) {
  Dl_info info;
  void* sym = dlsym(RTLD_DEFAULT, "TfLiteVersion");
  if (sym == NULL || dladdr(sym, &info) == 0) {
    return NULL;
  }
  return info.dli_fname;
}

// fc_external_create fills the library's options struct and creates the
// delegate. *full is set when the library refused an option (more than it
// holds).
static TfLiteDelegate* fc_external_create(void* default_fn, void* create_fn,
                                          const char* lib, int n,
                                          char** keys, char** values,
                                          int* full) {
  int i;
  TfLiteExternalDelegateOptions o =
      ((TFLITE_EXTERNAL_DELEGATE_OPTIONS_DEFAULT_FN)default_fn)(lib);
  for (i = 0; i < n; i++) {
    if (o.insert(&o, keys[i], values[i]) != kTfLiteOk) {
      *full = 1;
      return NULL;
    }
  }
  return ((TFLITE_EXTERNAL_DELEGATE_CREATE_FN)create_fn)(&o);
}

static void fc_external_delete(void* delete_fn, TfLiteDelegate* d) {
  ((TFLITE_EXTERNAL_DELEGATE_DELETE_FN)delete_fn)(d);
}

// fc_external_state tells whether TfLiteExternalDelegateCreate really made
// a delegate. The library (2.9, and TensorFlow's current source) returns a
// pointer to the TfLiteDelegate member of its wrapper object even when the
// plugin's create returned NULL, with that member left uninitialised. The
// wrapper is { create fn, destroy fn, plugin delegate, TfLiteDelegate }, the
// first three zeroed before loading, so the three words before the returned
// pointer say what happened: 1 the plugin made a delegate, 0 it returned
// NULL, -1 the layout is not the one described (the create fn is not the one
// dlsym found), so nothing can be concluded.
static int fc_external_state(TfLiteDelegate* d, void* plugin_create) {
  void* const* w = (void* const*)((const char*)d - 3 * sizeof(void*));
  if (w[0] != plugin_create) {
    return -1;
  }
  return w[2] != NULL ? 1 : 0;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"unsafe"
)

// ExternalDelegateLibrary is the file name of TFLite's external delegate
// library, shipped beside libtensorflowlite_c.so.
const ExternalDelegateLibrary = "libexternal_delegate_obj.so"

// ErrNoDelegate is wrapped by NewExternal's error when the plugin loaded but
// its tflite_plugin_create_delegate returned no delegate (libedgetpu does
// that when it finds no Edge TPU).
var ErrNoDelegate = errors.New("delegate: the plugin created no delegate")

// External is a delegate created by a plugin library through TFLite's
// external delegate library. It satisfies go-tflite's delegates.Delegater.
// The external delegate library is dlopened at run time, not linked: a
// tflite binary starts without it, and only what needs a delegate fails,
// with an error naming the file and where it was looked for.
// Delete it only after every interpreter using it is deleted.
type External struct {
	mu      sync.Mutex
	plugin  string
	d       *C.TfLiteDelegate
	del     unsafe.Pointer // TfLiteExternalDelegateDelete
	handle  unsafe.Pointer // our dlopen of the plugin, closed by Delete
	strings []*C.char      // lib path and options, kept until Delete
	edgetpu *EdgeTPUInfo   // set by NewEdgeTPU
}

// NewExternal loads the plugin library lib (a path, or a bare file name
// for the dynamic linker's search) and creates its delegate with the given
// options, passed to tflite_plugin_create_delegate sorted by key.
//
// The external delegate library is found with FindExternalDelegateLibrary.
// Errors name the file that is missing or lacks a symbol; a plugin that
// refuses to create a delegate gives an error wrapping ErrNoDelegate (the
// plugin's own reason is on stderr: the external delegate library passes it
// no error callback).
func NewExternal(lib string, options map[string]string) (*External, error) {
	if lib == "" {
		return nil, errors.New("delegate: no plugin library given")
	}
	ext, err := loadExternal()
	if err != nil {
		return nil, err
	}
	handle, err := dlopen(lib)
	if err != nil {
		if strings.ContainsRune(lib, '/') {
			if _, serr := os.Stat(lib); errors.Is(serr, os.ErrNotExist) {
				return nil, fmt.Errorf("delegate: plugin library %s does not exist: %w", lib, serr)
			}
		}
		return nil, fmt.Errorf("delegate: cannot load plugin library %s: %w", lib, err)
	}
	create := dlsym(handle, "tflite_plugin_create_delegate")
	destroy := dlsym(handle, "tflite_plugin_destroy_delegate")
	if create == nil || destroy == nil {
		C.fc_dlclose(handle)
		missing := "tflite_plugin_create_delegate"
		if create != nil {
			missing = "tflite_plugin_destroy_delegate"
		}
		return nil, fmt.Errorf("delegate: %s is not a TFLite delegate plugin: it does not export %s", lib, missing)
	}

	e := &External{plugin: lib, del: ext.del, handle: handle}
	cstr := func(s string) *C.char {
		c := C.CString(s)
		e.strings = append(e.strings, c)
		return c
	}
	clib := cstr(lib)
	keys := make([]string, 0, len(options))
	for k := range options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := len(keys)
	// One C array for keys then values: C memory, so the C side may keep it.
	kv := unsafe.Slice((**C.char)(C.calloc(C.size_t(2*n+1), C.size_t(unsafe.Sizeof((*C.char)(nil))))), 2*n+1)
	for i, k := range keys {
		kv[i] = cstr(k)
		kv[n+i] = cstr(options[k])
	}
	var full C.int
	d := C.fc_external_create(ext.optionsDefault, ext.create, clib, C.int(n), &kv[0], &kv[n], &full)
	C.free(unsafe.Pointer(&kv[0]))
	switch {
	case full != 0:
		e.free()
		return nil, fmt.Errorf("delegate: %d options for %s are more than the external delegate library holds (%d)", n, lib, C.TFLITE_EXTERNAL_DELEGATE_MAX_OPTIONS)
	case d == nil:
		e.free()
		return nil, fmt.Errorf("delegate: %s: TfLiteExternalDelegateCreate failed for plugin %s", ext.path, lib)
	}
	// On the two failures below the library's wrapper cannot be freed
	// (its Delete would follow an uninitialised pointer): a few dozen bytes
	// leak per failed attempt.
	switch C.fc_external_state(d, create) {
	case 0:
		e.free()
		return nil, fmt.Errorf("delegate: %s with options %s: %w", lib, formatOptions(keys, options), ErrNoDelegate)
	case -1:
		e.free()
		return nil, fmt.Errorf("delegate: %s is not laid out like TFLite 2.9's external delegate library, so whether plugin %s created a delegate cannot be checked; use the libexternal_delegate_obj.so that ships with libtensorflowlite_c.so 2.9", ext.path, lib)
	}
	e.d = d
	return e, nil
}

func formatOptions(keys []string, options map[string]string) string {
	if len(keys) == 0 {
		return "{}"
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, options[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// NewEdgeTPU creates the Coral Edge TPU delegate for a device selector (see
// EdgeTPUOptions) from libedgetpu.so.1 (see FindEdgeTPULibrary).
//
// Before creating it, it reads libedgetpu's edgetpu_version() and the
// process's TfLiteVersion() and refuses, with an error wrapping
// ErrEdgeTPUVersion that names both libraries and the fix, a pair known
// not to work together (the table is in version.go). Pairs it cannot judge
// are accepted; External.EdgeTPUInfo says what was found and why. Without
// a matching TPU the error wraps ErrNoDelegate and lists the devices
// libedgetpu enumerates.
func NewEdgeTPU(device string) (*External, error) {
	e, _, err := newEdgeTPU(device, loadedTFLite())
	return e, err
}

// ProbeEdgeTPU finds libedgetpu, reads its version and devices, checks
// them against the TFLite library of this process and tries to create a
// delegate for device, which it deletes at once. The info holds what was
// found up to the first problem, which is the error (nil when a delegate
// could be made). With a USB accelerator, a TPU held by another process
// (a running agent) is not found.
func ProbeEdgeTPU(device string) (EdgeTPUInfo, error) {
	e, info, err := newEdgeTPU(device, loadedTFLite())
	if err != nil {
		return info, err
	}
	e.Delete()
	return info, nil
}

// tfliteLib is the TFLite C library of this process.
type tfliteLib struct{ path, version string }

func loadedTFLite() tfliteLib {
	var l tfliteLib
	if p := C.fc_tflite_path(); p != nil {
		l.path = C.GoString(p)
	}
	if v := C.fc_tflite_version(); v != nil {
		l.version = C.GoString(v)
	}
	return l
}

// newEdgeTPU is NewEdgeTPU with the TFLite library given, so that the
// version check can be tried against other releases than the one linked.
func newEdgeTPU(device string, tfl tfliteLib) (*External, EdgeTPUInfo, error) {
	info := EdgeTPUInfo{Device: device, TFLite: tfl.path, TFLiteVersion: tfl.version}
	opts, err := EdgeTPUOptions(device)
	if err != nil {
		return nil, info, err
	}
	lib, err := FindEdgeTPULibrary()
	if err != nil {
		return nil, info, err
	}
	info.Library = lib
	h, err := dlopen(lib)
	if err != nil {
		return nil, info, fmt.Errorf("delegate: cannot load %s: %w", lib, err)
	}
	// Our handle keeps the library (and its state) loaded until
	// NewExternal has taken its own.
	defer dlclose(h)
	if fn := dlsym(h, "edgetpu_version"); fn != nil {
		if v := C.fc_call_version(fn); v != nil {
			info.Version = C.GoString(v)
		}
	}
	if v, err := ParseEdgeTPUVersion(info.Version); err == nil {
		info.Runtime = v.Runtime
	}
	listed := false
	info.Devices, listed = edgetpuDevices(h)
	chk := checkEdgeTPUVersions(lib, info.Version, tfl.path, tfl.version)
	info.Release, info.Note = chk.release, chk.note
	if chk.err != nil {
		return nil, info, chk.err
	}
	e, err := NewExternal(lib, opts)
	if errors.Is(err, ErrNoDelegate) {
		which := "Edge TPU"
		if device != "" {
			which = fmt.Sprintf("Edge TPU %q", device)
		}
		return nil, info, fmt.Errorf("delegate: no %s found by %s (%s; USB accelerator: `lsusb` lists 1a6e:089a or 18d1:9302 and the user may access it, see Coral's udev rules; PCIe: /dev/apex_0 exists, gasket-dkms installed): %w",
			which, lib, devicesText(info.Devices, listed), err)
	}
	if err != nil {
		return nil, info, err
	}
	info.Delegate = true
	e.edgetpu = &info
	return e, info, nil
}

// edgetpuDevices calls libedgetpu's edgetpu_list_devices; false when the
// library does not export it.
func edgetpuDevices(h unsafe.Pointer) ([]EdgeTPUDevice, bool) {
	list, free := dlsym(h, "edgetpu_list_devices"), dlsym(h, "edgetpu_free_devices")
	if list == nil || free == nil {
		return nil, false
	}
	var n C.size_t
	d := C.fc_list_devices(list, &n)
	if d == nil {
		return []EdgeTPUDevice{}, true
	}
	defer C.fc_free_devices(free, d)
	devs := make([]EdgeTPUDevice, 0, int(n))
	count := map[string]int{}
	for _, cd := range unsafe.Slice(d, int(n)) {
		typ := "unknown"
		switch cd._type {
		case 0:
			typ = "pci"
		case 1:
			typ = "usb"
		}
		dev := EdgeTPUDevice{Type: typ, Selector: fmt.Sprintf("%s:%d", typ, count[typ])}
		if cd.path != nil {
			dev.Path = C.GoString(cd.path)
		}
		count[typ]++
		devs = append(devs, dev)
	}
	return devs, true
}

// EdgeTPUInfo is what NewEdgeTPU found when it made this delegate; false
// for delegates made by NewExternal.
func (e *External) EdgeTPUInfo() (EdgeTPUInfo, bool) {
	if e.edgetpu == nil {
		return EdgeTPUInfo{}, false
	}
	info := *e.edgetpu
	info.Devices = slices.Clone(info.Devices)
	return info, true
}

// Ptr is the TfLiteDelegate*, for (*tflite.InterpreterOptions).AddDelegate;
// nil after Delete.
func (e *External) Ptr() unsafe.Pointer {
	e.mu.Lock()
	defer e.mu.Unlock()
	return unsafe.Pointer(e.d)
}

// Plugin is the plugin library the delegate came from.
func (e *External) Plugin() string { return e.plugin }

// Delete destroys the delegate (the plugin's tflite_plugin_destroy_delegate
// runs). Call it after every interpreter using the delegate has been
// deleted. A second call does nothing. There is no finalizer (it could run
// while an interpreter still uses the delegate): an External never deleted
// leaks.
func (e *External) Delete() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.d != nil {
		C.fc_external_delete(e.del, e.d)
		e.d = nil
	}
	e.free()
}

// free releases the option strings and our handle on the plugin.
func (e *External) free() {
	for _, s := range e.strings {
		C.free(unsafe.Pointer(s))
	}
	e.strings = nil
	if e.handle != nil {
		C.fc_dlclose(e.handle)
		e.handle = nil
	}
}

// externalLib is the loaded external delegate library. It stays loaded for
// the life of the process.
type externalLib struct {
	path                        string
	optionsDefault, create, del unsafe.Pointer
}

var (
	externalMu     sync.Mutex
	externalLoaded *externalLib
)

func loadExternal() (*externalLib, error) {
	externalMu.Lock()
	defer externalMu.Unlock()
	if externalLoaded != nil {
		return externalLoaded, nil
	}
	path, err := FindExternalDelegateLibrary()
	if err != nil {
		return nil, err
	}
	h, err := dlopen(path)
	if err != nil {
		return nil, fmt.Errorf("delegate: cannot load the TFLite external delegate library %s: %w", path, err)
	}
	l := &externalLib{path: path}
	for _, s := range []struct {
		name string
		p    *unsafe.Pointer
	}{
		{"TfLiteExternalDelegateOptionsDefault", &l.optionsDefault},
		{"TfLiteExternalDelegateCreate", &l.create},
		{"TfLiteExternalDelegateDelete", &l.del},
	} {
		if *s.p = dlsym(h, s.name); *s.p == nil {
			C.fc_dlclose(h)
			return nil, fmt.Errorf("delegate: %s does not export %s: not TFLite's external delegate library", path, s.name)
		}
	}
	externalLoaded = l
	return l, nil
}

// FindExternalDelegateLibrary returns the path of libexternal_delegate_obj.so:
// beside the loaded libtensorflowlite_c.so first, then in the directories
// FindEdgeTPULibrary searches. The error lists where it looked.
func FindExternalDelegateLibrary() (string, error) {
	var dirs []string
	if p := C.fc_tflite_path(); p != nil {
		if path := C.GoString(p); strings.ContainsRune(path, '/') {
			dirs = append(dirs, filepath.Dir(path))
		}
	}
	p, err := findLibrary(ExternalDelegateLibrary, append(dirs, libraryDirs()...))
	if err != nil {
		return "", fmt.Errorf("%w: it ships beside libtensorflowlite_c.so in the TFLite C distribution (../shared/tools/tflite-ref/setup.sh unpacks it into .tflite-ref/c/linux_<arch>); put it next to libtensorflowlite_c.so or in a directory on LD_LIBRARY_PATH", err)
	}
	return p, nil
}

func dlopen(path string) (unsafe.Pointer, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var buf [512]C.char
	h := C.fc_dlopen(cpath, &buf[0], C.size_t(len(buf)))
	if h == nil {
		return nil, errors.New(C.GoString(&buf[0]))
	}
	return h, nil
}

func dlclose(h unsafe.Pointer) { C.fc_dlclose(h) }

func dlsym(h unsafe.Pointer, name string) unsafe.Pointer {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	return C.fc_dlsym(h, cname)
}
