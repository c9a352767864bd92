package dataset

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/internal/testdata"
)

// tree creates files (relative paths) under a temporary folder.
func tree(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func rel(s *Set) []string {
	var out []string
	for _, it := range s.Items {
		r, _ := filepath.Rel(s.Root, it.Path)
		out = append(out, filepath.ToSlash(r)+":"+string(rune('0'+it.Class+1)))
	}
	return out
}

func TestScan(t *testing.T) {
	tests := []struct {
		name    string
		files   []string
		classes []string
		items   []string // path:class+1
		err     string
	}{
		{"labelled", []string{"b/2.JPG", "b/1.png", "a/x/3.bmp", "a/readme.txt", ".hidden/4.jpg", "a/.5.jpg"},
			[]string{"a", "b"}, []string{"a/x/3.bmp:1", "b/1.png:2", "b/2.JPG:2"}, ""},
		{"unlabelled", []string{"1.jpeg", "2.jpg", "notes.md"}, nil, []string{"1.jpeg:0", "2.jpg:0"}, ""},
		{"empty", []string{"notes.md"}, nil, nil, "has no images"},
		{"empty class", []string{"a/1.jpg", "b/notes.md"}, nil, nil, "class folder"},
		{"mixed", []string{"a/1.jpg", "2.jpg"}, nil, nil, "loose images"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Scan(tree(t, tt.files...))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(s.Classes, tt.classes) || !slices.Equal(rel(s), tt.items) {
				t.Errorf("got classes %v items %v, want %v %v", s.Classes, rel(s), tt.classes, tt.items)
			}
		})
	}
	if _, err := Scan(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing folder scanned")
	}
}

func TestSample(t *testing.T) {
	s, err := Scan(tree(t, "a/1.jpg", "a/2.jpg", "a/3.jpg", "a/4.jpg", "b/1.jpg", "c/1.jpg", "c/2.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	got := rel(s.Sample(5))
	want := []string{"a/1.jpg:1", "a/3.jpg:1", "b/1.jpg:2", "c/1.jpg:3", "c/2.jpg:3"}
	if !slices.Equal(got, want) {
		t.Errorf("Sample(5) = %v, want %v", got, want)
	}
	if !slices.Equal(rel(s.Sample(5)), got) {
		t.Error("Sample is not deterministic")
	}
	if len(s.Sample(0).Items) != 7 || len(s.Sample(100).Items) != 7 {
		t.Error("Sample(0) or Sample(100) did not keep every item")
	}
}

func TestClassIndex(t *testing.T) {
	s, err := Scan(tree(t, "Banana/1.jpg", "Kiwi/1.jpg", "Mango/1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ClassIndex([]string{"Apple", "Kiwi", "Banana"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int{2, 1, -1}) {
		t.Errorf("ClassIndex = %v, want [2 1 -1]", got)
	}
	if _, err := s.ClassIndex([]string{"person"}); err == nil {
		t.Error("no matching label was accepted")
	}
}

func TestScanFruits(t *testing.T) {
	s, err := Scan(testdata.Path(t, "images/fruits360/Test"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Classes) != 15 || s.Classes[0] != "Apricot" || len(s.Items) != 1184 {
		t.Errorf("fruits360/Test: %d classes starting %q, %d images; want 15, Apricot, 1184", len(s.Classes), s.Classes[0], len(s.Items))
	}
	seen := map[int]bool{}
	for _, it := range s.Sample(30).Items {
		seen[it.Class] = true
	}
	if len(seen) != 15 {
		t.Errorf("a sample of 30 covers %d classes, want 15", len(seen))
	}
}
