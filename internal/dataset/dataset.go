package dataset

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Item is one image of a set.
type Item struct {
	Path  string
	Class int // index into Set.Classes; -1 in an unlabelled set
}

// Set is the images of a folder.
type Set struct {
	Root    string
	Classes []string // sorted subfolder names; nil for an unlabelled set
	Items   []Item   // by class, then by path
}

// imageExt lists the extensions taken as images.
var imageExt = map[string]bool{".jpg": true, ".jpeg": true, ".png": true, ".bmp": true}

// IsImage reports whether name has an image extension.
func IsImage(name string) bool {
	return imageExt[strings.ToLower(filepath.Ext(name))]
}

func hidden(name string) bool { return strings.HasPrefix(name, ".") }

// Scan reads dir. Class subfolders make a labelled set (images directly in
// dir are then an error, since their class is unknown); otherwise the images
// in dir make an unlabelled set. Images inside a class folder may sit in
// further subfolders. A folder without images is an error.
func Scan(dir string) (*Set, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	s := &Set{Root: dir}
	var loose []string
	for _, e := range entries {
		switch {
		case hidden(e.Name()):
		case e.IsDir():
			s.Classes = append(s.Classes, e.Name())
		case IsImage(e.Name()):
			loose = append(loose, filepath.Join(dir, e.Name()))
		}
	}
	if len(s.Classes) == 0 {
		for _, p := range loose {
			s.Items = append(s.Items, Item{Path: p, Class: -1})
		}
		if len(s.Items) == 0 {
			return nil, fmt.Errorf("dataset: %s has no images (.jpg, .jpeg, .png, .bmp) and no class folders", dir)
		}
		return s, nil
	}
	if len(loose) > 0 {
		return nil, fmt.Errorf("dataset: %s has both class folders and loose images (%s); move the images into a class folder",
			dir, filepath.Base(loose[0]))
	}
	slices.Sort(s.Classes)
	for c, name := range s.Classes {
		n := 0
		err := filepath.WalkDir(filepath.Join(dir, name), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if hidden(d.Name()) && p != filepath.Join(dir, name) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() && IsImage(d.Name()) {
				s.Items = append(s.Items, Item{Path: p, Class: c})
				n++
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		if n == 0 {
			return nil, fmt.Errorf("dataset: class folder %s has no images", filepath.Join(dir, name))
		}
	}
	return s, nil
}

// Labelled reports whether the set has classes.
func (s *Set) Labelled() bool { return len(s.Classes) > 0 }

// Sample returns at most n items, taken round-robin over the classes and
// evenly spaced within each class, in a fixed order: the same set and n
// always give the same sample. n <= 0 or n >= len(Items) returns s.
func (s *Set) Sample(n int) *Set {
	if n <= 0 || n >= len(s.Items) {
		return s
	}
	byClass := map[int][]Item{}
	var order []int
	for _, it := range s.Items {
		if _, ok := byClass[it.Class]; !ok {
			order = append(order, it.Class)
		}
		byClass[it.Class] = append(byClass[it.Class], it)
	}
	// Share n over the classes as evenly as their sizes allow.
	take := make(map[int]int, len(order))
	left := n
	for left > 0 {
		progress := false
		for _, c := range order {
			if left > 0 && take[c] < len(byClass[c]) {
				take[c]++
				left--
				progress = true
			}
		}
		if !progress {
			break
		}
	}
	out := &Set{Root: s.Root, Classes: s.Classes}
	for _, c := range order {
		items, k := byClass[c], take[c]
		for i := range k {
			// Evenly spaced picks: item floor(i*len/k).
			out.Items = append(out.Items, items[i*len(items)/k])
		}
	}
	return out
}

// ClassIndex maps the set's classes onto labels (a model's label list):
// result[c] is the label index of class c, or -1 when the class has no
// label of that name. It errors when no class matches, since accuracy
// against such labels would be meaningless.
func (s *Set) ClassIndex(labels []string) ([]int, error) {
	if !s.Labelled() {
		return nil, errors.New("dataset: the set has no classes")
	}
	idx := make(map[string]int, len(labels))
	for i, l := range labels {
		if _, dup := idx[l]; !dup {
			idx[l] = i
		}
	}
	out := make([]int, len(s.Classes))
	found := 0
	for c, name := range s.Classes {
		i, ok := idx[name]
		if !ok {
			out[c] = -1
			continue
		}
		out[c] = i
		found++
	}
	if found == 0 {
		return nil, fmt.Errorf("dataset: none of the %d class folders of %s is a model label (e.g. %q); name the folders after the labels",
			len(s.Classes), s.Root, s.Classes[0])
	}
	return out, nil
}
