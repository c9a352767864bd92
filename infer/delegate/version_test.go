package delegate

import (
	"errors"
	"strings"
	"testing"
)

func TestParseEdgeTPUVersion(t *testing.T) {
	tests := []struct {
		in   string
		want EdgeTPUVersion // Text is in
		err  bool
	}{
		{"BuildLabel(COMPILER=6.3.0 20170516,DATE=redacted,TIME=redacted), RuntimeVersion(14)",
			EdgeTPUVersion{Runtime: 14, Compiler: "6.3.0 20170516", Date: "redacted"}, false},
		{"BuildLabel(COMPILER=5.4.0 20160609,DATE=redacted,TIME=redacted,CL_NUMBER=291256449), RuntimeVersion(13)",
			EdgeTPUVersion{Runtime: 13, Compiler: "5.4.0 20160609", Date: "redacted", CL: 291256449}, false},
		{"BuildLabel(COMPILER=6.3.0 20170516,DATE=redacted,TIME=redacted,CL_NUMBER=267685300), RuntimeVersion(12)",
			EdgeTPUVersion{Runtime: 12, Compiler: "6.3.0 20170516", Date: "redacted", CL: 267685300}, false},
		{"BuildLabel(COMPILER=14.2.0,DATE=Feb 22 2026,TIME=09:51:57), RuntimeVersion(14)",
			EdgeTPUVersion{Runtime: 14, Compiler: "14.2.0", Date: "Feb 22 2026"}, false},
		{"BuildLabel(COMPILER=MSVC 192528612,DATE=Jul 20 2021,TIME=14:30:22), RuntimeVersion(14)",
			EdgeTPUVersion{Runtime: 14, Compiler: "MSVC 192528612", Date: "Jul 20 2021"}, false},
		{"RuntimeVersion(10)", EdgeTPUVersion{Runtime: 10}, false},
		{"BuildLabel(garbage, RuntimeVersion(14)", EdgeTPUVersion{Runtime: 14}, false},
		{"", EdgeTPUVersion{}, true},
		{"BuildLabel(COMPILER=6.3.0), RuntimeVersion()", EdgeTPUVersion{}, true},
		{"RuntimeVersion(x)", EdgeTPUVersion{}, true},
		{"16.0", EdgeTPUVersion{}, true},
	}
	for _, tt := range tests {
		got, err := ParseEdgeTPUVersion(tt.in)
		if tt.err {
			if err == nil || !strings.HasPrefix(err.Error(), "delegate: ") {
				t.Errorf("ParseEdgeTPUVersion(%q) = %+v, %v: want a delegate error", tt.in, got, err)
			}
			continue
		}
		tt.want.Text = tt.in
		if err != nil || got != tt.want {
			t.Errorf("ParseEdgeTPUVersion(%q) = %+v, %v, want %+v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseEdgeTPUVersion(f *testing.F) {
	for _, s := range []string{
		"BuildLabel(COMPILER=6.3.0 20170516,DATE=redacted,TIME=redacted), RuntimeVersion(14)",
		"BuildLabel(COMPILER=5.4.0,DATE=redacted,TIME=redacted,CL_NUMBER=291256449), RuntimeVersion(13)",
		"BuildLabel(), RuntimeVersion(1)", "RuntimeVersion(", "BuildLabel(=,=,", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseEdgeTPUVersion(s)
		if v.Text != s {
			t.Errorf("Text = %q, want the input %q", v.Text, s)
		}
		if err == nil && (v.Runtime < 0 || !strings.Contains(s, "RuntimeVersion(")) {
			t.Errorf("ParseEdgeTPUVersion(%q) = %+v without a RuntimeVersion", s, v)
		}
		// The check never panics either, whatever the two texts.
		checkEdgeTPUVersions("lib", s, "tflite", s)
	})
}

func TestParseTFVersion(t *testing.T) {
	tests := []struct {
		in   string
		want tfVersion
		ok   bool
	}{
		{"2.9.0", tfVersion{2, 9, 0}, true},
		{"2.12.0-rc1", tfVersion{2, 12, 0}, true},
		{"2.5.0-dev20210301", tfVersion{2, 5, 0}, true},
		{" 2.11 ", tfVersion{2, 11, 0}, true},
		{"1.15.5", tfVersion{1, 15, 5}, true},
		{"", tfVersion{}, false},
		{"v2.9.0", tfVersion{}, false},
		{"2", tfVersion{}, false},
	}
	for _, tt := range tests {
		got, ok := parseTFVersion(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseTFVersion(%q) = %v, %v, want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if !(tfVersion{2, 4, 9}).less(tfVersion{2, 5, 0}) || (tfVersion{2, 12, 0}).less(tfVersion{2, 11, 9}) || (tfVersion{3, 0, 0}).less(tfVersion{2, 99, 0}) {
		t.Error("tfVersion.less orders releases wrongly")
	}
}

func TestCheckEdgeTPUVersions(t *testing.T) {
	const (
		coral16  = "BuildLabel(COMPILER=6.3.0 20170516,DATE=redacted,TIME=redacted), RuntimeVersion(14)"
		source16 = "BuildLabel(COMPILER=14.2.0,DATE=Feb 22 2026,TIME=09:51:57), RuntimeVersion(14)"
		coral13  = "BuildLabel(COMPILER=5.4.0 20160609,DATE=redacted,TIME=redacted,CL_NUMBER=291256449), RuntimeVersion(13)"
		coral15  = "BuildLabel(COMPILER=6.3.0 20170516,DATE=redacted,TIME=redacted,CL_NUMBER=340273435), RuntimeVersion(13)"
		coral12  = "BuildLabel(COMPILER=6.3.0 20170516,DATE=redacted,TIME=redacted,CL_NUMBER=267685300), RuntimeVersion(12)"
		source13 = "BuildLabel(COMPILER=9.3.0,DATE=Nov  5 2020,TIME=10:00:00), RuntimeVersion(13)"
	)
	tests := []struct {
		version, tflite string
		release         string // in the release; "" for none
		refuse          string // in the error; "" accepted
		note            string // in the note
	}{
		{coral16, "2.9.0", "libedgetpu 16.0 (Coral's package), built from TensorFlow 2.5.0", "", ""},
		{coral16, "2.5.0", "16.0", "", ""},
		{coral16, "2.11.1", "16.0", "", ""},
		{coral16, "2.4.1", "16.0", "needs TensorFlow Lite 2.5.0 or later", ""},
		{coral16, "2.1.0", "16.0", "Unsupported data type", ""},
		{coral16, "2.12.0", "16.0", "needs TensorFlow Lite older than 2.12.0", ""},
		{coral16, "2.17.1", "16.0", "edgetpu#812", ""},
		{coral16, "", "16.0", "", "libtensorflowlite_c not loaded"},
		{coral16, "nightly", "16.0", "", "not a release number"},
		{source16, "2.15.0", "built from source", "", "works only with the TensorFlow Lite release it was built against"},
		{source16, "2.4.0", "built from source", "TensorFlow Lite 2.5.0 or later", ""},
		{coral13, "2.1.0", "libedgetpu 13.0", "", "need runtime 14"},
		{coral13, "2.9.0", "libedgetpu 13.0", "apt-get install libedgetpu1-std", ""},
		{coral15, "2.9.0", "14.x or 15.0", "", "only 15.0 works with TensorFlow Lite 2.5"},
		{coral15, "2.13.0", "14.x or 15.0", "crash", ""},
		{coral12, "2.9.0", "libedgetpu 12 or older", "predates TensorFlow Lite 2.2", ""},
		{source13, "2.9.0", "", "", "built from source with runtime version 13"},
		{"BuildLabel(COMPILER=x), RuntimeVersion(15)", "2.9.0", "", "", "newer than any libedgetpu known here"},
		{"not a version", "2.9.0", "", "", "not in libedgetpu's form"},
		{"", "2.9.0", "", "", "does not export edgetpu_version()"},
	}
	for _, tt := range tests {
		c := checkEdgeTPUVersions("/usr/lib/libedgetpu.so.1", tt.version, "/opt/libtensorflowlite_c.so", tt.tflite)
		name := tt.version + " with " + tt.tflite
		if tt.release == "" && c.release != "" || !strings.Contains(c.release, tt.release) {
			t.Errorf("%s: release %q, want %q", name, c.release, tt.release)
		}
		if !strings.Contains(c.note, tt.note) {
			t.Errorf("%s: note %q does not contain %q", name, c.note, tt.note)
		}
		if tt.refuse == "" {
			if c.err != nil {
				t.Errorf("%s: refused: %v", name, c.err)
			}
			continue
		}
		if c.err == nil {
			t.Errorf("%s: accepted, want refused with %q", name, tt.refuse)
			continue
		}
		msg := c.err.Error()
		for _, want := range []string{tt.refuse, "/usr/lib/libedgetpu.so.1", "/opt/libtensorflowlite_c.so", tt.tflite, tt.version} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: error %q does not contain %q", name, msg, want)
			}
		}
		if !errors.Is(c.err, ErrEdgeTPUVersion) || !strings.HasPrefix(msg, "delegate: ") {
			t.Errorf("%s: error %q is not a delegate ErrEdgeTPUVersion", name, msg)
		}
	}
}
