package board

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// copyTree copies testdata/<tree> into a temporary directory, so a case
// can add what the tree cannot hold (names with colons) and nothing
// leaks between cases.
func copyTree(t *testing.T, tree string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS(filepath.Join("testdata", tree))); err != nil {
		t.Fatal(err)
	}
	return root
}

// writeFiles creates files under root: path → content.
func writeFiles(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// denyAccess is a Host.Access that refuses the listed nodes and reports
// the others as there when they exist under root.
func denyAccess(root string, denied ...string) func(string) error {
	return func(name string) error {
		if slices.Contains(denied, name) {
			return &fs.PathError{Op: "access", Path: name, Err: fs.ErrPermission}
		}
		_, err := os.Stat(filepath.Join(root, name))
		return err
	}
}

// summary lists a report's results as "group/name status", in order.
func summary(r *Report) []string {
	var out []string
	for _, res := range r.Results {
		out = append(out, fmt.Sprintf("%s/%s %v", res.Group, res.Name, res.Status))
	}
	return out
}

var pi = &User{Name: "pi", UID: 1000, Groups: []string{"pi", "video"}}

func TestTrees(t *testing.T) {
	tests := []struct {
		name   string
		tree   string
		goarch string
		files  map[string]string // added to the tree
		denied []string
		want   []string          // summary
		says   map[string]string // "group/name" → text in its detail or fix
	}{
		{
			name: "pi4 usb2", tree: "pi4", goarch: "arm64",
			files: map[string]string{"sys/devices/platform/soc/soc:firmware/get_throttled": "50000\n"},
			want: []string{
				"board/model ok", "board/arch ok", "board/cpus ok", "board/memory ok", "board/temperature ok",
				"board/throttling warn", "board/user ok",
				"libraries/libtensorflowlite_c.so skip", "libraries/libexternal_delegate_obj.so skip", "libraries/libedgetpu.so.1 skip",
				"edgetpu/usb 1-1.2 ok", "edgetpu/usb 1-1.2 speed warn",
				"cameras/video0 ok", "cameras/other skip",
			},
			says: map[string]string{
				"board/model":               "Raspberry Pi 4 Model B Rev 1.4",
				"board/arch":                "linux/arm64 binary, aarch64 kernel, arm64 userland",
				"board/cpus":                "4",
				"board/memory":              "3.7 GiB, 3.2 GiB available",
				"board/temperature":         "52.1 °C (cpu-thermal)",
				"board/throttling":          "since boot: under-voltage, throttled (0x50000)",
				"edgetpu/usb 1-1.2":         "18d1:9302, /dev/bus/usb/001/003",
				"edgetpu/usb 1-1.2 speed":   "blue on a Raspberry Pi 4/5",
				"cameras/video0":            "HD Pro Webcam C920",
				"cameras/other":             "video10 video11 video12: 3 codec",
				"libraries/libedgetpu.so.1": "only the tflite build uses it",
			},
		},
		{
			name: "pi4 accelerator without udev rules", tree: "pi4", goarch: "arm64",
			denied: []string{"/dev/bus/usb/001/003"},
			want: []string{
				"board/model ok", "board/arch ok", "board/cpus ok", "board/memory ok", "board/temperature ok", "board/user ok",
				"libraries/libtensorflowlite_c.so skip", "libraries/libexternal_delegate_obj.so skip", "libraries/libedgetpu.so.1 skip",
				"edgetpu/usb 1-1.2 fail", "edgetpu/usb 1-1.2 speed warn",
				"cameras/video0 ok", "cameras/other skip",
			},
			says: map[string]string{
				"edgetpu/usb 1-1.2": "install Coral's udev rules (libedgetpu1-std ships 99-edgetpu-accelerator.rules), add pi to plugdev",
			},
		},
		{
			name: "pi4 accelerator with udev rules, user not in plugdev", tree: "pi4", goarch: "arm64",
			files:  map[string]string{"lib/udev/rules.d/99-edgetpu-accelerator.rules": "\n"},
			denied: []string{"/dev/bus/usb/001/003", "/dev/video0"},
			want: []string{
				"board/model ok", "board/arch ok", "board/cpus ok", "board/memory ok", "board/temperature ok", "board/user ok",
				"libraries/libtensorflowlite_c.so skip", "libraries/libexternal_delegate_obj.so skip", "libraries/libedgetpu.so.1 skip",
				"edgetpu/usb 1-1.2 fail", "edgetpu/usb 1-1.2 speed warn",
				"cameras/video0 fail", "cameras/other skip",
			},
			says: map[string]string{
				"edgetpu/usb 1-1.2": "add pi to plugdev (sudo usermod -aG plugdev pi), log in again and replug",
				"cameras/video0":    "sudo usermod -aG video pi",
			},
		},
		{
			name: "pi4 32-bit agent", tree: "pi4", goarch: "arm",
			want: []string{
				"board/model ok", "board/arch ok", "board/cpus ok", "board/memory ok", "board/temperature ok", "board/user ok",
				"libraries/libtensorflowlite_c.so skip", "libraries/libexternal_delegate_obj.so skip", "libraries/libedgetpu.so.1 skip",
				"edgetpu/usb 1-1.2 ok", "edgetpu/usb 1-1.2 speed warn",
				"cameras/video0 ok", "cameras/other skip",
			},
			says: map[string]string{
				"board/arch":                       "a 32-bit binary on a 64-bit kernel runs fine; the libraries of a tflite build must be armhf, this OS installs arm64 ones",
				"libraries/libtensorflowlite_c.so": "/usr/lib/arm-linux-gnueabihf, /usr/local/lib, /usr/lib",
			},
		},
		{
			name: "pi3 usb2 only", tree: "pi4", goarch: "arm64",
			files: map[string]string{"proc/device-tree/model": "Raspberry Pi 3 Model B Plus Rev 1.3\x00"},
			want: []string{
				"board/model ok", "board/arch ok", "board/cpus ok", "board/memory ok", "board/temperature ok", "board/user ok",
				"libraries/libtensorflowlite_c.so skip", "libraries/libexternal_delegate_obj.so skip", "libraries/libedgetpu.so.1 skip",
				"edgetpu/usb 1-1.2 ok", "edgetpu/usb 1-1.2 speed warn",
				"cameras/video0 ok", "cameras/other skip",
			},
			says: map[string]string{"edgetpu/usb 1-1.2 speed": "a Raspberry Pi 3 has only USB 2 ports"},
		},
		{
			name: "coral dev board", tree: "coral", goarch: "arm64",
			want: []string{
				"board/model ok", "board/arch ok", "board/cpus ok", "board/memory ok", "board/temperature ok", "board/user ok",
				"libraries/libtensorflowlite_c.so skip", "libraries/libexternal_delegate_obj.so skip", "libraries/libedgetpu.so.1 skip",
				"edgetpu/apex_0 ok",
				"cameras/video skip",
			},
			says: map[string]string{
				"board/model":    "Freescale i.MX8MQ Phanbell (Coral Dev Board)",
				"edgetpu/apex_0": "PCIe Edge TPU /dev/apex_0",
			},
		},
		{
			name: "coral dev board, apex node not for this user", tree: "coral", goarch: "arm64",
			denied: []string{"/dev/apex_0"},
			want: []string{
				"board/model ok", "board/arch ok", "board/cpus ok", "board/memory ok", "board/temperature ok", "board/user ok",
				"libraries/libtensorflowlite_c.so skip", "libraries/libexternal_delegate_obj.so skip", "libraries/libedgetpu.so.1 skip",
				"edgetpu/apex_0 fail",
				"cameras/video skip",
			},
			says: map[string]string{"edgetpu/apex_0": `GROUP="apex"`},
		},
		{
			name: "jetson nano, nothing attached", tree: "jetson", goarch: "arm64",
			want: []string{
				"board/model ok", "board/arch ok", "board/cpus ok", "board/memory ok", "board/temperature ok", "board/user ok",
				"libraries/libtensorflowlite_c.so skip", "libraries/libexternal_delegate_obj.so skip", "libraries/libedgetpu.so.1 skip",
				"edgetpu/edgetpu skip",
				"cameras/video skip",
			},
			says: map[string]string{
				"board/model":       "NVIDIA Jetson Nano Developer Kit",
				"board/temperature": "38.5 °C (CPU-therm)",
				"edgetpu/edgetpu":   "none found",
			},
		},
		{
			name: "x86 box, M.2 Edge TPU without its driver", tree: "x86", goarch: "amd64",
			files: map[string]string{
				"sys/bus/pci/devices/0000:03:00.0/vendor": "0x1ac1\n",
				"sys/bus/pci/devices/0000:03:00.0/device": "0x089a\n",
				"sys/bus/pci/devices/0000:00:02.0/vendor": "0x8086\n",
				"sys/bus/pci/devices/0000:00:02.0/device": "0x3e92\n",
			},
			denied: []string{"/dev/video0"},
			want: []string{
				"board/model ok", "board/arch ok", "board/cpus ok", "board/memory ok", "board/temperature ok", "board/user ok",
				"libraries/libtensorflowlite_c.so skip", "libraries/libexternal_delegate_obj.so skip", "libraries/libedgetpu.so.1 skip",
				"edgetpu/pci 0000:03:00.0 fail",
				"cameras/video0 fail",
			},
			says: map[string]string{
				"board/model":              "Dell Inc. OptiPlex 7060",
				"board/arch":               "linux/amd64 binary, x86_64 kernel, amd64 userland",
				"board/cpus":               "2",
				"board/temperature":        "41.0 °C (x86_pkg_temp)",
				"edgetpu/pci 0000:03:00.0": "install gasket-dkms and libedgetpu1-std",
				"cameras/video0":           "permission denied",
			},
		},
		{
			name: "x86 box, gasket-dkms installed but apex not loaded", tree: "x86", goarch: "amd64",
			files: map[string]string{
				"sys/bus/pci/devices/0000:03:00.0/vendor": "0x1ac1\n",
				"sys/bus/pci/devices/0000:03:00.0/device": "0x089a\n",
				"var/lib/dpkg/status": "Package: dpkg\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.21.22\n\n" +
					"Package: gasket-dkms\nStatus: install ok installed\nArchitecture: all\nVersion: 1.0-18\n",
			},
			want: []string{
				"board/model ok", "board/arch ok", "board/cpus ok", "board/memory ok", "board/temperature ok", "board/user ok",
				"libraries/libtensorflowlite_c.so skip", "libraries/libexternal_delegate_obj.so skip", "libraries/libedgetpu.so.1 skip",
				"edgetpu/pci 0000:03:00.0 fail",
				"cameras/video0 ok",
			},
			says: map[string]string{"edgetpu/pci 0000:03:00.0": "gasket-dkms 1.0-18 installed, apex module not loaded"},
		},
		{
			name: "amd64 agent on an arm board", tree: "jetson", goarch: "amd64",
			want: []string{
				"board/model ok", "board/arch warn", "board/cpus ok", "board/memory ok", "board/temperature ok", "board/user ok",
				"libraries/libtensorflowlite_c.so skip", "libraries/libexternal_delegate_obj.so skip", "libraries/libedgetpu.so.1 skip",
				"edgetpu/edgetpu skip",
				"cameras/video skip",
			},
			says: map[string]string{"board/arch": "build the agent for GOARCH=arm64"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := copyTree(t, tt.tree)
			writeFiles(t, root, tt.files)
			h := Host{Root: root, GOARCH: tt.goarch, Access: denyAccess(root, tt.denied...), User: pi}
			r := Diagnose(Options{Host: h, Backends: []string{"native"}})
			if got := summary(r); !slices.Equal(got, tt.want) {
				t.Errorf("results\n got %q\nwant %q", got, tt.want)
			}
			for key, text := range tt.says {
				group, name, _ := strings.Cut(key, "/")
				res := r.Find(group, name)
				if res == nil {
					t.Errorf("no result %s", key)
					continue
				}
				if !strings.Contains(res.Detail+" | "+res.Fix, text) {
					t.Errorf("%s: %q | %q, want it to say %q", key, res.Detail, res.Fix, text)
				}
			}
			for _, res := range r.Results {
				if (res.Status == Fail || res.Status == Warn) && res.Fix == "" {
					t.Errorf("%s/%s is %v without a fix: %s", res.Group, res.Name, res.Status, res.Detail)
				}
			}
		})
	}
}

// TestGoldenText pins the checklist's layout on the Pi 4 tree.
func TestGoldenText(t *testing.T) {
	root := copyTree(t, "pi4")
	writeFiles(t, root, map[string]string{"sys/devices/platform/soc/soc:firmware/get_throttled": "50000\n"})
	h := Host{Root: root, GOARCH: "arm64", Access: denyAccess(root, "/dev/video0"), User: pi}
	var buf bytes.Buffer
	if err := Diagnose(Options{Host: h, Backends: []string{"native"}}).WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "pi4.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGoldenText -update)", err)
	}
	if got := buf.String(); got != string(want) {
		t.Errorf("text output differs from %s (go test -run TestGoldenText -update rewrites it)\n got:\n%s\nwant:\n%s", golden, got, want)
	}
}

