package modelstore

import (
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		ref     string
		want    Ref
		wantErr string // substring; "" means no error
	}{
		{"https://models.example/v3/fruit.tflite", Ref{URL: "https://models.example/v3/fruit.tflite", Ext: ".tflite"}, ""},
		{"http://10.0.0.5:8080/labels.txt?rev=3", Ref{URL: "http://10.0.0.5:8080/labels.txt?rev=3", Ext: ".txt"}, ""},
		{"HTTPS://models.example/model", Ref{URL: "HTTPS://models.example/model"}, ""},
		{"https://models.example/", Ref{URL: "https://models.example/"}, ""},
		{"https://models.example/m.t%20flite", Ref{URL: "https://models.example/m.t%20flite"}, ""},
		{"file:///opt/models/fruit.tflite", Ref{Path: "/opt/models/fruit.tflite", Ext: ".tflite"}, ""},
		{"file://localhost/opt/m.tflite", Ref{Path: "/opt/m.tflite", Ext: ".tflite"}, ""},
		{"/opt/models/../models/fruit.tflite", Ref{Path: "/opt/models/fruit.tflite", Ext: ".tflite"}, ""},
		{"/opt/models/.hidden", Ref{Path: "/opt/models/.hidden"}, ""},
		{"/opt/models/a.averyveryverylongext", Ref{Path: "/opt/models/a.averyveryverylongext"}, ""},

		{"", Ref{}, "empty model reference"},
		{"models/fruit.tflite", Ref{}, "relative path"},
		{"./fruit.tflite", Ref{}, "relative path"},
		{"https://bob:hunter2@models.example/m.tflite", Ref{}, "secret"},
		{"https://bob@models.example/m.tflite", Ref{}, "secret"},
		{"ftp://models.example/m.tflite", Ref{}, `scheme "ftp" is not supported`},
		{"s3://bucket/m.tflite", Ref{}, "not supported"},
		{"https:///m.tflite", Ref{}, "no host"},
		{"file://server/share/m.tflite", Ref{}, "names a host"},
		{"file:m.tflite", Ref{}, "not absolute"},
		{"file:///", Ref{}, "not an absolute file path"},
		{"/", Ref{}, "not an absolute file path"},
		{"file:///m.tflite?x=1", Ref{}, "no query"},
		{"/opt/a\x00b", Ref{}, "NUL"},
		{"http://exa mple/\x7f", Ref{}, "model reference"},
	}
	for _, tt := range tests {
		got, err := ParseRef(tt.ref)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ParseRef(%q): %v", tt.ref, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ParseRef(%q): got error %v, want one containing %q", tt.ref, err, tt.wantErr)
		case tt.wantErr != "" && strings.Contains(err.Error(), "hunter2"):
			t.Errorf("ParseRef(%q): the error shows the password: %v", tt.ref, err)
		case got != tt.want:
			t.Errorf("ParseRef(%q) = %+v, want %+v", tt.ref, got, tt.want)
		}
	}
}

func TestIsURL(t *testing.T) {
	for ref, want := range map[string]bool{
		"https://a/b": true, "HTTP://a/b": true, "file:///a": true,
		"/opt/m.tflite": false, "models/m.tflite": false, "ftp://a/b": false, "://x": false, "": false,
	} {
		if got := IsURL(ref); got != want {
			t.Errorf("IsURL(%q) = %v, want %v", ref, got, want)
		}
	}
}
