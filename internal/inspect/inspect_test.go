package inspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// wantVerdict is the Edge TPU verdict of every model of the shared test
// data; person_detect.tflite is missing on purpose: the reader refuses it.
var wantVerdict = map[string]string{
	"coral/keras_lstm_mnist_ptq.tflite":                Partial, // int16 LSTM state
	"coral/mobilenet_v1_0.25_128_quant.tflite":         Compatible,
	"coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite": Compiled,
	"coral/mobilenet_v1_0.5_160_quant.tflite":          Compatible,
	"coral/mobilenet_v2_1.0_224_quant.tflite":          Compatible,
	"coral/model_invoking_error.tflite":                Incompatible,
	"coral/tf2_mobilenet_v2_1.0_224_ptq.tflite":        Compatible,
	"go-tflite/fizzbuzz_model.tflite":                  Incompatible,
	"go-tflite/fizzbuzz_model_quant_edgetpu.tflite":    Compiled,
	"go-tflite/xor_model.tflite":                       Incompatible,
	"mlperf_tiny/ad01_int8.tflite":                     Compatible,
	"mlperf_tiny/kws_ref_model.tflite":                 Compatible,
	"mlperf_tiny/pretrainedResnet.tflite":              Incompatible,
	"mlperf_tiny/pretrainedResnet_quant.tflite":        Compatible,
	"mlperf_tiny/vww_96_float.tflite":                  Incompatible,
	"mlperf_tiny/vww_96_int8.tflite":                   Compatible,
	"tflm/hello_world_int8.tflite":                     Compatible,
	"tflm/mobilenet_v2_quantized_1x3x224x224.tflite":   Compatible,
}

// TestEveryModel inspects every model of the shared test data: the text
// and JSON reports must be complete and agree with the parsed model.
func TestEveryModel(t *testing.T) {
	root := testdata.Root(t)
	files, err := filepath.Glob(filepath.Join(root, "models", "*", "*.tflite"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no models under %s (%v)", root, err)
	}
	seen := 0
	for _, f := range files {
		name := filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			r, err := ReadFile(f)
			if name == "tflm/person_detect.tflite" {
				var fe *tfl.FormatError
				if !errors.As(err, &fe) || !strings.Contains(err.Error(), "quantized_dimension") || !strings.Contains(err.Error(), "person_detect.tflite") {
					t.Fatalf("got error %v, want a *tfl.FormatError naming the file and quantized_dimension", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			seen++
			want, ok := wantVerdict[name]
			if !ok {
				t.Fatalf("no expected verdict for %s (got %s): add it to wantVerdict", name, r.EdgeTPU.Verdict)
			}
			if r.EdgeTPU.Verdict != want {
				t.Errorf("verdict %s (%s), want %s", r.EdgeTPU.Verdict, r.EdgeTPU.Summary, want)
			}
			if (r.EdgeTPU.Verdict == Compatible || r.EdgeTPU.Verdict == Compiled) != (len(r.EdgeTPU.Offences) == 0) {
				t.Errorf("verdict %s with %d offences", r.EdgeTPU.Verdict, len(r.EdgeTPU.Offences))
			}
			checkAgainstModel(t, f, r)

			var text bytes.Buffer
			if err := WriteText(&text, r); err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{"inputs:", "outputs:", "metadata:", "graph: subgraph 0", "tensors: subgraph 0", "edge tpu: " + want} {
				if !strings.Contains(text.String(), s) {
					t.Errorf("text report lacks %q", s)
				}
			}

			data, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			var back Report
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatalf("JSON report does not decode: %v", err)
			}
			if back.EdgeTPU.Verdict != want || len(back.Subgraphs) != len(r.Subgraphs) ||
				len(back.Subgraphs[0].Operators) != len(r.Subgraphs[0].Operators) || back.WeightsBytes != r.WeightsBytes {
				t.Errorf("JSON round trip lost data: got verdict %s, %d subgraphs, weights %d", back.EdgeTPU.Verdict, len(back.Subgraphs), back.WeightsBytes)
			}
			for i, op := range back.Subgraphs[0].Operators {
				if got, want := op.Options.String(), r.Subgraphs[0].Operators[i].Options.String(); got != want {
					t.Errorf("operator %d options after JSON: %q, want %q", i, got, want)
				}
			}
		})
	}
	if seen != len(wantVerdict) {
		t.Errorf("inspected %d models, want %d", seen, len(wantVerdict))
	}
}

// checkAgainstModel compares the report with the model as the reader and
// infer see it.
func checkAgainstModel(t *testing.T, path string, r *Report) {
	t.Helper()
	f, err := infer.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.SHA256 != f.SHA256 || r.FileBytes != len(f.Data) {
		t.Errorf("file %d bytes sha256 %s, want %d %s", r.FileBytes, r.SHA256, len(f.Data), f.SHA256)
	}
	m := f.Model
	sg := &m.Subgraphs[0]
	if len(r.Subgraphs) != len(m.Subgraphs) || len(r.Subgraphs[0].Operators) != len(sg.Operators) || len(r.Subgraphs[0].Tensors) != len(sg.Tensors) {
		t.Fatalf("report has %d subgraphs, %d operators, %d tensors; model %d, %d, %d", len(r.Subgraphs),
			len(r.Subgraphs[0].Operators), len(r.Subgraphs[0].Tensors), len(m.Subgraphs), len(sg.Operators), len(sg.Tensors))
	}
	if len(r.Inputs) != len(sg.Inputs) || len(r.Outputs) != len(sg.Outputs) {
		t.Errorf("%d inputs, %d outputs; want %d, %d", len(r.Inputs), len(r.Outputs), len(sg.Inputs), len(sg.Outputs))
	}
	for i, op := range sg.Operators {
		got := r.Subgraphs[0].Operators[i]
		if want := m.OperatorCodes[op.OpcodeIndex].Name(); got.Op != want || len(got.Inputs) != len(op.Inputs) || len(got.Outputs) != len(op.Outputs) {
			t.Errorf("operator %d: %s with %d/%d tensors, want %s with %d/%d", i, got.Op, len(got.Inputs), len(got.Outputs), want, len(op.Inputs), len(op.Outputs))
		}
	}
	// Weights: the constant buffers, each counted once.
	buffers := map[int]bool{}
	want := 0
	for _, g := range m.Subgraphs {
		for _, tn := range g.Tensors {
			if b := m.Buffer(tn.Buffer); len(b) > 0 && !buffers[tn.Buffer] {
				buffers[tn.Buffer] = true
				want += len(b)
			}
		}
	}
	if r.WeightsBytes != want {
		t.Errorf("weights %d bytes, want %d", r.WeightsBytes, want)
	}
	md, mdErr := infer.ReadMetadata(m)
	if (md == nil) != (r.Metadata == nil) || (mdErr != nil) != (r.MetadataError != "") {
		t.Errorf("metadata %v (error %q), infer.ReadMetadata gives %v (%v)", r.Metadata, r.MetadataError, md, mdErr)
	}
	if others := len(m.Metadata) - boolInt(md != nil || mdErr != nil); len(r.OtherMetadata) != others {
		t.Errorf("%d other metadata entries, want %d", len(r.OtherMetadata), others)
	}
}

// TestGolden compares the text report of three models with the files in
// testdata/; go test -run TestGolden -update rewrites them.
func TestGolden(t *testing.T) {
	for _, rel := range []string{
		"models/mlperf_tiny/vww_96_int8.tflite",
		"models/go-tflite/xor_model.tflite",
		"models/coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite",
	} {
		base := strings.TrimSuffix(filepath.Base(rel), ".tflite")
		t.Run(base, func(t *testing.T) {
			r, err := ReadFile(testdata.Path(t, rel))
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := WriteText(&got, r); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", base+".txt")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
				for i := range max(len(gl), len(wl)) {
					var g, w string
					if i < len(gl) {
						g = gl[i]
					}
					if i < len(wl) {
						w = wl[i]
					}
					if g != w {
						t.Fatalf("report differs from %s at line %d:\ngot:  %q\nwant: %q\n(go test -run TestGolden -update rewrites it)", golden, i+1, g, w)
					}
				}
			}
		})
	}
}