func TestJSON(t *testing.T) {
	root := copyTree(t, "x86")
	h := Host{Root: root, GOARCH: "amd64", Access: denyAccess(root, "/dev/video0")}
	r := Diagnose(Options{Host: h, Backends: []string{"native"}})
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got JSONReport
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, buf.Bytes())
	}
	if got.OK || got.Failed != 1 || got.Warnings != 0 || len(got.Checks) != len(r.Results) {
		t.Errorf("ok %v, failed %d, warnings %d, %d checks; want false, 1, 0, %d", got.OK, got.Failed, got.Warnings, len(got.Checks), len(r.Results))
	}
	if !slices.Equal(got.Checks, r.Results) {
		t.Errorf("checks do not round-trip:\n got %+v\nwant %+v", got.Checks, r.Results)
	}
	if !bytes.Contains(buf.Bytes(), []byte(`"status": "fail"`)) {
		t.Errorf("statuses should be words:\n%s", buf.Bytes())
	}
}

// TestExtra: extra checks run last, see what the built-in ones found, and
// get their group filled in.
func TestExtra(t *testing.T) {
	root := copyTree(t, "coral")
	var sawTPUs []TPU
	extra := Check{Group: "tflite", Run: func(e *Env) []Result {
		sawTPUs = e.TPUs
		lib := e.Libraries[LibEdgeTPU]
		return []Result{{Name: "delegate", Status: e.NeedEdgeTPU().Missing(), Detail: fmt.Sprintf("libedgetpu at %q", lib.Path)}}
	}}
	r := Diagnose(Options{Host: Host{Root: root, GOARCH: "arm64", Access: denyAccess(root)}, Extra: []Check{extra}})
	last := r.Results[len(r.Results)-1]
	if last.Group != "tflite" || last.Name != "delegate" || last.Status != Skip || last.Detail != `libedgetpu at ""` {
		t.Errorf("last result %+v, want the extra check's, group tflite", last)
	}
	if want := []TPU{{Kind: "pci", Node: "/dev/apex_0", Usable: true}}; !slices.Equal(sawTPUs, want) {
		t.Errorf("extra check saw TPUs %+v, want %+v", sawTPUs, want)
	}
}

