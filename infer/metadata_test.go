package infer

import (
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

func TestParseMetadata(t *testing.T) {
	md, err := ParseMetadata([]byte(`{"schema":1,"name":"fruits","version":"3","labels":["Apricot","Avocado"],
		"normalize":"unit","color_order":"rgb","resize":"nearest","fit":"squash","converter":"fruitcam-convert 0.1"}`))
	if err != nil {
		t.Fatal(err)
	}
	if md.Name != "fruits" || md.Version != "3" || len(md.Labels) != 2 || md.Normalize != "unit" || md.Fit != "squash" || md.Converter == "" {
		t.Errorf("parsed %+v", md)
	}
}

func TestParseMetadataErrors(t *testing.T) {
	tests := map[string]struct{ in, substr string }{
		"not-json":      {`labels: [a]`, "invalid character"},
		"no-schema":     {`{"name":"x"}`, "missing \"schema\""},
		"newer":         {`{"schema":2}`, "upgrade the agent"},
		"unknown-field": {`{"schema":1,"mean":[1,2,3]}`, "unknown field"},
		"bad-normalize": {`{"schema":1,"normalize":"imagenet"}`, "unit, symmetric, caffe or none"},
		"bad-resize":    {`{"schema":1,"resize":"bicubic"}`, "nearest, bilinear or area"},
		"empty-label":   {`{"schema":1,"labels":["a",""]}`, "label 1 is empty"},
		"trailing":      {`{"schema":1} {}`, "after the JSON"},
	}
	for name, tc := range tests {
		_, err := ParseMetadata([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.substr) {
			t.Errorf("%s: error %v, want one mentioning %q", name, err, tc.substr)
		}
	}
}

// tinyModel is a valid model with one float tensor, for metadata tests.
func tinyModel(md []tfl.Metadata, bufs ...[]byte) *tfl.Model {
	return &tfl.Model{
		Version: 3,
		Buffers: append([][]byte{nil, nil}, bufs...),
		Subgraphs: []tfl.Subgraph{{
			Tensors: []tfl.Tensor{{Name: "x", Type: tfl.Float32, Shape: []int{1, 2}, Buffer: 1}},
			Inputs:  []int{0}, Outputs: []int{0},
		}},
		Metadata: md,
	}
}

// TestReadMetadataFromFile writes metadata into a .tflite beside TFLite's
// own entries and reads it back through the file format.
func TestReadMetadataFromFile(t *testing.T) {
	want := &Metadata{Schema: 1, Name: "fruits", Labels: []string{"Apricot", "Banana"}, Normalize: "unit", Resize: "nearest"}
	js, err := want.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m := tinyModel([]tfl.Metadata{{Name: "min_runtime_version", Buffer: 2}, {Name: MetadataName, Buffer: 3}, {Name: "TFLITE_METADATA", Buffer: 4}},
		[]byte("1.5.0\x00"), js, []byte{1, 2, 3, 4})
	data, err := tfl.Write(m)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := tfl.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadMetadata(parsed)
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || got.Name != want.Name || strings.Join(got.Labels, ",") != "Apricot,Banana" || got.Normalize != "unit" {
		t.Errorf("read back %+v, want %+v", got, want)
	}
}

func TestReadMetadataAbsentOrBroken(t *testing.T) {
	got, err := ReadMetadata(tinyModel([]tfl.Metadata{{Name: "min_runtime_version", Buffer: 2}}, []byte("1.5.0")))
	if got != nil || err != nil {
		t.Errorf("no fruitcam entry: got %+v, %v; want nil, nil", got, err)
	}
	if _, err := ReadMetadata(tinyModel([]tfl.Metadata{{Name: MetadataName, Buffer: 1}})); err == nil {
		t.Error("empty metadata buffer accepted")
	}
	if _, err := ReadMetadata(tinyModel([]tfl.Metadata{{Name: MetadataName, Buffer: 2}}, []byte("{"))); err == nil {
		t.Error("truncated JSON accepted")
	}
}

// FuzzParseMetadata: any bytes give metadata or an error, and accepted
// metadata survives Marshal and ParseMetadata unchanged.
func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(`{"schema":1,"name":"fruits","labels":["a","b"],"normalize":"caffe","color_order":"bgr","resize":"area","fit":"crop"}`))
	f.Add([]byte(`{"schema":1}`))
	f.Add([]byte(`{"schema":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		md, err := ParseMetadata(data)
		if err != nil {
			return
		}
		js, err := md.Marshal()
		if err != nil {
			t.Fatalf("accepted metadata does not marshal: %v", err)
		}
		again, err := ParseMetadata(js)
		if err != nil {
			t.Fatalf("marshalled metadata %s does not parse: %v", js, err)
		}
		js2, _ := again.Marshal()
		if string(js) != string(js2) {
			t.Fatalf("round trip changed %s to %s", js, js2)
		}
	})
}

func TestSetMetadataReplaces(t *testing.T) {
	old, err := (&Metadata{Schema: 1, Name: "old"}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m := tinyModel([]tfl.Metadata{{Name: "min_runtime_version", Buffer: 2}, {Name: MetadataName, Buffer: 3}},
		[]byte("1.5.0\x00"), old)
	if err := SetMetadata(m, &Metadata{Schema: 1, Name: "new", Labels: []string{"Kiwi"}}); err != nil {
		t.Fatal(err)
	}
	if err := SetMetadata(m, &Metadata{Schema: 1, Labels: []string{""}}); err == nil {
		t.Error("invalid metadata was stored")
	}
	data, err := tfl.Write(m)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := tfl.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadMetadata(parsed)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "new" || len(got.Labels) != 1 || len(parsed.Metadata) != 2 || parsed.Metadata[0].Name != "min_runtime_version" {
		t.Errorf("read back %+v with entries %+v", got, parsed.Metadata)
	}
}
