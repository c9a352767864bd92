package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const fleetBase = `version: 1
device: {id: belt-1, group: line}
model: {path: /m/a.tflite, top: 3}
cameras:
  - name: belt
    source: {type: v4l2, device: /dev/video0}
    roi: {x: 10, width: 100}
  - name: side
    source: {type: pattern}
pipeline: {threshold: 0.5}
actuators:
  - {label: lemon, pin: GPIO27}
signing: {trusted_keys: /etc/keys}
fleet: {dir: /var/lib/fleet}
`

func parseBase(t *testing.T) *Config {
	t.Helper()
	c, err := Parse([]byte(fleetBase), "board.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseLayerErrors(t *testing.T) {
	const sum = "7d3c0a8f4b2e19c6a5d8e1f0b3c7a9d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4"
	for _, tc := range []struct{ name, yaml, want string }{
		{"empty", "", "g: empty"},
		{"not a mapping", "- 1\n", "g:1: a fleet config is a mapping"},
		{"no version", "pipeline: {threshold: 0.5}\n", "g:1: version: missing"},
		{"wrong version", "version: 2\n", "g:1: version: \"2\" is not supported"},
		{"mqtt", "version: 1\nmqtt: {broker: tcp://evil:1883}\n", "g:2: mqtt: a fleet config may not set mqtt"},
		{"signing", "version: 1\nsigning: {trusted_keys: /tmp/k}\n", "g:2: signing: a fleet config may not set signing"},
		{"device", "version: 1\ndevice: {id: x}\n", "g:2: device: a fleet config may not set device"},
		{"unknown key", "version: 1\npipeline: {treshold: 0.5}\n", "g:2: pipeline.treshold: unknown key (did you mean threshold?)"},
		{"wrong type", "version: 1\nmodel: {top: many}\n", "g:2: model.top: \"many\" is not a whole number"},
		{"relative path", "version: 1\nmodel: {path: m.tflite}\n", "g:2: model.path: \"m.tflite\" is relative"},
		{"url without sum", "version: 1\nmodel: {path: https://h/m.tflite}\n", "model.sha256: missing: model.path is a URL"},
		{"bad sum", "version: 1\nmodel: {path: https://h/m.tflite, sha256: abc}\n", "model.sha256: \"abc\" is not a SHA-256"},
		{"credentials", "version: 1\nmodel: {path: 'https://u:p@h/m.tflite', sha256: " + sum + "}\n", "user name or password"},
		{"camera without name", "version: 1\ncameras:\n  - roi: {x: 1}\n", "g:3: cameras[0].name: missing: cameras in a fleet config merge by name"},
		{"two documents", "version: 1\n---\nversion: 1\n", "a second YAML document"},
		{"env not expanded", "version: 1\npipeline: {unknown_label: '${HOME}'}\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := ParseLayer([]byte(tc.yaml), "g")
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ParseLayer: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseLayer = %v, %v; want an error with %q", l, err, tc.want)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	base := parseBase(t)
	group, err := ParseLayer([]byte(`version: 1
model: {path: /m/b.tflite, top: 5}
pipeline: {threshold: 0.6, unknown_label: unsure}
cameras:
  - name: belt
    trigger: {type: interval, interval: 2s}
`), "group line v3")
	if err != nil {
		t.Fatal(err)
	}
	device, err := ParseLayer([]byte(`version: 1
pipeline: {threshold: 0.7}
cameras:
  - name: belt
    roi: {y: 20}
  - name: top
    source: {type: pattern, width: 320, height: 240}
actuators: []
`), "device belt-1 v9")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Merge(base, group, device)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"model.path (group)", c.Model.Path, "/m/b.tflite"},
		{"model.top (group)", c.Model.Top, 5},
		{"threshold (device over group)", c.Pipeline.Threshold, 0.7},
		{"unknown_label (group)", c.Pipeline.UnknownLabel, "unsure"},
		{"cameras", len(c.Cameras), 3},
		{"belt trigger (group)", c.Cameras[0].Trigger.Type, TriggerInterval},
		{"belt interval (group)", c.Cameras[0].Trigger.Interval, 2 * time.Second},
		{"belt roi.x (base)", c.Cameras[0].ROI.X, 10},
		{"belt roi.y (device)", c.Cameras[0].ROI.Y, 20},
		{"belt device (base)", c.Cameras[0].Source.Device, "/dev/video0"},
		{"side untouched", c.Cameras[1].Source.Type, SourcePattern},
		{"top added", c.Cameras[2].Source.Width, 320},
		{"actuators replaced", len(c.Actuators), 0},
		{"device.id kept", c.Device.ID, "belt-1"},
		{"base unchanged", base.Pipeline.Threshold, 0.5},
		{"base cameras unchanged", len(base.Cameras), 2},
		{"base actuators unchanged", len(base.Actuators), 1},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.what, ch.got, ch.want)
		}
	}
	// A merged config that is invalid as a whole names the layer and line.
	bad, err := ParseLayer([]byte("version: 1\npipeline:\n  threshold: 1.5\n"), "device belt-1 v10")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Merge(base, group, bad)
	if err == nil || err.Error() != "device belt-1 v10:3: pipeline.threshold: 1.5 is not between 0 and 1" {
		t.Errorf("Merge(bad) = %v", err)
	}
	// And a problem in the base names the base file.
	noCam, err := ParseLayer([]byte("version: 1\ncameras:\n  - name: x\n    source: {type: folder}\n"), "g")
	if err != nil {
		t.Fatal(err)
	}
	// (the line of the source, the nearest key the layer set)
	if _, err = Merge(base, noCam); err == nil || !strings.Contains(err.Error(), "g:4: cameras[2].source.path") {
		t.Errorf("Merge(no path) = %v", err)
	}
}