func TestStatusText(t *testing.T) {
	for s := OK; s <= Fail; s++ {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Status
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("%v: round trip gives %v, %v", s, back, err)
		}
	}
	if _, err := Status(9).MarshalText(); err == nil {
		t.Error("Status(9).MarshalText: no error")
	}
	var s Status
	if err := s.UnmarshalText([]byte("bad")); err == nil || !strings.Contains(err.Error(), "ok, skip, warn or fail") {
		t.Errorf("UnmarshalText(bad) = %v", err)
	}
}

func TestClassifyBoard(t *testing.T) {
	tests := []struct {
		model, compat string
		kind          boardKind
		gen           int
		str           string
	}{
		{"Raspberry Pi 5 Model B Rev 1.0", "raspberrypi,5-model-b\x00brcm,bcm2712\x00", kindPi, 5, "Raspberry Pi 5 Model B Rev 1.0"},
		{"Raspberry Pi Compute Module 4 Rev 1.0", "", kindPi, 4, "Raspberry Pi Compute Module 4 Rev 1.0"},
		{"Raspberry Pi 3 Model B Rev 1.2", "", kindPi, 3, "Raspberry Pi 3 Model B Rev 1.2"},
		{"Freescale i.MX8MQ Phanbell", "", kindCoralDev, 0, "Freescale i.MX8MQ Phanbell (Coral Dev Board)"},
		{"MediaTek MT8167 board", "", kindCoralMini, 0, "MediaTek MT8167 board (Coral Dev Board Mini)"},
		{"Coral Dev Board Mini", "", kindCoralMini, 0, "Coral Dev Board Mini"},
		{"some board", "mediatek,mt8167\x00", kindCoralMini, 0, "some board (Coral Dev Board Mini)"},
		{"NVIDIA Jetson Xavier NX Developer Kit", "", kindJetson, 0, "NVIDIA Jetson Xavier NX Developer Kit"},
		{"Jetson-AGX", "nvidia,p2972-0000\x00nvidia,tegra194\x00", kindJetson, 0, "Jetson-AGX"},
		{"NVIDIA Jetson AGX Orin Developer Kit", "", kindJetson, 0, "NVIDIA Jetson AGX Orin Developer Kit"},
		{"Pine64 RockPro64", "", kindUnknown, 0, "Pine64 RockPro64"},
	}
	for _, tt := range tests {
		b := classifyBoard(tt.model, []byte(tt.compat))
		if b.kind != tt.kind || b.piGen != tt.gen || b.String() != tt.str {
			t.Errorf("classifyBoard(%q) = kind %d gen %d %q; want %d %d %q", tt.model, b.kind, b.piGen, b.String(), tt.kind, tt.gen, tt.str)
		}
	}
}

