package delegate

import (
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
	if t := multiarchTriplet(runtime.GOARCH); t != "" {
		dirs = append(dirs, "/usr/lib/"+t)
	}
	return append(dirs, "/usr/local/lib", "/usr/lib")
}

// multiarchTriplet is Debian's multiarch directory name for a GOARCH (""
// when unknown). GOARCH=arm is assumed to be the hard-float ABI (GOARM=7).
func multiarchTriplet(goarch string) string {
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
