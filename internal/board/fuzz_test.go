package board

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseDpkgStatus: any status file parses without panicking, into
// packages that have names.
func FuzzParseDpkgStatus(f *testing.F) {
	for _, tree := range []string{"pi4", "coral", "jetson", "x86"} {
		if b, err := os.ReadFile(filepath.Join("testdata", tree, "var/lib/dpkg/status")); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("Package: a\n\n\nPackage:\nStatus: install ok installed\n \n\t\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range parseDpkgStatus(data) {
			if p.Name == "" {
				t.Errorf("package without a name: %+v", p)
			}
		}
	})
}

// FuzzParseCPUList: a list that parses counts at least one CPU per part.
func FuzzParseCPUList(f *testing.F) {
	for _, s := range []string{"0-3", "0,2-3", "0-3,8-11\n", "7", "", "1-0", "0-65535"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseCPUList(s)
		if err == nil && n < strings.Count(s, ",")+1 {
			t.Errorf("parseCPUList(%q) = %d, fewer than its parts", s, n)
		}
	})
}

// FuzzReadELF: a file that claims to be a library but is not one gives an
// error, never a panic. Seeded with a library built here when gcc exists.
func FuzzReadELF(f *testing.F) {
	f.Add([]byte("\x7fELF\x02\x01\x01\x00"))
	f.Add([]byte("INPUT(-lfoo)\n"))
	if _, err := os.Stat("/usr/bin/gcc"); err == nil {
		lib := buildLib(f, "/usr/bin/gcc", LibEdgeTPU, defining(specOf(LibEdgeTPU).symbols...), "-Wl,-rpath,$ORIGIN/x")
		if b, err := os.ReadFile(lib); err == nil {
			f.Add(b)
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "lib.so")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, goarch := range []string{"amd64", "arm"} {
			if info, err := readELF(p, "/usr/lib", goarch); err == nil && info == nil {
				t.Fatal("no info and no error")
			}
		}
	})
}
