package board

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/internal/testdata"
)

// compiler returns the path of a C compiler, or ends the test the way a
// missing fixture does (a skip, a failure under CI=true).
func compiler(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		testdata.Missing(t, fmt.Errorf("board: %s is not installed (Debian: gcc, gcc-aarch64-linux-gnu): %w", name, os.ErrNotExist))
	}
	return p
}

// buildLib compiles a shared library out of C source with cc, without the
// C library (so it needs nothing installed beside it), and returns its
// path. args are extra compiler arguments.
func buildLib(t testing.TB, cc, name, src string, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	c := filepath.Join(dir, "lib.c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	argv := append([]string{"-shared", "-fPIC", "-nostdlib", "-o", out, c}, args...)
	if b, err := exec.Command(cc, argv...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", cc, strings.Join(argv, " "), err, b)
	}
	return out
}

// defining returns C source defining a function for each symbol.
func defining(symbols ...string) string {
	var b strings.Builder
	for _, s := range symbols {
		fmt.Fprintf(&b, "void %s(void) {}\n", s)
	}
	return b.String()
}

func specOf(name string) libSpec {
	for _, s := range libSpecs {
		if s.name == name {
			return s
		}
	}
	panic("no spec for " + name)
}

// install copies the file at src into root at the machine path dst.
func install(t testing.TB, root, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, root, map[string]string{dst: string(b)})
}

