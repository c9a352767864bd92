package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/keras/kerastest"
	"github.com/fruitcam/fruitcam/internal/testdata"
	"github.com/fruitcam/fruitcam/internal/tfliteref"
)

// convert runs the command in-process and returns its exit code and output.
func convert(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func mustConvert(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := convert(t, args...)
	if code != 0 {
		t.Fatalf("convert %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
	return stdout
}

// xorSamples writes the four xor inputs as one raw float32 file.
func xorSamples(t *testing.T) string {
	t.Helper()
	var b []byte
	for _, v := range []float32{0, 0, 0, 1, 1, 0, 1, 1} {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	p := filepath.Join(t.TempDir(), "xor.bin")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// sampleInput is one real image (or, for vector inputs, xor(1,0))
// preprocessed for model m.
func sampleInput(t *testing.T, m *tfl.Model, md *infer.Metadata) []byte {
	t.Helper()
	sg := &m.Subgraphs[0]
	in := &sg.Tensors[sg.Inputs[0]]
	if len(in.Shape) != 4 {
		// xor(1, 0), quantised when the input is.
		var b []byte
		for _, v := range []float32{1, 0} {
			switch in.Type {
			case tfl.Float32:
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
			default:
				q := math.Round(float64(v/in.Quant.Scale[0])) + float64(in.Quant.ZeroPoint[0])
				b = append(b, byte(int8(q)))
			}
		}
		return b
	}
	spec, err := preprocess.ShapeSpec(in.Shape)
	if err != nil {
		t.Fatal(err)
	}
	spec.Normalize, spec.Resize = preprocess.Normalize(md.Normalize), preprocess.Resize(md.Resize)
	dst := preprocess.Tensor{Type: in.Type}
	if in.Quant != nil {
		dst.Scale, dst.ZeroPoint = in.Quant.Scale[0], int32(in.Quant.ZeroPoint[0])
	}
	p, err := preprocess.New(spec, dst)
	if err != nil {
		t.Fatal(err)
	}
	img, err := preprocess.DecodeFile(testdata.Path(t, "images/fruits360/Test/Kiwi/33_100.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, p.SlotBytes())
	if err := p.Into(buf, 0, img); err != nil {
		t.Fatal(err)
	}
	return buf
}

// runBoth runs the model file in our engine and the real TFLite and
// returns output 0 of each.
func runBoth(t *testing.T, path string) (ours, theirs []byte, m *tfl.Model, md *infer.Metadata) {
	t.Helper()
	f, err := infer.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if md, err = f.Metadata(); err != nil || md == nil {
		t.Fatalf("%s: metadata %v, %v", path, md, err)
	}
	m = f.Model
	input := sampleInput(t, m, md)
	it, err := native.New(m, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	copy(it.Inputs()[0].Data, input)
	if err := it.Invoke(); err != nil {
		t.Fatal(err)
	}
	crun, err := tfliteref.CRunPath()
	if err != nil {
		testdata.Missing(t, err)
	}
	outs, err := tfliteref.RunCLI(context.Background(), crun, f.Data, [][]byte{input}, 0)
	if err != nil {
		t.Fatalf("the real TFLite runtime refused %s: %v", path, err)
	}
	return slices.Clone(it.Outputs()[0].Data), outs[0], m, md
}

// TestKerasEndToEnd converts every Keras file we have to float and int8
// models through the command line, and runs each in our engine and in the
// real TensorFlow Lite runtime.
func TestKerasEndToEnd(t *testing.T) {
	cal := testdata.Path(t, "images/fruits360/Training")
	tests := []struct {
		name   string
		h5     func(t *testing.T) string
		flags  []string
		labels int
	}{
		{"vww_96", func(t *testing.T) string { return testdata.Path(t, "keras/mlperf_tiny/vww_96.h5") },
			[]string{"--normalize", "unit", "--calibrate", cal, "--calibrate-max", "32"}, 0},
		{"resnet8", func(t *testing.T) string { return testdata.Path(t, "keras/mlperf_tiny/pretrainedResnet.h5") },
			[]string{"--normalize", "none", "--calibrate", cal, "--calibrate-max", "32", "--io", "uint8"}, 0},
		{"fruit_cnn", func(t *testing.T) string { return kerastest.FruitCNN(t) },
			[]string{"--calibrate", cal, "--calibrate-max", "32"}, 16},
		{"xor", func(t *testing.T) string { return testdata.Path(t, "keras/go-tflite/xor_model.h5") },
			[]string{"--normalize", "none", "--calibrate-raw", xorSamples(t)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h5 := tt.h5(t)
			dir := t.TempDir()
			flt, q := filepath.Join(dir, "float.tflite"), filepath.Join(dir, "int8.tflite")
			out := mustConvert(t, append([]string{"keras", h5, "-o", q, "--quantize", "int8", "--float-out", flt, "--quiet", "--version", "7"}, tt.flags...)...)
			if !strings.Contains(out, "wrote "+q) || !strings.Contains(out, "calibrated on") {
				t.Errorf("summary %q", out)
			}
			// The float model alone, as `convert keras` without --quantize writes it.
			flt2 := filepath.Join(dir, "float2.tflite")
			mustConvert(t, append([]string{"keras", h5, "-o", flt2, "--quiet"}, flagsWithout(tt.flags)...)...)

			ours, theirs, m, md := runBoth(t, flt)
			if md.Version != "7" || md.Converter != converterName || len(md.Labels) != tt.labels {
				t.Errorf("float metadata %+v, want version 7, %d labels", md, tt.labels)
			}
			a, b := tfliteref.BytesFloat32(ours), tfliteref.BytesFloat32(theirs)
			for i := range a {
				if d := math.Abs(float64(a[i] - b[i])); d > 1e-5 {
					t.Errorf("float output %d: ours %g, TFLite %g", i, a[i], b[i])
				}
			}
			qo, qt, qm, _ := runBoth(t, q)
			sg := &qm.Subgraphs[0]
			if typ := sg.Tensors[sg.Inputs[0]].Type; typ != tfl.Int8 && typ != tfl.Uint8 {
				t.Errorf("int8 model input is %s", typ)
			}
			for i := range qo {
				d := int(qo[i]) - int(qt[i])
				if d < -1 || d > 1 {
					t.Errorf("int8 output %d: ours %d, TFLite %d", i, qo[i], qt[i])
				}
			}
			_ = m
			f2, err := os.ReadFile(flt2)
			if err != nil {
				t.Fatal(err)
			}
			if len(f2) == 0 {
				t.Error("float-only conversion wrote nothing")
			}
		})
	}
}

// flagsWithout drops the calibration flags, for a float-only conversion.
func flagsWithout(flags []string) []string {
	var out []string
	for i := 0; i < len(flags); i++ {
		switch flags[i] {
		case "--calibrate", "--calibrate-max", "--calibrate-raw", "--io":
			i++
			continue
		}
		out = append(out, flags[i])
	}
	return out
}

func TestKerasErrors(t *testing.T) {
	dir := t.TempDir()
	notKeras := filepath.Join(dir, "x.h5")
	if err := os.WriteFile(notKeras, []byte("this is not HDF5"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.tflite")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no output", []string{"keras", notKeras}, 2, "-o"},
		{"two inputs", []string{"keras", notKeras, notKeras, "-o", out}, 2, "want one Keras file"},
		{"calibrate without quantize", []string{"keras", notKeras, "-o", out, "--calibrate", dir}, 2, "--quantize"},
		{"quantize without data", []string{"keras", notKeras, "-o", out, "--quantize", "int8"}, 2, "--calibrate"},
		{"bad quantize", []string{"keras", notKeras, "-o", out, "--quantize", "int4"}, 2, "only int8"},
		{"bad normalize", []string{"keras", notKeras, "-o", out, "--normalize", "imagenet"}, 2, "normalisation"},
		{"area resize", []string{"keras", notKeras, "-o", out, "--resize", "area"}, 2, "area"},
		{"bad io", []string{"keras", notKeras, "-o", out, "--quantize", "int8", "--calibrate", dir, "--io", "int16"}, 2, "--io"},
		{"not hdf5", []string{"keras", notKeras, "-o", out}, 1, "x.h5"},
		{"missing file", []string{"keras", filepath.Join(dir, "none.h5"), "-o", out}, 1, "none.h5"},
		{"quantize needs tflite", []string{"quantize", notKeras, "-o", out, "--calibrate", dir}, 1, "x.h5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := convert(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, tt.code, tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a failed conversion left %s", out)
			}
		})
	}
}

func TestKerasLabelsMismatch(t *testing.T) {
	dir := t.TempDir()
	labels := filepath.Join(dir, "labels.txt")
	if err := os.WriteFile(labels, []byte("a\nb\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.tflite")
	code, _, stderr := convert(t, "keras", testdata.Path(t, "keras/mlperf_tiny/vww_96.h5"), "-o", out, "--labels", labels)
	if code != 1 || !strings.Contains(stderr, "3 labels") || !strings.Contains(stderr, "2 classes") {
		t.Errorf("exit %d, stderr %q; want a label count error", code, stderr)
	}
}

// TestQuantizeTensorFlowFloat quantises TensorFlow's own float model: the
// `convert quantize` path for models not made by us.
func TestQuantizeTensorFlowFloat(t *testing.T) {
	dir := t.TempDir()
	labels := filepath.Join(dir, "labels.txt")
	if err := os.WriteFile(labels, []byte("no person\nperson\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	q := filepath.Join(dir, "vww_int8.tflite")
	mustConvert(t, "quantize", testdata.Path(t, "models/mlperf_tiny/vww_96_float.tflite"), "-o", q,
		"--calibrate", testdata.Path(t, "images/fruits360/Training"), "--calibrate-max", "24", "--labels", labels,
		"--io", "uint8", "--quiet")
	qo, qt, _, md := runBoth(t, q)
	if strings.Join(md.Labels, ",") != "no person,person" || md.Normalize != "unit" {
		t.Errorf("metadata %+v", md)
	}
	for i := range qo {
		if d := int(qo[i]) - int(qt[i]); d < -1 || d > 1 {
			t.Errorf("output %d: ours %d, TFLite %d", i, qo[i], qt[i])
		}
	}
}