// TestMetadata inspects a model carrying fruitcam metadata, and one whose
// entry is broken: the report shows the error instead of failing.
func TestMetadata(t *testing.T) {
	f, err := infer.ReadFile(testdata.Path(t, "models/mlperf_tiny/vww_96_int8.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	m := *f.Model
	m.Buffers = append([][]byte(nil), m.Buffers...)
	m.Metadata = append([]tfl.Metadata(nil), m.Metadata...)
	md := &infer.Metadata{Schema: 1, Name: "vww", Version: "2", Labels: []string{"no person", "person"},
		Normalize: "unit", Resize: "bilinear", Converter: "fruitcam-convert test"}
	if err := infer.SetMetadata(&m, md); err != nil {
		t.Fatal(err)
	}
	r := Describe(&m)
	if r.Metadata == nil || r.Metadata.Name != "vww" || len(r.Metadata.Labels) != 2 || r.MetadataError != "" {
		t.Fatalf("metadata %+v (error %q), want the entry just set", r.Metadata, r.MetadataError)
	}
	if len(r.OtherMetadata) != 1 || r.OtherMetadata[0].Name != "min_runtime_version" || r.OtherMetadata[0].Text != "1.5.0" {
		t.Errorf("other metadata %+v, want min_runtime_version 1.5.0", r.OtherMetadata)
	}
	var text bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"name:       vww", "labels:     2: no person, person", "normalize:  unit", "resize:     bilinear", "converter:  fruitcam-convert test"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text report lacks %q", s)
		}
	}

	m.Buffers[m.Metadata[len(m.Metadata)-1].Buffer] = []byte(`{"schema":1,"labels":"not a list"}`)
	r = Describe(&m)
	if r.Metadata != nil || !strings.Contains(r.MetadataError, "labels") {
		t.Errorf("broken metadata: got %+v, error %q; want the decode error", r.Metadata, r.MetadataError)
	}
}

// TestBroken: files that are not models, or broken ones, give an error
// naming the file and the problem.
func TestBroken(t *testing.T) {
	dir := t.TempDir()
	vww, err := os.ReadFile(testdata.Path(t, "models/mlperf_tiny/vww_96_int8.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	h5 := testdata.Path(t, "keras/go-tflite/xor_model.h5")
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		path string
		want string
	}{
		{write("text.tflite", []byte("hello, this is not a model")), "not a TensorFlow Lite model"},
		{write("empty.tflite", nil), "not a TensorFlow Lite model"},
		{write("truncated.tflite", vww[:2000]), "malformed model"},
		{h5, "not a TensorFlow Lite model"},
		{filepath.Join(dir, "missing.tflite"), "no such file"},
	}
	for _, tc := range tests {
		r, err := ReadFile(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "inspect: ") ||
			!strings.Contains(err.Error(), filepath.Base(tc.path)) {
			t.Errorf("%s: got %v, %v; want an error naming the file and %q", filepath.Base(tc.path), r, err, tc.want)
		}
	}
}
