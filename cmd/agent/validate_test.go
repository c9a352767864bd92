package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/internal/cli"
	"github.com/fruitcam/fruitcam/internal/config"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// validate runs `agent validate args` through the command frame, as main
// will once validate is in its table.
func validate(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	cmds := []cli.Command{{Name: "validate", Summary: "check config files", Run: cmdValidate}}
	code = cli.Main("agent", cmds, append([]string{"validate"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// writeConfig writes a config file into a temporary directory.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agent.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestValidateUsage(t *testing.T) {
	if code, _, stderr := validate(); code != 2 || !strings.Contains(stderr, "no config files given") {
		t.Errorf("validate without files: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := validate("--bogus", "x.yaml"); code != 2 || !strings.Contains(stderr, "flag provided but not defined") {
		t.Errorf("validate --bogus: exit %d, stderr %q", code, stderr)
	}
}

// TestValidateConfigs checks every example config, offline (their models
// and devices live on the boards).
func TestValidateConfigs(t *testing.T) {
	t.Setenv("FRUITCAM_BROKER", "ssl://broker.test:8883")
	files, err := filepath.Glob("../../configs/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no configs: %v", err)
	}
	code, stdout, stderr := validate(append([]string{"--offline"}, files...)...)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, f := range files {
		if !strings.Contains(stdout, f+": ok\n") {
			t.Errorf("stdout lacks %q:\n%s", f+": ok", stdout)
		}
	}
}

// TestValidateDemo checks the demo config on this machine, model included.
func TestValidateDemo(t *testing.T) {
	mobileNet(t)
	testdata.Path(t, "images/fruits360/Test")
	t.Setenv("FRUITCAM_DEMO_PASSWORD", "demo")
	code, stdout, stderr := validate("../../configs/demo.yaml")
	if code != 0 || stdout != "../../configs/demo.yaml: ok\n" || stderr != "" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestValidateErrors(t *testing.T) {
	path := writeConfig(t, `version: 1
model:
  path: m.tflite
  bakend: native
infer:
  batch:
    size: -1
cameras:
  - name: cam0
    source: {type: pattern}
`)
	code, stdout, stderr := validate("--offline", path, "/nonexistent/agent.yaml")
	want := path + ":4: model.bakend: unknown key (did you mean backend?)\n" +
		path + ":7: infer.batch.size: -1 is not positive\n" +
		"config: open /nonexistent/agent.yaml: no such file or directory\n" +
		"agent: 2 of 2 config files have errors\n"
	if code != 1 || stdout != "" || stderr != want {
		t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 1, stderr:\n%s", code, stdout, stderr, want)
	}
}

// TestValidateHost checks that host problems are reported unless
// --offline: errors fail, warnings do not.
func TestValidateHost(t *testing.T) {
	path := writeConfig(t, `version: 1
model:
  path: missing.tflite
cameras:
  - name: cam0
    source: {type: v4l2, device: /dev/fruitcam-no-such-camera}
`)
	code, stdout, stderr := validate(path)
	want := path + ":3: model.path: model: " + filepath.Join(filepath.Dir(path), "missing.tflite") + ": no such file or directory\n" +
		path + ":6: cameras[0].source.device: warning: /dev/fruitcam-no-such-camera is not present; the agent will wait for it\n" +
		"agent: 1 of 1 config files have errors\n"
	if code != 1 || stdout != "" || stderr != want {
		t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant:\n%s", code, stdout, stderr, want)
	}
	if code, stdout, _ := validate("--offline", path); code != 0 || stdout != path+": ok\n" {
		t.Errorf("--offline: exit %d, stdout %q", code, stdout)
	}
}

// TestValidateModel checks what validate learns from reading the model.
func TestValidateModel(t *testing.T) {
	model, labels, _ := mobileNet(t)
	tpuModel := testdata.Path(t, "models/coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite")
	lonely := filepath.Join(t.TempDir(), "m_edgetpu.tflite")
	if b, err := os.ReadFile(tpuModel); err != nil || os.WriteFile(lonely, b, 0o644) != nil {
		t.Fatal("copy the Edge TPU model", err)
	}
	base := "version: 1\ncameras: [{name: cam0, source: {type: pattern}}]\nmodel:\n  path: " + model + "\n  labels: " + labels + "\n"
	tests := []struct {
		name, text string
		code       int
		stderr     string
	}{
		{"actuator labels", base + "actuators:\n  - {label: Lemon, pin: GPIO27}\n  - {label: lemon, pin: GPIO22}\n  - {label: unknown, pin: GPIO23}\n  - {label: Kumquat, pin: GPIO24}\n", 1,
			":7: actuators[0].label: \"Lemon\" is not a label of the model, so the actuator would never fire (the model spells it \"lemon\")\n" +
				":10: actuators[3].label: \"Kumquat\" is not a label of the model, so the actuator would never fire\n"},
		{"no labels for actuators", "version: 1\ncameras: [{name: cam0, source: {type: pattern}}]\nmodel:\n  path: " + model + "\nactuators:\n  - {label: lemon, pin: GPIO27}\n", 1,
			":5: actuators: the model has no labels to match actuators against: set model.labels\n"},
		{"Edge TPU model on the CPU", "version: 1\ncameras: [{name: cam0, source: {type: pattern}}]\nmodel:\n  path: " + tpuModel + "\n  backend: tflite\n", 1,
			":5: model.backend: " + tpuModel + " is compiled for the Coral Edge TPU: backend tflite cannot run it"},
		{"CPU model on the Edge TPU", base + "  backend: edgetpu\n", 0,
			":6: model.backend: warning: " + model + " is not compiled for the Edge TPU"},
		{"Edge TPU model with its CPU twin", "version: 1\ncameras: [{name: cam0, source: {type: pattern}}]\nmodel:\n  path: " + tpuModel + "\n  backend: auto\n", 0, ""},
		{"Edge TPU model, unlike CPU model", "version: 1\ncameras: [{name: cam0, source: {type: pattern}}]\nmodel:\n  path: " + tpuModel + "\n  backend: auto\n  cpu_model: " + model + "\n", 1,
			":6: model.cpu_model: CPU model " + model + " cannot stand in for " + tpuModel + ": input 0"},
		{"Edge TPU model alone", "version: 1\ncameras: [{name: cam0, source: {type: pattern}}]\nmodel:\n  path: " + lonely + "\n  backend: edgetpu\n", 0,
			":4: model.path: warning: no CPU model " + strings.TrimSuffix(lonely, "_edgetpu.tflite") + ".tflite beside " + lonely + ": without a TPU, or when it fails, nothing will classify"},
	}
	for _, tt := range tests {
		path := writeConfig(t, tt.text)
		code, _, stderr := validate(path)
		want := path + strings.ReplaceAll(tt.stderr, "\n:", "\n"+path+":")
		if tt.stderr == "" {
			want = ""
		}
		if code != tt.code || !strings.Contains(stderr, want) || (want == "" && stderr != "") {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit %d, stderr with:\n%s", tt.name, code, stderr, tt.code, path+tt.stderr)
		}
	}
}

// TestValidatePrint checks that --print writes the effective config, which
// reads back as the same config.
func TestValidatePrint(t *testing.T) {
	path := writeConfig(t, "version: 1\nmodel: {path: m.tflite}\ncameras: [{name: cam0, source: {type: pattern}}]\ndevice: {id: d1}\n")
	code, stdout, stderr := validate("--offline", "--print", path, path)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	docs := strings.Split(stdout, "---\n")
	if len(docs) != 2 || !strings.HasPrefix(docs[0], "# "+path+": the effective config\nversion: 1\n") {
		t.Fatalf("stdout:\n%s", stdout)
	}
	for _, want := range []string{"  timeout: 20ms\n", "  path: " + filepath.Join(filepath.Dir(path), "m.tflite") + "\n", "  client_id: fruitcam-d1\n"} {
		if !strings.Contains(docs[0], want) {
			t.Errorf("effective config lacks %q:\n%s", want, docs[0])
		}
	}
	c, err := config.Parse([]byte(docs[0]), "printed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Model.Path != filepath.Join(filepath.Dir(path), "m.tflite") || c.Cameras[0].Source.Width != 640 {
		t.Errorf("printed config reads back as %+v", c)
	}
}
