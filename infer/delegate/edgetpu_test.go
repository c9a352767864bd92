package delegate

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEdgeTPUOptions(t *testing.T) {
	tests := []struct {
		device string
		want   map[string]string // nil: error
	}{
		{"", map[string]string{}},
		{"usb", map[string]string{"device": "usb"}},
		{"usb:0", map[string]string{"device": "usb:0"}},
		{"usb:12", map[string]string{"device": "usb:12"}},
		{"pci", map[string]string{"device": "pci"}},
		{"pci:1", map[string]string{"device": "pci:1"}},
		{":0", map[string]string{"device": ":0"}},
		{":3", map[string]string{"device": ":3"}},
		{"usb:", nil},
		{"usb:-1", nil},
		{"usb:01", nil},
		{"usb:+1", nil},
		{"usb:x", nil},
		{"usb:1:2", nil},
		{"USB", nil},
		{"tpu", nil},
		{":", nil},
		{"pcie:0", nil},
		{" usb", nil},
	}
	for _, tt := range tests {
		got, err := EdgeTPUOptions(tt.device)
		if tt.want == nil {
			if err == nil {
				t.Errorf("EdgeTPUOptions(%q) = %v, want an error", tt.device, got)
			} else if !strings.HasPrefix(err.Error(), "delegate: ") || !strings.Contains(err.Error(), `"usb:N"`) {
				t.Errorf("EdgeTPUOptions(%q) error %q does not name the package and the accepted forms", tt.device, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("EdgeTPUOptions(%q): %v", tt.device, err)
			continue
		}
		if !maps.Equal(got, tt.want) {
			t.Errorf("EdgeTPUOptions(%q) = %v, want %v", tt.device, got, tt.want)
		}
	}
}

func FuzzEdgeTPUOptions(f *testing.F) {
	for _, s := range []string{"", "usb", "usb:0", "pci:7", ":1", "usb:-1", "x:y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, device string) {
		got, err := EdgeTPUOptions(device)
		if err != nil {
			return
		}
		switch {
		case device == "" && len(got) != 0:
			t.Errorf("EdgeTPUOptions(\"\") = %v, want no options", got)
		case device != "" && (len(got) != 1 || got["device"] != device):
			t.Errorf("EdgeTPUOptions(%q) = %v, want {device: %q}", device, got, device)
		}
	})
}

func TestFindLibrary(t *testing.T) {
	empty, full := t.TempDir(), t.TempDir()
	lib := filepath.Join(full, EdgeTPULibrary)
	if err := os.WriteFile(lib, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(empty, EdgeTPULibrary), 0o755); err != nil { // a directory is not a library
		t.Fatal(err)
	}
	got, err := findLibrary(EdgeTPULibrary, []string{empty, full})
	if err != nil || got != lib {
		t.Errorf("findLibrary = %q, %v, want %q", got, err, lib)
	}
	_, err = findLibrary(EdgeTPULibrary, []string{empty})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), EdgeTPULibrary+" not found (looked in "+empty+")") {
		t.Errorf("findLibrary in an empty dir: error %v, want not found naming the file and the directory", err)
	}
}

func TestFindEdgeTPULibrary(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, EdgeTPULibrary)
	if err := os.WriteFile(lib, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LD_LIBRARY_PATH", dir)
	if got, err := FindEdgeTPULibrary(); err != nil || got != lib {
		t.Errorf("FindEdgeTPULibrary with LD_LIBRARY_PATH=%s = %q, %v, want %q", dir, got, err, lib)
	}

	t.Setenv("LD_LIBRARY_PATH", t.TempDir())
	if got, err := FindEdgeTPULibrary(); err == nil {
		t.Logf("libedgetpu installed on this machine: %s", got)
	} else if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "install libedgetpu1-std") {
		t.Errorf("FindEdgeTPULibrary error %q: want not found with the install hint", err)
	}
}

func TestLibraryDirs(t *testing.T) {
	t.Setenv("LD_LIBRARY_PATH", "/a::/b")
	got := libraryDirs()
	if len(got) < 4 || got[0] != "/a" || got[1] != "/b" || got[len(got)-1] != "/usr/lib" {
		t.Errorf("libraryDirs = %v, want /a, /b first and /usr/lib last", got)
	}
	if got, want := MultiarchTriplet("arm64"), "aarch64-linux-gnu"; got != want {
		t.Errorf("MultiarchTriplet(arm64) = %q, want %q", got, want)
	}
}
