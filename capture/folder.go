package capture

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fruitcam/fruitcam/infer/preprocess"
)

// FolderOptions configure a Folder.
type FolderOptions struct {
	// Rate is frames per second, simulating a conveyor; 0 reads as fast
	// as files decode.
	Rate float64
	// Loop starts again from the first image after the last, forever;
	// otherwise Read returns io.EOF after the last.
	Loop bool
	// Logger reports files that do not decode (they are skipped); nil
	// discards.
	Logger *slog.Logger
}

// ImageExtensions are the file name extensions a Folder reads (any case):
// the formats preprocess decodes.
var ImageExtensions = []string{".jpg", ".jpeg", ".png", ".bmp"}

// Folder is a Source over image files: a directory, read recursively in
// lexical path order, or a glob pattern. Frames are the decoded files (not
// pooled: decoding allocates anyway), with Frame.Path set.
type Folder struct {
	paths   []string
	opts    FolderOptions
	log     *slog.Logger
	clock   clock
	pace    pacer
	next    int
	seq     uint64
	skipped int
	decoded bool // some file decoded in this pass
}

// NewFolder lists the images of a directory (recursively) or of a glob
// pattern (filepath.Match syntax), sorted by path.
func NewFolder(pattern string, opts FolderOptions) (*Folder, error) {
	if opts.Rate < 0 {
		return nil, fmt.Errorf("capture: folder rate %g frames/s is negative; use 0 for as fast as possible", opts.Rate)
	}
	paths, err := listImages(pattern)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Folder{paths: paths, opts: opts, log: log, clock: realClock{}, pace: pacer{period: period(opts.Rate)}}, nil
}

func isImage(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return slices.Contains(ImageExtensions, ext)
}

func listImages(pattern string) ([]string, error) {
	if pattern == "" {
		return nil, fmt.Errorf("capture: folder source needs a directory or a glob pattern")
	}
	var paths []string
	if st, err := os.Stat(pattern); err == nil && st.IsDir() {
		err := filepath.WalkDir(pattern, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() && isImage(p) {
				paths = append(paths, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("capture: %w", err)
		}
	} else {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			return nil, fmt.Errorf("capture: bad glob pattern %q: %w", pattern, err)
		}
		for _, p := range matches {
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && isImage(p) {
				paths = append(paths, p)
			}
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("capture: no images (%s) in %q: give a directory or a glob such as dir/*.jpg", strings.Join(ImageExtensions, ", "), pattern)
	}
	slices.Sort(paths)
	return paths, nil
}

// Paths returns the files in reading order.
func (f *Folder) Paths() []string { return slices.Clone(f.paths) }

// Skipped is how many files failed to decode so far.
func (f *Folder) Skipped() int { return f.skipped }

// Read decodes the next image, waiting for its turn at Rate. Files that
// do not decode are logged, counted and skipped; a pass in which none
// decodes is an error.
func (f *Folder) Read(ctx context.Context) (*Frame, error) {
	for {
		if f.next == len(f.paths) {
			if !f.decoded {
				return nil, fmt.Errorf("capture: none of the %d images in the folder decodes", len(f.paths))
			}
			if !f.opts.Loop {
				return nil, io.EOF
			}
			f.next, f.decoded = 0, false
		}
		t, err := f.pace.wait(ctx, f.clock)
		if err != nil {
			return nil, err
		}
		p := f.paths[f.next]
		f.next++
		img, err := preprocess.DecodeFile(p)
		if err != nil {
			f.skipped++
			f.log.Warn("capture: skipping image", "path", p, "err", err)
			f.pace.next = t // the slot is free for the next file
			continue
		}
		f.decoded = true
		f.seq++
		return &Frame{Seq: f.seq, Captured: t, Image: img, Path: p}, nil
	}
}

// Close implements Source.
func (f *Folder) Close() error { return nil }
