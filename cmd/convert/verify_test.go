package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/internal/testdata"
)

// verifyFolder copies a few fruit images into class folders named after
// the visual wake words labels.
func verifyFolder(t *testing.T) (dir, labels string) {
	t.Helper()
	src := testdata.Path(t, "images/fruits360/Test")
	dir = t.TempDir()
	for class, fruit := range map[string]string{"no person": "Banana", "person": "Kiwi"} {
		files, err := filepath.Glob(filepath.Join(src, fruit, "*.jpg"))
		if err != nil || len(files) < 3 {
			t.Fatalf("fruits360 %s: %d images (%v)", fruit, len(files), err)
		}
		if err := os.MkdirAll(filepath.Join(dir, class), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files[:3] {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, class, filepath.Base(f)), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	labels = filepath.Join(t.TempDir(), "labels.txt")
	if err := os.WriteFile(labels, []byte("no person\nperson\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, labels
}

func TestVerify(t *testing.T) {
	fl := testdata.Path(t, "models/mlperf_tiny/vww_96_float.tflite")
	q := testdata.Path(t, "models/mlperf_tiny/vww_96_int8.tflite")
	dir, labels := verifyFolder(t)
	chart := filepath.Join(t.TempDir(), "chart.png")
	base := []string{"--float", fl, "--quant", q, "--images", dir, "--labels", labels, "--normalize", "unit", "--threads", "2"}

	var stdout, stderr bytes.Buffer
	if err := cmdVerify(append(base, "--chart", chart, "--quiet"), &stdout, &stderr); err != nil {
		t.Fatalf("convert verify: %v (stderr %q)", err, stderr.String())
	}
	for _, s := range []string{"verify: 6 images in", "top-1 agreement:", "top-1 accuracy:  float", "confusion matrix, quant"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, stdout.String())
		}
	}
	f, err := os.Open(chart)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("chart: %v", err)
	}

	stdout.Reset()
	if err := cmdVerify(append(base, "--json", "--max", "4"), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Images, Classified int
		Accuracy           *struct{ Scored int }
	}
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("--json output: %v", err)
	}
	if r.Images != 4 || r.Classified != 4 || r.Accuracy == nil || r.Accuracy.Scored != 4 {
		t.Errorf("--max 4: got %+v", r)
	}
}

func TestVerifyErrors(t *testing.T) {
	fl := testdata.Path(t, "models/mlperf_tiny/vww_96_float.tflite")
	resnet := testdata.Path(t, "models/mlperf_tiny/pretrainedResnet.tflite")
	dir, _ := verifyFolder(t)
	empty := t.TempDir()
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"verify", "--float", fl}, 2, "--float, --quant and --images are required"},
		{[]string{"verify", "--float", fl, "--quant", fl, "--images", dir, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"verify", "--float", fl, "--quant", fl, "--images", dir, "--normalize", "sideways"}, 2, "sideways"},
		{[]string{"verify", "--float", fl, "--quant", resnet, "--images", dir}, 1, "the float model has 2 classes and the quant model 10"},
		{[]string{"verify", "--float", fl, "--quant", fl, "--images", empty}, 1, "has no images"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("convert %q: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
}
