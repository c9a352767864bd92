package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/internal/lime/limetest"
)

// limeFixture writes the region model and an image it answers "corner"
// for.
func limeFixture(t *testing.T) (model, img string) {
	t.Helper()
	model = limetest.WriteRegionModel(t)
	img = filepath.Join(t.TempDir(), "corner.png")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, limetest.RegionImage(64, 11)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return model, img
}

// TestLime: the overlay and the JSON are written, the explained class is
// the model's answer, its top superpixel lies in the corner the model
// looks at, and the same seed gives the same bytes (with another number
// of workers too).
func TestLime(t *testing.T) {
	model, img := limeFixture(t)
	dir := t.TempDir()
	explain := func(out string, extra ...string) []byte {
		t.Helper()
		var stdout, stderr bytes.Buffer
		args := append([]string{"lime", "--model", model, img, "-o", out, "--json", "--samples", "300", "--seed", "5"}, extra...)
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Fatalf("convert %v: exit %d: %s", args, code, stderr.String())
		}
		return stdout.Bytes()
	}
	a := filepath.Join(dir, "a.png")
	js := explain(a, "--threads", "2", "--hide-rest")
	var rep struct {
		Model   string `json:"model"`
		Width   int    `json:"width"`
		Classes []struct {
			Label   string `json:"label"`
			Weights []struct {
				Segment int     `json:"segment"`
				Weight  float64 `json:"weight"`
			} `json:"weights"`
		} `json:"classes"`
		Segments int `json:"segments"`
	}
	if err := json.Unmarshal(js, &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, js)
	}
	if rep.Model != "region.tflite" || rep.Width != limetest.Size || len(rep.Classes) != 1 || rep.Classes[0].Label != "corner" {
		t.Fatalf("report %+v: want model region.tflite, width %d, one class, corner", rep, limetest.Size)
	}
	if w := rep.Classes[0].Weights; len(w) != rep.Segments || w[0].Weight <= 0 {
		t.Errorf("weights %v: want one per superpixel (%d), the largest positive", w, rep.Segments)
	}
	pic, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := png.Decode(bytes.NewReader(pic)); err != nil || m.Bounds().Dx() != 64 {
		t.Fatalf("overlay: %v, %v: want a 64×64 PNG", err, m)
	}

	b := filepath.Join(dir, "b.png")
	js2 := explain(b, "--threads", "1", "--hide-rest")
	pic2, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(js, js2) || !bytes.Equal(pic, pic2) {
		t.Error("the same seed with 1 and 2 workers gives different output")
	}
	// By name and by index, the same class.
	byName := explain(filepath.Join(dir, "c.png"), "--label", "other")
	byIndex := explain(filepath.Join(dir, "d.png"), "--label", "1")
	if !bytes.Equal(byName, byIndex) || !strings.Contains(string(byName), `"label": "other"`) {
		t.Errorf("--label other and --label 1 differ, or do not explain other:\n%s", byName)
	}
}

func TestLimeErrors(t *testing.T) {
	model, img := limeFixture(t)
	out := filepath.Join(t.TempDir(), "x.png")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"lime", "--model", model, "-o", out}, 2, "give one image"},
		{[]string{"lime", img, "-o", out}, 2, "--model and -o are required"},
		{[]string{"lime", "--model", model, img, "-o", out, "--label", "corner", "--top", "2"}, 2, "not both"},
		{[]string{"lime", "--model", model, img, "-o", out, "--hide", "pink"}, 2, "hide colour"},
		{[]string{"lime", "--model", model, img, "-o", out, "--samples", "1"}, 2, "--samples"},
		{[]string{"lime", "--model", model, img, "-o", out, "--label", "banana"}, 2, "neither one of the model's 2 labels"},
		{[]string{"lime", "--model", img, img, "-o", out}, 1, "not a TensorFlow Lite model"},
		{[]string{"lime", "--model", model, model, "-o", out}, 1, "preprocess"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("convert %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
}
