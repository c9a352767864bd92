package modelstore

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseRef: ParseRef never panics, and what it accepts is either an
// http(s) URL without credentials or a clean absolute path, with an
// extension that is safe in a file name; parsing its String again gives
// the same Ref.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{
		"https://models.example/v3/fruit.tflite", "http://10.0.0.5:8080/labels.txt?rev=3",
		"file:///opt/models/fruit.tflite", "file://localhost/opt/m.tflite", "/opt/models/fruit.tflite",
		"https://bob:pw@h/m", "ftp://h/m", "models/m.tflite", "file:m", "", "/", "https://h/%2e%2e/x.y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			return
		}
		if (r.URL == "") == (r.Path == "") {
			t.Fatalf("ParseRef(%q) = %+v: want exactly one of URL and Path", s, r)
		}
		if r.URL != "" && !IsURL(r.URL) {
			t.Fatalf("ParseRef(%q) = %+v: URL without an http(s) scheme", s, r)
		}
		if r.Path != "" && (!filepath.IsAbs(r.Path) || filepath.Clean(r.Path) != r.Path) {
			t.Fatalf("ParseRef(%q) = %+v: path not clean and absolute", s, r)
		}
		if r.Ext != "" && (ext("x"+r.Ext) != r.Ext || strings.ContainsAny(r.Ext, "/\\\x00")) {
			t.Fatalf("ParseRef(%q) = %+v: odd extension", s, r)
		}
		again, err := ParseRef(r.String())
		if err != nil || again != r {
			t.Fatalf("ParseRef(%q) = %+v, but ParseRef(%q) = %+v, %v", s, r, r.String(), again, err)
		}
	})
}
