package main

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/internal/keras/kerastest"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// TestFeaturemaps runs the command on the workshop's fruit CNN, converted
// float and int8 by `convert keras`, and on the Coral MobileNet v2: the
// PNG must decode, have the size the command reports, and use the colour
// map asked for. featuremap's own tests prove the values against TFLite.
func TestFeaturemaps(t *testing.T) {
	h5 := kerastest.FruitCNN(t)
	dir := t.TempDir()
	flt := filepath.Join(dir, "fruits.tflite")
	q8 := filepath.Join(dir, "fruits_int8.tflite")
	mustConvert(t, "keras", h5, "-o", flt, "--quiet")
	mustConvert(t, "keras", h5, "-o", q8, "--quantize", "int8", "--calibrate", testdata.Path(t, "images/fruits360/Training"), "--quiet")
	banana := filepath.Join(testdata.Path(t, "images/fruits360/Test/Banana"), "102_100.jpg")
	mnv2 := testdata.Path(t, "models/coral/mobilenet_v2_1.0_224_quant.tflite")
	for _, tt := range []struct {
		name     string
		args     []string
		tensors  int
		colormap string
	}{
		{"float all", []string{"--model", flt, "--all"}, 10, "gray"},
		{"int8 all viridis", []string{"--model", q8, "--all", "--colormap", "viridis"}, 10, "viridis"},
		{"int8 by name and index", []string{"--model", q8, "--layer", "0", "--layer", "activation", "--layer", "max_pooling2d", "--colormap", "inferno"}, 3, "inferno"},
		{"mobilenet by name and index", []string{"--model", mnv2, "--layer", "MobilenetV2/Predictions/Softmax", "--layer", "56", "--width", "800"}, 2, "gray"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "maps.png")
			args := append([]string{"featuremaps", banana, "-o", out}, tt.args...)
			stdout := mustConvert(t, args...)
			var tensors, channels, w, h int
			var cmap string
			if _, err := fmt.Sscanf(stdout, out+": %d tensors, %d channels, %dx%d pixels (%s", &tensors, &channels, &w, &h, &cmap); err != nil {
				t.Fatalf("stdout %q: %v", stdout, err)
			}
			if tensors != tt.tensors || !strings.HasPrefix(cmap, tt.colormap) {
				t.Errorf("stdout %q: want %d tensors in %s", stdout, tt.tensors, tt.colormap)
			}
			file, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			img, err := png.Decode(file)
			if err != nil {
				t.Fatal(err)
			}
			pal, ok := img.(*image.Paletted)
			if !ok || len(pal.Palette) != 256 {
				t.Fatalf("the PNG is a %T, want a 256-colour paletted image", img)
			}
			if got := img.Bounds().Size(); got != image.Pt(w, h) {
				t.Errorf("the PNG is %v, the command said %dx%d", got, w, h)
			}
		})
	}
}

func TestFeaturemapsUsage(t *testing.T) {
	mnv2 := testdata.Path(t, "models/coral/mobilenet_v2_1.0_224_quant.tflite")
	img := filepath.Join(testdata.Path(t, "images/fruits360/Test/Banana"), "102_100.jpg")
	out := filepath.Join(t.TempDir(), "maps.png")
	for _, tt := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no image", []string{"--model", mnv2, "--all", "-o", out}, 2, "want one image"},
		{"no model", []string{img, "--all", "-o", out}, 2, "--model and -o"},
		{"no output", []string{img, "--model", mnv2, "--all"}, 2, "--model and -o"},
		{"no layer", []string{img, "--model", mnv2, "-o", out}, 2, "--layer"},
		{"layer and all", []string{img, "--model", mnv2, "-o", out, "--all", "--layer", "3"}, 2, "--layer"},
		{"colour map", []string{img, "--model", mnv2, "-o", out, "--all", "--colormap", "jet"}, 2, "viridis"},
		{"normalisation", []string{img, "--model", mnv2, "-o", out, "--all", "--normalize", "unity"}, 2, "unity"},
		{"min tile", []string{img, "--model", mnv2, "-o", out, "--all", "--min-tile", "0"}, 2, "--min-tile"},
		{"unknown layer", []string{img, "--model", mnv2, "-o", out, "--layer", "conv9"}, 1, "convert inspect"},
		{"int32 layer", []string{img, "--model", mnv2, "-o", out, "--layer", "54"}, 1, "int32"},
		{"missing image", []string{filepath.Join(t.TempDir(), "none.jpg"), "--model", mnv2, "-o", out, "--all"}, 1, "none.jpg"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := convert(t, append([]string{"featuremaps"}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.msg)
			}
		})
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a failed run left %s behind", out)
	}
}
