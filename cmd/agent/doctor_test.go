package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/internal/board"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// fakeBoard copies one of package board's fake trees and points doctor at
// it. Its device nodes become mode 0666, so that access(2) lets any user
// open them, as Coral's udev rules would.
func fakeBoard(t *testing.T, tree string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS(filepath.Join("..", "..", "internal", "board", "testdata", tree))); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(filepath.Join(root, "dev"), func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == filepath.Join(root, "dev") {
			return nil // a board with no device nodes
		}
		if err != nil || d.IsDir() {
			return err
		}
		return os.Chmod(p, 0o666)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(doctorRootEnv, root)
	return root
}

func TestDoctorJSON(t *testing.T) {
	fakeBoard(t, "pi4")
	var stdout, stderr bytes.Buffer
	code := run([]string{"doctor", "--json"}, &stdout, &stderr)
	var got board.JSONReport
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("exit %d, stdout is not one JSON object: %v\n%s\nstderr: %s", code, err, stdout.Bytes(), stderr.Bytes())
	}
	// The tflite build adds its own checks, which find no library in the
	// fake tree; the default build has nothing to fail on this board.
	if !infer.HaveTFLite() && (code != 0 || !got.OK || got.Failed != 0) {
		t.Errorf("exit %d, ok %v, failed %d; want 0, true, 0\n%s", code, got.OK, got.Failed, stdout.Bytes())
	}
	want := map[string]string{
		"board/model":             "ok Raspberry Pi 4 Model B Rev 1.4",
		"edgetpu/usb 1-1.2":       "ok Coral USB Accelerator 18d1:9302, /dev/bus/usb/001/003",
		"edgetpu/usb 1-1.2 speed": "warn USB 2 (480 Mbit/s)",
		"cameras/video0":          "ok HD Pro Webcam C920",
	}
	for _, c := range got.Checks {
		key := c.Group + "/" + c.Name
		if w, ok := want[key]; ok {
			if s := c.Status.String() + " " + c.Detail; !strings.HasPrefix(s, w) {
				t.Errorf("%s: %q, want %q", key, s, w)
			}
			delete(want, key)
		}
	}
	for key := range want {
		t.Errorf("no check %s in\n%s", key, stdout.Bytes())
	}
}

// TestDoctorFails: a failed check makes the exit status 1 and says so on
// stderr; the checklist is still printed.
func TestDoctorFails(t *testing.T) {
	fakeBoard(t, "jetson")
	missing := filepath.Join(t.TempDir(), "none.yaml")
	var stdout, stderr bytes.Buffer
	code := run([]string{"doctor", "--config", missing}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "agent: doctor: 1 failed") {
		t.Errorf("exit %d, stderr %q; want 1 and the count", code, stderr.String())
	}
	for _, s := range []string{"  ✓ model        NVIDIA Jetson Nano Developer Kit\n", "config\n  ✗ config  config: open " + missing} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
		}
	}
}

func TestDoctorUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"doctor", "agent.yaml"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "--config") {
		t.Errorf("exit %d, stderr %q; want a usage error pointing at --config", code, stderr.String())
	}
}

// TestDoctorActuators: what `agent validate` says about the labels and
// actuators is part of the config checks.
func TestDoctorActuators(t *testing.T) {
	fakeBoard(t, "x86")
	model := testdata.Path(t, "models/coral/mobilenet_v2_1.0_224_quant.tflite")
	labels := testdata.Path(t, "models/coral/imagenet_labels.txt")
	cfg := filepath.Join(t.TempDir(), "agent.yaml")
	text := "version: 1\ndevice:\n  id: test\nmodel:\n  path: " + model + "\n  labels: " + labels +
		"\n  backend: native\ncameras:\n  - name: belt\n    source:\n      type: pattern\n    trigger:\n      type: continuous\n" +
		"actuators:\n  - label: Banana\n    pin: GPIO17\n"
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"doctor", "--json", "--config", cfg}, &stdout, &stderr)
	var got board.JSONReport
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	var found *board.Result
	for i, c := range got.Checks {
		if c.Group == "config" && c.Name == "actuators[0].label" {
			found = &got.Checks[i]
		}
	}
	if code != 1 || found == nil || found.Status != board.Fail || !strings.Contains(found.Detail, `the model spells it "banana"`) || found.Fix != "edit "+cfg+" line 15" {
		t.Errorf("exit %d, actuator check %+v; want 1 and a failure pointing at line 15\n%s", code, found, stdout.Bytes())
	}
}
