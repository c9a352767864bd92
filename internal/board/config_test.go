package board

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/internal/testdata"
)

// writeConfig writes an agent config using the Coral MobileNet v1 0.25
// fixture: compiled for the Edge TPU as m_edgetpu.tflite, with its CPU
// twin m.tflite when twin is set.
func writeConfig(t *testing.T, backend, extra string, twin bool) string {
	t.Helper()
	dir := t.TempDir()
	copyFile := func(rel, dst string) {
		b, err := os.ReadFile(testdata.Path(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile("models/coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite", "m_edgetpu.tflite")
	if twin {
		copyFile("models/coral/mobilenet_v1_0.25_128_quant.tflite", "m.tflite")
	}
	copyFile("models/coral/mobilenet_v1_0.5_160_quant.tflite", "cpu.tflite")
	cfg := `version: 1
device:
  id: test
model:
  backend: ` + backend + `
` + extra + `
cameras:
  - name: belt
    source:
      type: v4l2
      device: /dev/video0
    trigger:
      type: continuous
`
	if !strings.Contains(extra, "path:") {
		cfg = strings.Replace(cfg, "model:\n", "model:\n  path: m_edgetpu.tflite\n", 1)
	}
	p := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfig checks configs against the fake boards: what each backend
// needs of this binary and this machine.
func TestConfig(t *testing.T) {
	tests := []struct {
		name     string
		tree     string
		backend  string
		extra    string // more model keys
		twin     bool
		backends []string // besides native
		denied   []string
		want     []string          // the results of these groups, in order
		groups   []string          // which groups want lists
		says     map[string]string // "group/name" → text in detail or fix
	}{
		{
			name: "edgetpu in the pure-Go agent", tree: "pi4", backend: "edgetpu", twin: true,
			groups: []string{"libraries", "edgetpu", "config"},
			want: []string{
				"libraries/libtensorflowlite_c.so fail", "libraries/libexternal_delegate_obj.so fail", "libraries/libedgetpu.so.1 fail",
				"edgetpu/usb 1-1.2 ok", "edgetpu/usb 1-1.2 speed warn", "edgetpu/device ok",
				"config/config ok", "config/model ok", "config/cpu model ok", "config/backend fail",
			},
			says: map[string]string{
				"config/model":              "m_edgetpu.tflite (",
				"config/cpu model":          "m.tflite: the CPU takes over",
				"config/backend":            "pure-Go build",
				"edgetpu/device":            "model.edgetpu.device any: 1 usable Edge TPU",
				"libraries/libedgetpu.so.1": "apt-get install libedgetpu1-std",
			},
		},
		{
			name: "edgetpu in the tflite agent, accelerator not for this user", tree: "pi4", backend: "edgetpu",
			backends: []string{"tflite", "edgetpu"}, denied: []string{"/dev/bus/usb/001/003"},
			groups: []string{"edgetpu", "config"},
			want: []string{
				"edgetpu/usb 1-1.2 fail", "edgetpu/usb 1-1.2 speed warn", "edgetpu/device fail",
				"config/config ok", "config/model ok", "config/cpu model warn", "config/backend fail",
			},
			says: map[string]string{
				"config/cpu model": "nothing takes over when the TPU stalls",
				"config/backend":   "no usable Edge TPU",
			},
		},
		{
			name: "edgetpu wants a PCIe TPU, there is a USB one", tree: "pi4", backend: "edgetpu", twin: true,
			extra: "  edgetpu:\n    device: pci", backends: []string{"tflite", "edgetpu"},
			groups: []string{"edgetpu", "config"},
			want: []string{
				"edgetpu/usb 1-1.2 ok", "edgetpu/usb 1-1.2 speed warn", "edgetpu/device fail",
				"config/config ok", "config/model ok", "config/cpu model ok", "config/backend fail",
			},
			says: map[string]string{"edgetpu/device": "model.edgetpu.device pci: 0 usable Edge TPUs, 1 needed"},
		},
		{
			name: "auto on a board without a TPU, no CPU model", tree: "jetson", backend: "auto",
			backends: []string{"tflite", "edgetpu"},
			groups:   []string{"libraries", "edgetpu", "cameras", "config"},
			want: []string{
				"libraries/libtensorflowlite_c.so warn", "libraries/libexternal_delegate_obj.so warn", "libraries/libedgetpu.so.1 warn",
				"edgetpu/edgetpu warn",
				"cameras/video0 warn",
				"config/config ok", "config/model ok", "config/cpu model fail", "config/backend warn",
			},
			says: map[string]string{
				"config/cpu model": "without a usable Edge TPU nothing can classify",
				"config/backend":   "auto: the CPU model, for want of a usable Edge TPU",
				"cameras/video0":   "/dev/video0 (cameras[0] belt) is not present",
			},
		},
		{
			name: "auto, pure-Go agent, a TPU sits idle", tree: "coral", backend: "auto", twin: true,
			groups: []string{"edgetpu", "config"},
			want: []string{
				"edgetpu/apex_0 ok", "edgetpu/device ok",
				"config/config ok", "config/model ok", "config/cpu model ok", "config/backend warn",
			},
			says: map[string]string{"config/backend": "the Edge TPU sits idle"},
		},
		{
			name: "auto, tflite agent, PCIe TPU", tree: "coral", backend: "auto", twin: true,
			backends: []string{"tflite", "edgetpu"},
			groups:   []string{"config"},
			want:     []string{"config/config ok", "config/model ok", "config/cpu model ok", "config/backend ok"},
			says:     map[string]string{"config/backend": "auto: edgetpu (a TPU is usable)"},
		},
		{
			name: "native with an Edge TPU model", tree: "x86", backend: "native",
			groups: []string{"libraries", "config"},
			want: []string{
				"libraries/libtensorflowlite_c.so skip", "libraries/libexternal_delegate_obj.so skip", "libraries/libedgetpu.so.1 skip",
				"config/config ok", "config/model ok", "config/backend fail",
			},
			says: map[string]string{"config/backend": "native cannot run a model compiled for the Edge TPU"},
		},
		{
			name: "native with a CPU model", tree: "x86", backend: "native", extra: "  path: cpu.tflite",
			groups: []string{"cameras", "config"},
			want:   []string{"cameras/video0 ok", "config/config ok", "config/model ok", "config/backend ok"},
			says: map[string]string{
				"cameras/video0": "Integrated Camera (cameras[0] belt)",
				"config/model":   "cpu.tflite (",
			},
		},
		{
			name: "model.cpu_model compiled too", tree: "coral", backend: "edgetpu", extra: "  cpu_model: m_edgetpu.tflite",
			backends: []string{"tflite", "edgetpu"},
			groups:   []string{"config"},
			want:     []string{"config/config ok", "config/model ok", "config/cpu model fail", "config/backend ok"},
			says:     map[string]string{"config/cpu model": "is compiled for the Edge TPU too"},
		},
		{
			name: "tflite in the pure-Go agent", tree: "x86", backend: "tflite", extra: "  path: cpu.tflite",
			groups: []string{"libraries", "config"},
			want: []string{
				"libraries/libtensorflowlite_c.so fail", "libraries/libexternal_delegate_obj.so skip", "libraries/libedgetpu.so.1 skip",
				"config/config ok", "config/model ok", "config/backend fail",
			},
		},
		{
			name: "missing model", tree: "x86", backend: "native", extra: "  path: nothere.tflite",
			groups: []string{"config"},
			want:   []string{"config/config ok", "config/model fail", "config/backend ok"},
			says:   map[string]string{"config/model": "no such file"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := writeConfig(t, tt.backend, tt.extra, tt.twin)
			root := copyTree(t, tt.tree)
			h := Host{Root: root, GOARCH: "arm64", Access: denyAccess(root, tt.denied...), User: pi}
			if tt.tree == "x86" {
				h.GOARCH = "amd64"
			}
			r := Diagnose(Options{Host: h, ConfigPath: cfg, Backends: append([]string{"native"}, tt.backends...)})
			var got []string
			for _, s := range summary(r) {
				if g, _, _ := strings.Cut(s, "/"); slices.Contains(tt.groups, g) {
					got = append(got, s)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("results\n got %q\nwant %q", got, tt.want)
			}
			for key, text := range tt.says {
				group, name, _ := strings.Cut(key, "/")
				res := r.Find(group, name)
				if res == nil {
					t.Errorf("no result %s", key)
				} else if !strings.Contains(res.Detail+" | "+res.Fix, text) {
					t.Errorf("%s: %q | %q, want it to say %q", key, res.Detail, res.Fix, text)
				}
			}
			for _, res := range r.Results {
				if res.Status >= Warn && res.Fix == "" {
					t.Errorf("%s/%s is %v without a fix: %s", res.Group, res.Name, res.Status, res.Detail)
				}
			}
		})
	}
}

func TestConfigDoesNotLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(p, []byte("version: 1\nmodel:\n  bakend: native\n  top: -1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := copyTree(t, "jetson")
	for _, tt := range []struct{ path, detail, fix string }{
		{p, "model.path: missing: the .tflite model file (and 3 more)", "agent validate " + p},
		{filepath.Join(dir, "none.yaml"), "no such file", "--config"},
	} {
		r := Diagnose(Options{Host: Host{Root: root, GOARCH: "arm64"}, ConfigPath: tt.path, Backends: []string{"native"}})
		res := r.Find("config", "config")
		if res == nil || res.Status != Fail || !strings.Contains(res.Detail, tt.detail) || !strings.Contains(res.Fix, tt.fix) {
			t.Errorf("%s: %+v, want a failure saying %q, fix %q", tt.path, res, tt.detail, tt.fix)
		}
		if strings.Contains(res.Detail, "\n") {
			t.Errorf("detail spans lines: %q", res.Detail)
		}
		// Without a config nothing is known to be needed.
		if lib := r.Find("libraries", LibEdgeTPU); lib.Status != Skip {
			t.Errorf("libedgetpu: %v, want skip when the config does not load", lib.Status)
		}
	}
}