// TestFleetConfigs checks the example fleet in configs/fleet: the board
// file loads, every layer parses, and each device layer merges onto the
// board with the group's.
func TestFleetConfigs(t *testing.T) {
	setConfigsEnv(t)
	fakeHost(t, "", "testhost")
	dir := filepath.Join(configsDir, "fleet")
	board, err := Load(filepath.Join(dir, "board.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if board.Fleet.Dir == "" || board.Device.Group == "" {
		t.Fatalf("board.yaml: fleet.dir %q, device.group %q", board.Fleet.Dir, board.Device.Group)
	}
	load := func(p string) *Layer {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		l, err := ParseLayer(data, p)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	group := load(filepath.Join(dir, "groups", board.Device.Group+".yaml"))
	devices, _ := filepath.Glob(filepath.Join(dir, "devices", "*.yaml"))
	if len(devices) == 0 {
		t.Fatal("configs/fleet/devices holds no device config")
	}
	for _, p := range devices {
		c, err := Merge(board, group, load(p))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if !IsURL(c.Model.Path) || c.Model.SHA256 == "" {
			t.Errorf("%s: the merged model is %q (sha256 %q), want the group's URL", p, c.Model.Path, c.Model.SHA256)
		}
	}
}

func FuzzParseLayer(f *testing.F) {
	for _, p := range []string{"groups/packing-line-1.yaml", "devices/belt-3.yaml"} {
		data, err := os.ReadFile(filepath.Join(configsDir, "fleet", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("version: 1\ncameras: [{name: a, roi: {x: 1}}]\n"))
	base, err := Parse([]byte(fleetBase), "board.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLayer(data, "fuzz")
		if err != nil {
			if l != nil {
				t.Fatal("a layer with an error")
			}
			return
		}
		c, err := Merge(base, l)
		if err != nil {
			return
		}
		if c.Device.ID != "belt-1" || c.Signing.TrustedKeys != "/etc/keys" {
			t.Fatalf("a layer changed a local section: %+v %+v", c.Device, c.Signing)
		}
	})
}