// TestLibraries checks libraries built here for the host (gcc) and for
// arm64 (aarch64-linux-gnu-gcc): the architecture against the agent's
// GOARCH, the symbols, the dependencies, the linker cache and the Debian
// package they came from.
func TestLibraries(t *testing.T) {
	gcc := compiler(t, "gcc")
	a64 := compiler(t, "aarch64-linux-gnu-gcc")
	tflite := specOf(LibTFLite).symbols
	full := defining(append(tflite, "TfLiteXNNPackDelegateCreate")...)
	host := buildLib(t, gcc, LibTFLite, full)
	arm64 := buildLib(t, a64, LibTFLite, full)
	partial := buildLib(t, gcc, LibTFLite, defining(tflite[:10]...))
	// Calls TfLiteInterpreterCreate without defining it: an undefined
	// dynamic symbol is not an export.
	importing := buildLib(t, gcc, LibTFLite, defining(tflite[1:]...)+"extern void TfLiteVersion(void);\nvoid f(void) { TfLiteVersion(); }\n")
	hidden := buildLib(t, gcc, LibTFLite, defining(tflite[1:]...)+"__attribute__((visibility(\"hidden\"))) void TfLiteVersion(void) {}\n")
	libusb := buildLib(t, gcc, "libusb-1.0.so.0", "void libusb_init(void) {}\n", "-Wl,-soname,libusb-1.0.so.0")
	libusbA64 := buildLib(t, a64, "libusb-1.0.so.0", "void libusb_init(void) {}\n", "-Wl,-soname,libusb-1.0.so.0")
	// It calls into libusb, so the linker records it (DT_NEEDED) even
	// with --as-needed.
	edgetpu := buildLib(t, gcc, LibEdgeTPU, defining(specOf(LibEdgeTPU).symbols...)+"extern void libusb_init(void);\nvoid g(void) { libusb_init(); }\n", libusb)
	external := buildLib(t, gcc, LibExternalDelegate, defining(specOf(LibExternalDelegate).symbols...))
	// Stands in for a tflite agent linked with -Wl,-rpath,/opt/tfl:
	// only its dynamic section is read.
	agent := buildLib(t, gcc, "agent", "void f(void) {}\n", "-Wl,-rpath,/opt/tfl")
	notELF := filepath.Join(t.TempDir(), "x.so")
	if err := os.WriteFile(notELF, []byte("INPUT(-ltensorflowlite_c)\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	const (
		amd64Dir = "/usr/lib/x86_64-linux-gnu"
		arm64Dir = "/usr/lib/aarch64-linux-gnu"
		local    = "/usr/local/lib"
	)
	tests := []struct {
		name    string
		goarch  string
		env     string            // LD_LIBRARY_PATH
		exe     string            // Host.Executable
		files   map[string]string // machine path → built library
		extra   map[string]string // machine path → content
		lib     string
		status  Status
		says    string
		usable  bool
		backend string // in the binary, besides native
	}{
		{name: "host library", goarch: "amd64", files: map[string]string{amd64Dir + "/" + LibTFLite: host},
			lib: LibTFLite, status: OK, says: amd64Dir + "/libtensorflowlite_c.so (x86-64, with XNNPACK)", usable: true},
		{name: "x86-64 library for an arm64 agent", goarch: "arm64", files: map[string]string{local + "/" + LibTFLite: host},
			lib: LibTFLite, status: Fail, says: "built for x86-64, but this agent is linux/arm64 and needs aarch64"},
		{name: "aarch64 library for a 32-bit ARM agent", goarch: "arm", files: map[string]string{local + "/" + LibTFLite: arm64},
			lib: LibTFLite, status: Fail, says: "built for aarch64, but this agent is linux/arm and needs armhf"},
		{name: "aarch64 library", goarch: "arm64", files: map[string]string{arm64Dir + "/" + LibTFLite: arm64},
			lib: LibTFLite, status: OK, says: "(aarch64, with XNNPACK)", usable: true},
		{name: "in /usr/local/lib without ldconfig", goarch: "amd64", files: map[string]string{local + "/" + LibTFLite: host},
			extra: map[string]string{"/etc/ld.so.cache": "glibc-ld.so.cache1.1\x00/usr/lib/x86_64-linux-gnu/libz.so.1\x00"},
			lib:   LibTFLite, status: Warn, says: "sudo ldconfig", usable: true},
		{name: "in /usr/local/lib, cached", goarch: "amd64", files: map[string]string{local + "/" + LibTFLite: host},
			extra: map[string]string{"/etc/ld.so.cache": "glibc-ld.so.cache1.1\x00/usr/local/lib/libtensorflowlite_c.so\x00"},
			lib:   LibTFLite, status: OK, usable: true},
		{name: "on LD_LIBRARY_PATH", goarch: "amd64", env: "/opt/tflite/lib", files: map[string]string{"/opt/tflite/lib/" + LibTFLite: host},
			extra: map[string]string{"/etc/ld.so.cache": "glibc-ld.so.cache1.1\x00"},
			lib:   LibTFLite, status: OK, says: "/opt/tflite/lib/libtensorflowlite_c.so", usable: true},
		{name: "on the agent's run path", goarch: "amd64", exe: agent, files: map[string]string{"/opt/tfl/" + LibTFLite: host},
			extra: map[string]string{"/etc/ld.so.cache": "glibc-ld.so.cache1.1\x00"},
			lib:   LibTFLite, status: OK, says: "/opt/tfl/libtensorflowlite_c.so (x86-64, with XNNPACK)", usable: true},
		{name: "missing symbols", goarch: "amd64", files: map[string]string{amd64Dir + "/" + LibTFLite: partial},
			lib: LibTFLite, status: Fail, says: "does not export TfLiteInterpreterOptionsAddCustomOp, TfLiteInterpreterOptionsSetUseNNAPI, TfLiteInterpreterCreate, TfLiteInterpreterDelete, and 17 more"},
		{name: "imported, not exported", goarch: "amd64", files: map[string]string{amd64Dir + "/" + LibTFLite: importing},
			lib: LibTFLite, status: Fail, says: "does not export TfLiteVersion"},
		{name: "hidden", goarch: "amd64", files: map[string]string{amd64Dir + "/" + LibTFLite: hidden},
			lib: LibTFLite, status: Fail, says: "does not export TfLiteVersion"},
		{name: "linker script, not ELF", goarch: "amd64", files: map[string]string{amd64Dir + "/" + LibTFLite: notELF},
			lib: LibTFLite, status: Fail, says: "not a readable shared library"},
		{name: "missing without a need", goarch: "amd64", lib: LibTFLite, status: Skip, says: "only the tflite build uses it"},
		{name: "missing in the tflite build", goarch: "amd64", backend: "tflite", lib: LibTFLite, status: Warn, says: "not found in " + amd64Dir},
		{name: "libedgetpu without libusb", goarch: "amd64", files: map[string]string{amd64Dir + "/" + LibEdgeTPU: edgetpu},
			lib: LibEdgeTPU, status: Fail, says: "needs libusb-1.0.so.0, which is not installed for x86-64 (looked in /usr/lib/x86_64-linux-gnu, /usr/local/lib, /usr/lib, /lib/x86_64-linux-gnu, /lib, /lib64, /usr/lib64) | apt-get install libusb-1.0-0:amd64"},
		{name: "libedgetpu with an aarch64 libusb", goarch: "amd64",
			files: map[string]string{amd64Dir + "/" + LibEdgeTPU: edgetpu, "/usr/lib/libusb-1.0.so.0": libusbA64},
			lib:   LibEdgeTPU, status: Fail, says: "needs libusb-1.0.so.0, which is not installed for x86-64"},
		{name: "libedgetpu from its package", goarch: "amd64",
			files: map[string]string{amd64Dir + "/" + LibEdgeTPU: edgetpu, "/lib/x86_64-linux-gnu/libusb-1.0.so.0": libusb},
			extra: map[string]string{
				"/var/lib/dpkg/status": "Package: dpkg\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.21.22\n\n" +
					"Package: libedgetpu1-std\nStatus: install ok installed\nArchitecture: amd64\nVersion: 16.0\n",
				// merged /usr: the package lists /lib/..., found as /usr/lib/...
				"/var/lib/dpkg/info/libedgetpu1-std:amd64.list": "/.\n/lib/x86_64-linux-gnu/libedgetpu.so.1.0\n/lib/x86_64-linux-gnu/libedgetpu.so.1\n",
			},
			lib: LibEdgeTPU, status: OK, says: "(x86-64, libedgetpu1-std:amd64 16.0)", usable: true},
		{name: "libedgetpu not from a package", goarch: "amd64",
			files: map[string]string{local + "/" + LibEdgeTPU: edgetpu, local + "/libusb-1.0.so.0": libusb},
			lib:   LibEdgeTPU, status: OK, says: "(x86-64, not from a Debian package)", usable: true},
		{name: "external delegate beside the C library", goarch: "amd64", env: "/opt/a:/opt/b",
			files: map[string]string{"/opt/b/" + LibTFLite: host, "/opt/b/" + LibExternalDelegate: external, "/opt/a/" + LibExternalDelegate: notELF},
			lib:   LibExternalDelegate, status: OK, says: "/opt/b/libexternal_delegate_obj.so", usable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for dst, src := range tt.files {
				install(t, root, src, dst)
			}
			writeFiles(t, root, tt.extra)
			getenv := func(k string) string {
				if k == "LD_LIBRARY_PATH" {
					return tt.env
				}
				return ""
			}
			backends := []string{"native"}
			if tt.backend != "" {
				backends = append(backends, tt.backend)
			}
			r := Diagnose(Options{Host: Host{Root: root, GOARCH: tt.goarch, Machine: "x86_64", Getenv: getenv, Executable: tt.exe}, Backends: backends})
			res := r.Find("libraries", tt.lib)
			if res == nil {
				t.Fatalf("no result for %s: %q", tt.lib, summary(r))
			}
			if got := res.Detail + " | " + res.Fix; res.Status != tt.status || !strings.Contains(got, tt.says) {
				t.Errorf("%v: %s\nwant %v saying %q", res.Status, got, tt.status, tt.says)
			}
			if res.Status >= Warn && res.Fix == "" {
				t.Errorf("%v without a fix", res.Status)
			}
		})
	}
}

