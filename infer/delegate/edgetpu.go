package delegate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// EdgeTPULibrary is the file name of the Coral Edge TPU runtime on Linux,
// the library pycoral loads (from the libedgetpu1-std or libedgetpu1-max
// package).
const EdgeTPULibrary = "libedgetpu.so.1"

// EdgeTPUOptions turns a device selector into the options libedgetpu's
// tflite_plugin_create_delegate takes, the way pycoral's make_interpreter
// does:
//
//	""       any Edge TPU            (no options)
//	":N"     the N-th Edge TPU       {"device": ":N"}
//	"usb"    any USB Edge TPU        {"device": "usb"}
//	"usb:N"  the N-th USB Edge TPU   {"device": "usb:N"}
//	"pci"    any PCIe Edge TPU       {"device": "pci"}
//	"pci:N"  the N-th PCIe Edge TPU  {"device": "pci:N"}
//
// N counts from 0. Anything else is an error naming the accepted forms.
func EdgeTPUOptions(device string) (map[string]string, error) {
	if device == "" {
		return map[string]string{}, nil
	}
	kind, index, hasIndex := strings.Cut(device, ":")
	switch kind {
	case "usb", "pci":
	case "":
		if !hasIndex {
			return nil, badDevice(device)
		}
	default:
		return nil, badDevice(device)
	}
	if hasIndex {
		n, err := strconv.Atoi(index)
		if err != nil || n < 0 || strconv.Itoa(n) != index {
			return nil, badDevice(device)
		}
	}
	return map[string]string{"device": device}, nil
}

func badDevice(device string) error {
	return fmt.Errorf("delegate: Edge TPU device %q not understood: use \"usb\", \"usb:N\", \"pci\", \"pci:N\", \":N\" (N-th TPU of any kind, from 0) or \"\" for any", device)
}

// FindEdgeTPULibrary returns the path of libedgetpu.so.1, looked for in the
// directories of LD_LIBRARY_PATH, then /usr/lib/<triplet>, /usr/local/lib and
// /usr/lib. When it is missing the error (which wraps os.ErrNotExist) lists
// the directories and says how to install it.
func FindEdgeTPULibrary() (string, error) {
	p, err := findLibrary(EdgeTPULibrary, libraryDirs())
	if err != nil {
		return "", fmt.Errorf("%w: install libedgetpu1-std (or libedgetpu1-max) from Coral's apt repository (https://coral.ai/software/#debian-packages: add \"deb https://packages.cloud.google.com/apt coral-edgetpu-stable main\", then apt-get install libedgetpu1-std), or point LD_LIBRARY_PATH at the directory that holds it", err)
	}
	return p, nil
}

// libraryDirs is where shared libraries are looked for: LD_LIBRARY_PATH
// first, then the Debian multiarch directory of this architecture and the
// usual fallbacks.
func libraryDirs() []string {
	var dirs []string
	for _, d := range filepath.SplitList(os.Getenv("LD_LIBRARY_PATH")) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	if t := MultiarchTriplet(runtime.GOARCH); t != "" {
		dirs = append(dirs, "/usr/lib/"+t)
	}
	return append(dirs, "/usr/local/lib", "/usr/lib")
}

// MultiarchTriplet is Debian's multiarch directory name for a GOARCH (""
// when unknown). GOARCH=arm is assumed to be the hard-float ABI (GOARM=7).
func MultiarchTriplet(goarch string) string {
	switch goarch {
	case "amd64":
		return "x86_64-linux-gnu"
	case "arm64":
		return "aarch64-linux-gnu"
	case "arm":
		return "arm-linux-gnueabihf"
	case "386":
		return "i386-linux-gnu"
	case "riscv64":
		return "riscv64-linux-gnu"
	}
	return ""
}

// findLibrary returns dir/name for the first dir holding a regular file (or
// a link to one) called name. The error wraps os.ErrNotExist and lists the
// directories.
func findLibrary(name string, dirs []string) (string, error) {
	for _, d := range dirs {
		p := filepath.Join(d, name)
		fi, err := os.Stat(p)
		if err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("delegate: %s not found (looked in %s): %w", name, strings.Join(dirs, ", "), os.ErrNotExist)
}

// ErrNoTFLite is returned by ProbeEdgeTPU in a binary built without the
// TensorFlow Lite C library (without cgo or the build tag tflite).
var ErrNoTFLite = errors.New("delegate: this binary was built without TensorFlow Lite (build with CGO_ENABLED=1 and -tags tflite, see the Makefile's tflite target), so it cannot use an Edge TPU")

// EdgeTPUInfo is what ProbeEdgeTPU found out about the Edge TPU runtime of
// this machine and process, for `agent doctor`; NewEdgeTPU's delegates
// carry it too (see External.EdgeTPUInfo). Fields stay empty for what was
// not reached: ProbeEdgeTPU fills them in order and stops at the first
// problem.
type EdgeTPUInfo struct {
	Library string // path of libedgetpu.so.1
	Version string // what its edgetpu_version() says ("" when not exported)
	Runtime int    // N of RuntimeVersion(N), 0 when unknown
	// Release is what the version table makes of the library, with the
	// TensorFlow it was built from ("" when unknown).
	Release       string
	TFLite        string // file of the libtensorflowlite_c in this process
	TFLiteVersion string // its TfLiteVersion()
	// Note holds compatibility remarks that do not stop the delegate
	// (what could not be checked, what the runtime version means for
	// models).
	Note    string
	Devices []EdgeTPUDevice // what libedgetpu enumerates (nil: it cannot list them)
	Device  string          // the device selector tried
	// Delegate tells whether a delegate could be created for Device.
	Delegate bool
}

// EdgeTPUDevice is an Edge TPU libedgetpu enumerates.
type EdgeTPUDevice struct {
	Type     string // "usb" or "pci"
	Path     string // /sys/bus/usb/devices/... or /dev/apex_N
	Selector string // the device selector that picks it: "usb:0", "pci:1"
}

// devicesText lists devices for an error message.
func devicesText(devs []EdgeTPUDevice, listed bool) string {
	if !listed {
		return "the library cannot list its devices"
	}
	if len(devs) == 0 {
		return "it enumerates no Edge TPU"
	}
	parts := make([]string, len(devs))
	for i, d := range devs {
		parts[i] = d.Selector + " at " + d.Path
	}
	return "it enumerates " + strings.Join(parts, ", ")
}
