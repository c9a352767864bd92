package signing

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLastConfigFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "last-config.json")
	got, err := LoadLastConfig(path)
	if err != nil || got != (LastConfig{}) {
		t.Fatalf("missing file: got %+v, %v; want the zero LastConfig", got, err)
	}
	want := Message{Body: []byte(cfgBody), Version: 1764409267123}.Last()
	for range 2 { // the second save replaces the first
		if err := SaveLastConfig(path, want); err != nil {
			t.Fatal(err)
		}
	}
	if got, err = LoadLastConfig(path); err != nil || got != want {
		t.Errorf("got %+v, %v; want %+v", got, err, want)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d files after saving, want 1 (no temporary files left)", len(entries))
	}
	if err := SaveLastConfig(filepath.Join(dir, "no-such-dir", "x.json"), want); err == nil {
		t.Errorf("save into a missing directory: got no error")
	}
}

func TestParseLastConfig(t *testing.T) {
	sum := strings.Repeat("0f", 32)
	tests := []struct {
		data string
		want string // "" for valid
	}{
		{data: `{"version":3,"sha256":"` + sum + `"}`},
		{data: `{"version":0,"sha256":""}`},
		{data: `{}`},
		{data: ``, want: "delete it"},
		{data: `{"version":3}`, want: "not 64 hex"},
		{data: `{"version":3,"sha256":"xyz"}`, want: "not 64 hex"},
		{data: `{"version":-3,"sha256":"` + sum + `"}`, want: "want {"},
		{data: `{"version":9007199254740992,"sha256":"` + sum + `"}`, want: "above"},
		{data: `{"version":3,"sha256":"` + sum + `","extra":1}`, want: "extra"},
		{data: `{"version":3,"sha256":"` + sum + `"} {}`, want: "after the JSON"},
	}
	for _, tt := range tests {
		_, err := ParseLastConfig([]byte(tt.data), "last.json")
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("ParseLastConfig(%s): %v", tt.data, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "last.json")):
			t.Errorf("ParseLastConfig(%s): got %v, want an error naming last.json containing %q", tt.data, err, tt.want)
		}
	}
}
