package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/dataset"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// vwwLabels are the visual wake words classes in output order (MLPerf
// Tiny: 0 is "no person").
var vwwLabels = []string{"no person", "person"}

// fixture copies fruit images into a labelled folder named after the vww
// labels: perClass images in each of "no person" and "person", plus the
// extra files given (name -> bytes) in "person".
func fixture(t *testing.T, perClass int, extra map[string][]byte) string {
	t.Helper()
	src := testdata.Path(t, "images/fruits360/Test")
	dir := t.TempDir()
	var fruits []string
	for _, class := range []string{"Banana", "Kiwi", "Lemon", "Plum", "Raspberry", "Strawberry"} {
		files, err := filepath.Glob(filepath.Join(src, class, "*.jpg"))
		if err != nil || len(files) < 2 {
			t.Fatalf("fruits360 %s: %d images (%v)", class, len(files), err)
		}
		fruits = append(fruits, files[0], files[len(files)/2])
	}
	if len(fruits) < 2*perClass {
		t.Fatalf("fixture: want %d images, have %d", 2*perClass, len(fruits))
	}
	for c, class := range vwwLabels {
		if err := os.MkdirAll(filepath.Join(dir, class), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range perClass {
			data, err := os.ReadFile(fruits[c*perClass+i])
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, class, filepath.Base(fruits[c*perClass+i])), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, data := range extra {
		if err := os.WriteFile(filepath.Join(dir, "person", name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func vwwModels(t *testing.T) [2]Model {
	t.Helper()
	var ms [2]Model
	for i, name := range []string{"vww_96_float", "vww_96_int8"} {
		f, err := infer.ReadFile(testdata.Path(t, "models/mlperf_tiny/"+name+".tflite"))
		if err != nil {
			t.Fatal(err)
		}
		ms[i] = Model{Name: []string{"float", "quant"}[i], File: f}
	}
	return ms
}

// top1 classifies one image at a time, apart from Run's batching and
// workers: the reference the report is checked against.
func top1(t *testing.T, m Model, labels []string, path string) int {
	t.Helper()
	e, err := infer.NewEngine(m.File, infer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c, err := infer.NewClassifier(e, nil, infer.ClassifierOptions{Labels: labels, Normalize: "unit", MaxBatch: 1})
	if err != nil {
		t.Fatal(err)
	}
	img, err := preprocess.DecodeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Classify([]image.Image{img}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return res[0].Top[0].Index
}

func TestRunLabelled(t *testing.T) {
	dir := fixture(t, 4, map[string][]byte{"broken.jpg": []byte("\xff\xd8\xff not really a JPEG")})
	set, err := dataset.Scan(dir)
	if err != nil {
		t.Fatal(err)
	}
	models := vwwModels(t)
	var progress []int
	r, err := Run(context.Background(), models, set, Options{
		Labels: vwwLabels, Normalize: "unit", Threads: 2, Batch: 3,
		Progress: func(done int) { progress = append(progress, done) },
	})
	if err != nil {
		t.Fatal(err)
	}

	// The reference: each image classified on its own, the figures
	// counted here by hand.
	var agree, scored int
	var correct [2]int
	var counts [2][2][2]int // model, true class, predicted label
	for _, it := range set.Items {
		if filepath.Base(it.Path) == "broken.jpg" {
			continue
		}
		a, b := top1(t, models[0], vwwLabels, it.Path), top1(t, models[1], vwwLabels, it.Path)
		if a == b {
			agree++
		}
		scored++
		for m, p := range []int{a, b} {
			counts[m][it.Class][p]++
			if p == it.Class { // folders and labels are in the same order here
				correct[m]++
			}
		}
	}

	if r.Images != 9 || r.Classified != 8 || len(r.Unreadable) != 1 || filepath.Base(r.Unreadable[0].Path) != "broken.jpg" {
		t.Fatalf("images %d classified %d unreadable %+v; want 9, 8 and broken.jpg", r.Images, r.Classified, r.Unreadable)
	}
	if len(progress) != 9 || progress[8] != 9 {
		t.Errorf("progress calls %v, want 1..9", progress)
	}
	if r.Agree != agree || r.Agreement != float64(agree)/8 {
		t.Errorf("agreement %d (%v), want %d of 8", r.Agree, r.Agreement, agree)
	}
	a := r.Accuracy
	if a == nil {
		t.Fatalf("no accuracy; notes %q", r.Notes)
	}
	if a.Scored != scored || a.Correct != correct {
		t.Errorf("scored %d correct %v, want %d %v", a.Scored, a.Correct, scored, correct)
	}
	for m := range 2 {
		if want := float64(correct[m]) / float64(scored); a.Top1[m] != want {
			t.Errorf("model %d top-1 %v, want %v", m, a.Top1[m], want)
		}
		cm := a.Confusion[m]
		if len(cm.Rows) != 2 || len(cm.Cols) != 2 {
			t.Fatalf("model %d confusion %q x %q, want 2 x 2", m, cm.Rows, cm.Cols)
		}
		for c := range 2 {
			for p := range 2 {
				if cm.Counts[c][p] != counts[m][c][p] {
					t.Errorf("model %d confusion[%d][%d] = %d, want %d", m, c, p, cm.Counts[c][p], counts[m][c][p])
				}
			}
		}
	}
	if len(a.PerClass) != 2 || a.PerClass[0].Images != 4 || a.PerClass[1].Images != 4 {
		t.Errorf("per class %+v, want 4 images in each", a.PerClass)
	}
	if r.AgreementMatrix.Total() != 8 || r.AgreementMatrix.Diagonal() != agree {
		t.Errorf("agreement matrix total %d diagonal %d, want 8 and %d", r.AgreementMatrix.Total(), r.AgreementMatrix.Diagonal(), agree)
	}
	for _, m := range r.Models {
		if m.LabelsFrom != "options" || m.Normalize != "unit" || m.NormalizeGuessed || m.Classes != 2 {
			t.Errorf("model info %+v", m)
		}
	}

	var text bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"top-1 agreement:", "top-1 accuracy:  float", "per-class accuracy:", "confusion matrix, float", "confusion matrix, quant",
		"unreadable images (1, skipped):", "broken.jpg"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text report lacks %q:\n%s", s, text.String())
		}
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(data, &back); err != nil || back.Accuracy == nil || back.Accuracy.Correct != correct || back.Agree != agree {
		t.Errorf("JSON round trip: %v, %+v", err, back.Accuracy)
	}

	// The chart: two 2x2 heat maps side by side.
	var buf bytes.Buffer
	if err := WriteChart(&buf, r); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("chart is not a PNG: %v", err)
	}
	// Panels: labels 7*19 = 133 + 2 cells of 34 = 201 wide, raised to the
	// 252 minimum; 3 header lines of 16 + 2 rows of 34 = 116 high. Width
	// 16 + 2*(252+16) = 552, raised to the 640 minimum; height
	// 16 + 2*16 + 16 + 116 + 16 = 196.
	if got := img.Bounds().Size(); got.X != 640 || got.Y != 196 || got != ChartSize(r) {
		t.Errorf("chart %v, want 640x196 (ChartSize %v)", got, ChartSize(r))
	}
}

// TestRunUnlabelled: a folder of loose images, and models without
// labels, give agreement only.
func TestRunUnlabelled(t *testing.T) {
	src := fixture(t, 3, nil)
	dir := t.TempDir()
	files, _ := filepath.Glob(filepath.Join(src, "*", "*.jpg"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	models := vwwModels(t)
	for _, tc := range []struct {
		name, dir string
		labels    []string
		note      string
	}{
		{"loose images", dir, vwwLabels, "has no class folders: agreement only"},
		{"models without labels", src, nil, "the models have no labels"},
		{"folders matching no label", src, []string{"cat", "dog"}, "agreement only: dataset: none of the 2 class folders"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, err := dataset.Scan(tc.dir)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Run(context.Background(), models, set, Options{Labels: tc.labels, Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			if r.Accuracy != nil {
				t.Errorf("accuracy %+v, want none", r.Accuracy)
			}
			if !strings.Contains(strings.Join(r.Notes, "\n"), tc.note) {
				t.Errorf("notes %q, want %q", r.Notes, tc.note)
			}
			agree := 0
			for _, it := range set.Items {
				if top1(t, models[0], nil, it.Path) == top1(t, models[1], nil, it.Path) {
					agree++
				}
			}
			if r.Classified != 6 || r.Agree != agree {
				t.Errorf("classified %d agree %d, want 6 and %d", r.Classified, r.Agree, agree)
			}
			var buf bytes.Buffer
			if err := WriteChart(&buf, r); err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if img.Bounds().Size() != ChartSize(r) {
				t.Errorf("chart %v, want %v", img.Bounds().Size(), ChartSize(r))
			}
		})
	}
}

// TestRunMetadataLabels: labels come from the models' metadata; one
// model's serve for both; different lists are refused.
func TestRunMetadataLabels(t *testing.T) {
	dir := fixture(t, 1, nil)
	set, err := dataset.Scan(dir)
	if err != nil {
		t.Fatal(err)
	}
	withLabels := func(m Model, labels ...string) Model {
		mod := *m.File.Model
		mod.Buffers = append([][]byte(nil), mod.Buffers...)
		mod.Metadata = append([]tfl.Metadata(nil), mod.Metadata...)
		if err := infer.SetMetadata(&mod, &infer.Metadata{Schema: 1, Labels: labels, Normalize: "unit"}); err != nil {
			t.Fatal(err)
		}
		f := *m.File
		f.Model = &mod
		return Model{Name: m.Name, File: &f}
	}
	plain := vwwModels(t)
	tests := []struct {
		name   string
		models [2]Model
		from   [2]string
		err    string
	}{
		{"both", [2]Model{withLabels(plain[0], vwwLabels...), withLabels(plain[1], vwwLabels...)}, [2]string{"metadata", "metadata"}, ""},
		{"one", [2]Model{plain[0], withLabels(plain[1], vwwLabels...)}, [2]string{"the other model's metadata", "metadata"}, ""},
		{"different", [2]Model{withLabels(plain[0], "no person", "person"), withLabels(plain[1], "person", "no person")}, [2]string{}, `label 0 is "no person" in the float model and "person" in the quant model`},
		{"counts", [2]Model{withLabels(plain[0], "a", "b", "c"), withLabels(plain[1], "a", "b")}, [2]string{}, "the float model has 3 labels and the quant model 2"},
		{"too many for the model", [2]Model{withLabels(plain[0], "a", "b", "c", "d"), plain[1]}, [2]string{}, "4 labels for a model with 2 classes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Run(context.Background(), tc.models, set, Options{Threads: 1})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := [2]string{r.Models[0].LabelsFrom, r.Models[1].LabelsFrom}; got != tc.from {
				t.Errorf("labels from %q, want %q", got, tc.from)
			}
			if r.Accuracy == nil || r.Accuracy.Scored != 2 {
				t.Errorf("accuracy %+v, want 2 images scored", r.Accuracy)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	models := vwwModels(t)
	resnet, err := infer.ReadFile(testdata.Path(t, "models/mlperf_tiny/pretrainedResnet.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	dir := fixture(t, 1, nil)
	set, err := dataset.Scan(dir)
	if err != nil {
		t.Fatal(err)
	}
	broken := t.TempDir()
	for _, name := range []string{"a.jpg", "b.png"} {
		if err := os.WriteFile(filepath.Join(broken, name), []byte("junk"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	brokenSet, err := dataset.Scan(broken)
	if err != nil {
		t.Fatal(err)
	}

	_, err = Run(context.Background(), [2]Model{models[0], {Name: "quant", File: resnet}}, set, Options{Threads: 1})
	if err == nil || !strings.Contains(err.Error(), "the float model has 2 classes and the quant model 10") {
		t.Errorf("2 vs 10 classes: got %v", err)
	}
	_, err = Run(context.Background(), models, brokenSet, Options{Threads: 1})
	if !errors.Is(err, ErrNoImages) || !strings.Contains(err.Error(), "a.jpg") {
		t.Errorf("no readable image: got %v, want ErrNoImages naming a.jpg", err)
	}
	_, err = Run(context.Background(), models, &dataset.Set{Root: dir}, Options{})
	if err == nil || !strings.Contains(err.Error(), "no images") {
		t.Errorf("empty set: got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, models, set, Options{Threads: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v, want context.Canceled", err)
	}
}
