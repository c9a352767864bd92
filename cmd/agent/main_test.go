package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/internal/testdata"
)

func TestUsage(t *testing.T) {
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{nil, 2, "usage: agent"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"classify"}, 2, "--model is required"},
		{[]string{"classify", "--model", "m.tflite"}, 2, "no images given"},
		{[]string{"classify", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"classify", "--model", "m.tflite", "--resize", "cubic", "x.jpg"}, 2, "nearest, bilinear or area"},
		{[]string{"classify", "--model", "m.tflite", "--top", "0", "x.jpg"}, 2, "--top"},
		{[]string{"classify", "--model", "/nonexistent/m.tflite", "x.jpg"}, 1, "no such file"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("agent %q: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, stderr.String(), tc.code, tc.stderr)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"help"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "classify") {
		t.Errorf("agent help: exit %d, stdout %q", code, stdout.String())
	}
}

// mobileNet returns the paths of the Coral MobileNet v2 fixtures.
func mobileNet(t *testing.T) (model, labels, banana string) {
	return testdata.Path(t, "models/coral/mobilenet_v2_1.0_224_quant.tflite"),
		testdata.Path(t, "models/coral/imagenet_labels.txt"),
		testdata.Path(t, "images/workshop/Banana_wiki.jpg")
}

// TestClassifyBanana is the workshop's demo end to end: the real MobileNet
// v2 on the real banana photo through the native engine.
func TestClassifyBanana(t *testing.T) {
	model, labels, banana := mobileNet(t)
	var stdout, stderr bytes.Buffer
	code := run([]string{"classify", "--model", model, "--labels", labels, "--top", "3", banana}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	t.Logf("\n%s%s", out, stderr.String())
	if !strings.HasPrefix(out, "Predicted class: banana with probability ") {
		t.Errorf("stdout %q, want it to start with the banana prediction", out)
	}
	if n := strings.Count(out, "\n"); n != 4 {
		t.Errorf("%d lines, want the prediction and 3 top lines", n)
	}
	if !strings.Contains(stderr.String(), `"symmetric" guessed`) {
		t.Errorf("stderr %q should say the normalisation was guessed", stderr.String())
	}
}

// TestClassifyJSON: one object per image; an unreadable image is reported
// on stderr, the others are still classified, and the exit status is 1.
func TestClassifyJSON(t *testing.T) {
	model, labels, banana := mobileNet(t)
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.gif")
	if err := os.WriteFile(broken, []byte("GIF89a"), 0o644); err != nil {
		t.Fatal(err)
	}
	gray := filepath.Join(dir, "gray.png")
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 30, 20))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gray, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"classify", "--model", model, "--labels", labels, "--json", "--resize", "bilinear", banana, broken, gray}, &stdout, &stderr)
	if code != 1 {
		t.Errorf("exit %d, want 1 for the unreadable image", code)
	}
	if !strings.Contains(stderr.String(), "broken.gif") || !strings.Contains(stderr.String(), "GIF") {
		t.Errorf("stderr %q should name broken.gif and its format", stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d JSON lines, want 2:\n%s", len(lines), stdout.String())
	}
	var got classifyResult
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	if got.Path != banana || got.Label != "banana" || got.Index != 955 || len(got.Top) != 5 || !got.Probabilities || got.Score < 0.5 {
		t.Errorf("first result %+v, want banana (955) with 5 top entries", got)
	}
}
