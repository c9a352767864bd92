//go:build tflite && cgo

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer/delegate/delegatetest"
	"github.com/fruitcam/fruitcam/internal/board"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// TestDoctorEdgeTPU: the tflite build's doctor loads libedgetpu (the fake
// TPU), reports its version and TPUs, and creates the delegate on the
// device the config names; a device that is not there fails with a fix.
func TestDoctorEdgeTPU(t *testing.T) {
	root := testdata.Root(t)
	delegatetest.Use(t, delegatetest.FakeTPU(t), root+"/models/coral/mobilenet_v1_0.25_128_quant.tflite")
	for _, tt := range []struct {
		device, status, detail string
	}{
		{"usb", "ok", "created on usb by "},
		{"pci:1", "fail", "no Edge TPU"},
	} {
		cfg := filepath.Join(t.TempDir(), "agent.yaml")
		yaml := "version: 1\ncameras: [{name: cam0, source: {type: pattern}}]\nmqtt: {enabled: false}\nstdout: {enabled: true}\n" +
			"model:\n  path: " + root + "/models/coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite\n  backend: edgetpu\n  edgetpu: {device: \"" + tt.device + "\"}\n"
		if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		run([]string{"doctor", "--json", "--config", cfg}, &stdout, &stderr)
		var got board.JSONReport
		if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
			t.Fatalf("stdout is not one JSON object: %v\n%s\nstderr: %s", err, stdout.Bytes(), stderr.Bytes())
		}
		found := map[string]string{}
		for _, c := range got.Checks {
			if c.Group == "tflite" {
				found[c.Name] = c.Status.String() + " " + c.Detail
				if c.Status != board.OK && c.Status != board.Skip && c.Fix == "" {
					t.Errorf("%s: %s without a fix", c.Name, c.Status)
				}
			}
		}
		if s := found["Edge TPU delegate"]; !strings.HasPrefix(s, tt.status) || !strings.Contains(s, tt.detail) {
			t.Errorf("device %q: Edge TPU delegate %q, want %s with %q", tt.device, s, tt.status, tt.detail)
		}
		if s := found["TensorFlow Lite"]; !strings.Contains(s, "version 2.") {
			t.Errorf("TensorFlow Lite %q", s)
		}
		if s := found["TPU usb:0"]; !strings.HasPrefix(s, "ok usb") {
			t.Errorf("TPU usb:0 %q (checks %v)", s, found)
		}
	}
}