func TestThrottle(t *testing.T) {
	tests := []struct {
		v      uint32
		status Status
		detail string
		fix    string
	}{
		{0, OK, "none since boot", ""},
		{0x50005, Warn, "now: under-voltage, throttled (0x50005)", "power supply"},
		{0x80000, Warn, "since boot: soft temperature limit (0x80000)", "heatsink"},
		{0x20002, Warn, "now: CPU frequency capped (0x20002)", "heatsink"},
	}
	for _, tt := range tests {
		r := throttleResult(tt.v)
		if r.Status != tt.status || r.Detail != tt.detail || !strings.Contains(r.Fix, tt.fix) {
			t.Errorf("throttleResult(%#x) = %v %q %q; want %v %q, fix with %q", tt.v, r.Status, r.Detail, r.Fix, tt.status, tt.detail, tt.fix)
		}
	}
}

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"0", 1, true}, {"0-3", 4, true}, {"0,2-3\n", 3, true}, {"0-3,8-11", 8, true},
		{"", 0, false}, {"3-0", 0, false}, {"a", 0, false}, {"0-", 0, false}, {"0-99999", 0, false},
	}
	for _, tt := range tests {
		got, err := parseCPUList(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parseCPUList(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseDpkgStatus(t *testing.T) {
	data := []byte("Package: dpkg\nStatus: install ok installed\nArchitecture: arm64\nVersion: 1.21.22\nDescription: x\n continued: not a field\n\n" +
		"Package: libedgetpu1-max\nStatus: deinstall ok config-files\nArchitecture: arm64\nVersion: 15.0\n\n\n" +
		"garbage line\nPackage: libedgetpu1-std\r\nStatus: install ok installed\nArchitecture: arm64\nVersion: 16.0")
	got := parseDpkgStatus(data)
	want := []dpkgPackage{
		{Name: "dpkg", Arch: "arm64", Version: "1.21.22", Installed: true},
		{Name: "libedgetpu1-max", Arch: "arm64", Version: "15.0"},
		{Name: "libedgetpu1-std", Arch: "arm64", Version: "16.0", Installed: true},
	}
	if !slices.Equal(got, want) {
		t.Errorf("parseDpkgStatus\n got %+v\nwant %+v", got, want)
	}
}

func TestNaturalOrder(t *testing.T) {
	got := []string{"/dev/video10", "/dev/video2", "/dev/video1", "/dev/apex_0", "/dev/video"}
	slices.SortFunc(got, naturalCompare)
	want := []string{"/dev/apex_0", "/dev/video", "/dev/video1", "/dev/video2", "/dev/video10"}
	if !slices.Equal(got, want) {
		t.Errorf("sorted %q, want %q", got, want)
	}
}

func TestMeminfo(t *testing.T) {
	got := parseMeminfo([]byte("MemTotal: 1024 kB\nHugePages_Total: 0\nbad\nMemAvailable: x kB\nHuge: 99999999999999999 kB\n"))
	if got["MemTotal"] != 1<<20 || got["HugePages_Total"] != 0 || len(got) != 2 {
		t.Errorf("parseMeminfo = %v", got)
	}
}