// TestUsable: what the library checks record for the extra checks.
func TestUsable(t *testing.T) {
	gcc := compiler(t, "gcc")
	root := t.TempDir()
	install(t, root, buildLib(t, gcc, LibTFLite, defining(specOf(LibTFLite).symbols...)), "/usr/lib/x86_64-linux-gnu/"+LibTFLite)
	install(t, root, buildLib(t, gcc, LibExternalDelegate, defining("TfLiteExternalDelegateCreate")), "/usr/lib/x86_64-linux-gnu/"+LibExternalDelegate)
	var got map[string]Library
	check := Check{Run: func(e *Env) []Result {
		got = map[string]Library{}
		for k, v := range e.Libraries {
			got[k] = *v
		}
		return nil
	}}
	Diagnose(Options{Host: Host{Root: root, GOARCH: "amd64"}, Extra: []Check{check}})
	want := map[string]Library{
		LibTFLite:           {Name: LibTFLite, Path: "/usr/lib/x86_64-linux-gnu/" + LibTFLite, Usable: true},
		LibExternalDelegate: {Name: LibExternalDelegate, Path: "/usr/lib/x86_64-linux-gnu/" + LibExternalDelegate},
		LibEdgeTPU:          {Name: LibEdgeTPU},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Env.Libraries\n got %+v\nwant %+v", got, want)
	}
}

// TestRealLibraries reads the TFLite 2.9 C libraries `make ref` unpacks:
// every symbol the tflite build needs is there, and the architecture
// check tells the amd64 and arm64 builds apart.
func TestRealLibraries(t *testing.T) {
	mod, err := testdata.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ dir, goarch, arch, wrongFor string }{
		{"linux_amd64", "amd64", "x86-64", "arm64"},
		{"linux_arm64", "arm64", "aarch64", "arm"},
	} {
		dir := filepath.Join(mod, ".tflite-ref", "c", tt.dir)
		for _, spec := range libSpecs[:2] {
			p := filepath.Join(dir, spec.name)
			if _, err := os.Stat(p); err != nil {
				testdata.Missing(t, fmt.Errorf("%w (make ref unpacks it)", err))
			}
			info, err := readELF(p, dir, tt.goarch)
			if err != nil {
				t.Fatal(err)
			}
			if !info.archOK || !info.shared || info.arch != tt.arch {
				t.Errorf("%s/%s: arch %s ok %v shared %v, want %s", tt.dir, spec.name, info.arch, info.archOK, info.shared, tt.arch)
			}
			for _, s := range spec.symbols {
				if !info.exported[s] {
					t.Errorf("%s/%s does not export %s", tt.dir, spec.name, s)
				}
			}
			if len(info.runpath) == 0 || info.runpath[0] != dir {
				t.Errorf("%s/%s: runpath %q, want $ORIGIN expanded to %s first", tt.dir, spec.name, info.runpath, dir)
			}
			if wrong, _ := readELF(p, dir, tt.wrongFor); wrong.archOK {
				t.Errorf("%s/%s counts as a %s library", tt.dir, spec.name, tt.wrongFor)
			}
		}
	}
}
