package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/internal/testdata"
)

func TestRun(t *testing.T) {
	model := testdata.Path(t, "models/go-tflite/xor_model.tflite")
	dir := t.TempDir()
	in := filepath.Join(dir, "in.bin")
	outPath := filepath.Join(dir, "out.bin")
	// xor(1, 0): the model was trained to answer ≈ 1.
	buf := make([]byte, 8)
	binary.LittleEndian.PutUint32(buf[0:], math.Float32bits(1))
	binary.LittleEndian.PutUint32(buf[4:], math.Float32bits(0))
	if err := os.WriteFile(in, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"run", "--model", model, "--input", in, "--output", outPath, "--repeat", "3"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var timing struct {
		MedianMS *float64 `json:"median_ms"`
		MinMS    *float64 `json:"min_ms"`
		Runs     int      `json:"runs"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &timing); err != nil || timing.MedianMS == nil || timing.MinMS == nil || timing.Runs != 3 {
		t.Fatalf("stdout %q: got %+v (%v), want median_ms, min_ms and runs 3", stdout.String(), timing, err)
	}
	out, err := os.ReadFile(outPath)
	if err != nil || len(out) != 4 {
		t.Fatalf("output file: %d bytes (%v), want one float32", len(out), err)
	}
	if got := math.Float32frombits(binary.LittleEndian.Uint32(out)); got < 0.5 {
		t.Errorf("xor(1, 0) = %v, want near 1", got)
	}
}

func TestRunErrors(t *testing.T) {
	model := testdata.Path(t, "models/go-tflite/xor_model.tflite")
	short := filepath.Join(t.TempDir(), "short.bin")
	if err := os.WriteFile(short, []byte{1, 2, 3}, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{}, 2, "usage"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"run", "--input", short}, 2, "--model and --input are required"},
		{[]string{"run", "--model", model, "--input", short}, 1, "has 3 bytes, input 0"},
		{[]string{"run", "--model", short, "--input", short}, 1, "not a TensorFlow Lite model"},
		{[]string{"run", "--model", model, "--input", short, "--backend", "tflite"}, 1, "-tags tflite"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("convert %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
}
