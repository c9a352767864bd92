package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/internal/dataset"
	"github.com/fruitcam/fruitcam/internal/testdata"
	"github.com/fruitcam/fruitcam/internal/verify"
)

// twinImages is the judging set: every Fruits-360 Test image (none has a
// person in it) and the Coral photos (Grace Hopper is the one person).
// It is never used for calibration, which takes Fruits-360 Training.
func twinImages(t *testing.T) *dataset.Set {
	t.Helper()
	set := &dataset.Set{Root: "fruits360/Test + coral", Classes: []string{"no person", "person"}}
	fruits, err := dataset.Scan(testdata.Path(t, "images/fruits360/Test"))
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range fruits.Items {
		set.Items = append(set.Items, dataset.Item{Path: it.Path, Class: 0})
	}
	coral, err := dataset.Scan(testdata.Path(t, "images/coral"))
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range coral.Items {
		class := 0
		if strings.Contains(filepath.Base(it.Path), "grace_hopper") {
			class = 1
		}
		set.Items = append(set.Items, dataset.Item{Path: it.Path, Class: class})
	}
	return set
}

func verifyPair(t *testing.T, a, b string, set *dataset.Set, opts verify.Options) *verify.Report {
	t.Helper()
	var files [2]verify.Model
	for i, p := range []string{a, b} {
		f, err := infer.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[i] = verify.Model{Name: filepath.Base(p), File: f}
	}
	r, err := verify.Run(context.Background(), files, set, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestAgreementWithTensorFlow is the converter's proof against
// TensorFlow's own converter: each mlperf_tiny Keras file converted to int8
// by `convert keras` (calibrated on 200 Fruits-360 Training images) is
// compared on top-1 with the int8 twin TensorFlow made, over 1,190 other
// images. The figures are logged for the README and the issue note.
func TestAgreementWithTensorFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("classifies 1,190 images with four models per twin")
	}
	set := twinImages(t)
	cal := testdata.Path(t, "images/fruits360/Training")
	dir := t.TempDir()
	labels := filepath.Join(dir, "vww_labels.txt")
	if err := os.WriteFile(labels, []byte("no person\nperson\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, h5, tfFloat, tfInt8, normalize string
		labels                               bool
		// minAgreement is the bar for our int8 vs TensorFlow's int8.
		minAgreement float64
	}{
		{"vww_96", "keras/mlperf_tiny/vww_96.h5", "models/mlperf_tiny/vww_96_float.tflite", "models/mlperf_tiny/vww_96_int8.tflite", "unit", true, 0.98},
		// ResNet-8 is a CIFAR-10 model: on fruit photos its top two
		// classes are often close, and TensorFlow's own int8 model agrees
		// with its float model on only ~96% of them, so no quantiser can
		// promise 98% agreement with it here. The bar below is parity:
		// see the per-model check against float.
		{"resnet8", "keras/mlperf_tiny/pretrainedResnet.h5", "models/mlperf_tiny/pretrainedResnet.tflite", "models/mlperf_tiny/pretrainedResnet_quant.tflite", "none", false, 0.90},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ours, oursFloat := filepath.Join(dir, tt.name+"_int8.tflite"), filepath.Join(dir, tt.name+"_float.tflite")
			args := []string{"keras", testdata.Path(t, tt.h5), "-o", ours, "--float-out", oursFloat, "--quantize", "int8",
				"--calibrate", cal, "--calibrate-max", "200", "--normalize", tt.normalize, "--quiet"}
			if tt.labels {
				args = append(args, "--labels", labels)
			}
			mustConvert(t, args...)
			opts := verify.Options{Normalize: tt.normalize}
			if tt.labels {
				opts.Labels = []string{"no person", "person"}
			}
			theirs, theirsFloat := testdata.Path(t, tt.tfInt8), testdata.Path(t, tt.tfFloat)
			vsTF := verifyPair(t, ours, theirs, set, opts)
			ourQ := verifyPair(t, oursFloat, ours, set, opts)
			theirQ := verifyPair(t, theirsFloat, theirs, set, opts)
			floats := verifyPair(t, oursFloat, theirsFloat, set, opts)
			line := fmt.Sprintf("%s, %d images: our int8 vs TensorFlow's int8 %.1f%%; our int8 vs float %.1f%%; TensorFlow's int8 vs its float %.1f%%; our float vs TensorFlow's float %.1f%%",
				tt.name, vsTF.Classified, 100*vsTF.Agreement, 100*ourQ.Agreement, 100*theirQ.Agreement, 100*floats.Agreement)
			if a := ourQ.Accuracy; a != nil {
				line += fmt.Sprintf("; accuracy (person/no person) float %.2f%%, our int8 %.2f%%", 100*a.Top1[0], 100*a.Top1[1])
				if d := a.Top1[0] - a.Top1[1]; d > 0.01 {
					t.Errorf("our int8 accuracy %.2f%% is more than 1 point below float %.2f%%", 100*a.Top1[1], 100*a.Top1[0])
				}
			}
			t.Log(line)
			if floats.Agreement != 1 {
				t.Errorf("our float model disagrees with TensorFlow's on %d images", floats.Classified-floats.Agree)
			}
			if vsTF.Agreement < tt.minAgreement {
				t.Errorf("top-1 agreement with TensorFlow's int8 %.1f%%, want at least %.0f%%", 100*vsTF.Agreement, 100*tt.minAgreement)
			}
			// Parity: our int8 keeps the float model's decisions at least
			// as well as TensorFlow's int8 keeps its own, give or take 2
			// points (different calibration images).
			if ourQ.Agreement < theirQ.Agreement-0.02 {
				t.Errorf("our int8 agrees with float on %.1f%%, TensorFlow's on %.1f%%", 100*ourQ.Agreement, 100*theirQ.Agreement)
			}
		})
	}
}
