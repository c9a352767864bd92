package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/internal/testdata"
)

func TestInspect(t *testing.T) {
	model := testdata.Path(t, "models/mlperf_tiny/vww_96_int8.tflite")
	var stdout, stderr bytes.Buffer
	if err := cmdInspect([]string{model}, &stdout, &stderr); err != nil {
		t.Fatalf("convert inspect: %v (stderr %q)", err, stderr.String())
	}
	for _, s := range []string{"model vww_96_int8.tflite", "#0   CONV_2D v3  padding=SAME stride=2x2", "edge tpu: compatible"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("output lacks %q", s)
		}
	}

	// --json before or after the model.
	for _, args := range [][]string{{model, "--json"}, {"--json", model}} {
		stdout.Reset()
		if err := cmdInspect(args, &stdout, &stderr); err != nil {
			t.Fatalf("convert inspect %v: %v", args, err)
		}
		var r struct {
			Path    string
			Inputs  []struct{ Name, Type string }
			EdgeTPU struct{ Verdict string }
		}
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			t.Fatalf("convert inspect %v: output is not JSON: %v", args, err)
		}
		if r.Path != model || len(r.Inputs) != 1 || r.Inputs[0].Type != "int8" || r.EdgeTPU.Verdict != "compatible" {
			t.Errorf("convert inspect %v: got %+v", args, r)
		}
	}
}

func TestInspectExitStatus(t *testing.T) {
	model := testdata.Path(t, "models/go-tflite/xor_model.tflite")
	junk := filepath.Join(t.TempDir(), "junk.tflite")
	if err := os.WriteFile(junk, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"inspect", model}, 0},
		{[]string{"inspect"}, 2},
		{[]string{"inspect", "--nope", model}, 2},
		{[]string{"inspect", junk}, 1},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != tc.code {
			t.Errorf("convert %q: exit %d (stderr %q), want %d", tc.args, code, stderr.String(), tc.code)
		}
	}
}

func TestInspectErrors(t *testing.T) {
	model := testdata.Path(t, "models/go-tflite/xor_model.tflite")
	junk := filepath.Join(t.TempDir(), "junk.tflite")
	if err := os.WriteFile(junk, []byte("not a model at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{nil, "want one model file, got 0"},
		{[]string{model, model}, "want one model file, got 2"},
		{[]string{junk}, "junk.tflite: tflite: not a TensorFlow Lite model"},
		{[]string{"--frobnicate", model}, "flag provided but not defined"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		err := cmdInspect(tc.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error()+stderr.String(), tc.want) {
			t.Errorf("convert inspect %q: got %v (stderr %q), want %q", tc.args, err, stderr.String(), tc.want)
		}
	}
}
