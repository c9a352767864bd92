package capture

import (
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writePNG writes a w x 1 image whose first pixel's red is tag.
func writePNG(t *testing.T, path string, tag uint8) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	m := image.NewNRGBA(image.Rect(0, 0, 4, 3))
	m.Set(0, 0, color.NRGBA{tag, 0, 0, 255})
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, m); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func tag(f *Frame) uint8 {
	r, _, _, _ := f.Image.At(0, 0).RGBA()
	return uint8(r >> 8)
}

// conveyor makes dir/{Banana/b1.png, Banana/b2.PNG, Apple/a1.png,
// notes.txt, broken.jpg}.
func conveyor(t *testing.T) string {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "Banana", "b2.PNG"), 3)
	writePNG(t, filepath.Join(dir, "Banana", "b1.png"), 2)
	writePNG(t, filepath.Join(dir, "Apple", "a1.png"), 1)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not an image"), 0o644)
	os.WriteFile(filepath.Join(dir, "broken.jpg"), []byte("\xff\xd8\xff garbage"), 0o644)
	return dir
}

func readAll(t *testing.T, s Source, max int) ([]*Frame, error) {
	t.Helper()
	var out []*Frame
	for range max {
		f, err := s.Read(context.Background())
		if err != nil {
			return out, err
		}
		out = append(out, f)
	}
	return out, nil
}

func TestFolderOrderSkipAndEOF(t *testing.T) {
	dir := conveyor(t)
	f, err := NewFolder(dir, FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, p := range f.Paths() {
		r, _ := filepath.Rel(dir, p)
		rel = append(rel, filepath.ToSlash(r))
	}
	if got, want := strings.Join(rel, " "), "Apple/a1.png Banana/b1.png Banana/b2.PNG broken.jpg"; got != want {
		t.Errorf("paths %q, want %q", got, want)
	}
	frames, err := readAll(t, f, 10)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("after the last image: got %v, want io.EOF", err)
	}
	var tags []uint8
	for i, fr := range frames {
		tags = append(tags, tag(fr))
		if fr.Seq != uint64(i+1) || fr.Path == "" {
			t.Errorf("frame %d: seq %d path %q", i, fr.Seq, fr.Path)
		}
		fr.Release()
	}
	if string(tags) != "\x01\x02\x03" {
		t.Errorf("tags %v, want [1 2 3]", tags)
	}
	if f.Skipped() != 1 {
		t.Errorf("skipped %d, want 1 (broken.jpg)", f.Skipped())
	}
	if _, err := f.Read(context.Background()); !errors.Is(err, io.EOF) {
		t.Errorf("read after EOF: %v", err)
	}
}

func TestFolderGlobAndLoop(t *testing.T) {
	dir := conveyor(t)
	f, err := NewFolder(filepath.Join(dir, "Banana", "*"), FolderOptions{Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	frames, err := readAll(t, f, 5)
	if err != nil {
		t.Fatal(err)
	}
	var tags []uint8
	for _, fr := range frames {
		tags = append(tags, tag(fr))
	}
	if string(tags) != "\x02\x03\x02\x03\x02" {
		t.Errorf("looped tags %v, want 2 3 2 3 2", tags)
	}
}

// TestFolderRate: at 4 frames/s the frames are stamped 250ms apart on the
// fake clock, and the source slept for exactly the gaps.
func TestFolderRate(t *testing.T) {
	dir := conveyor(t)
	f, err := NewFolder(dir, FolderOptions{Rate: 4, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	c := newFakeClock()
	f.clock = c
	t0 := c.Now()
	frames, err := readAll(t, f, 6)
	if err != nil {
		t.Fatal(err)
	}
	for i, fr := range frames {
		if got, want := fr.Captured.Sub(t0), time.Duration(i)*250*time.Millisecond; got != want {
			t.Errorf("frame %d at %v, want %v", i, got, want)
		}
	}
	// A slow reader: the conveyor does not burst to catch up.
	c.advance(2 * time.Second)
	fr, err := f.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	next, err := f.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := next.Captured.Sub(fr.Captured); d != 250*time.Millisecond {
		t.Errorf("after a stall: frames %v apart, want 250ms", d)
	}
}

// TestFolderRateRealClock: the real clock paces too (generous bounds).
func TestFolderRateRealClock(t *testing.T) {
	f, err := NewFolder(conveyor(t), FolderOptions{Rate: 50, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := readAll(t, f, 6); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Errorf("6 frames at 50/s took %v, want at least 100ms", d)
	}
}

func TestFolderErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.txt"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.png"), []byte("nope"), 0o644)
	for _, c := range []struct {
		pattern string
		opts    FolderOptions
		want    string
	}{
		{"", FolderOptions{}, "needs a directory"},
		{filepath.Join(dir, "*.txt"), FolderOptions{}, "no images"},
		{filepath.Join(dir, "missing"), FolderOptions{}, "no images"},
		{filepath.Join(dir, "[x"), FolderOptions{}, "bad glob"},
		{dir, FolderOptions{Rate: -1}, "negative"},
	} {
		_, err := NewFolder(c.pattern, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewFolder(%q): got %v, want an error with %q", c.pattern, err, c.want)
		}
	}
	f, err := NewFolder(dir, FolderOptions{Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Read(context.Background()); err == nil || !strings.Contains(err.Error(), "none of the 1 images") {
		t.Errorf("folder of undecodable images: got %v", err)
	}
}

func TestPattern(t *testing.T) {
	p, err := NewPattern(PatternOptions{Width: 64, Height: 48, Frames: 3})
	if err != nil {
		t.Fatal(err)
	}
	frames, err := readAll(t, p, 5)
	if !errors.Is(err, io.EOF) || len(frames) != 3 {
		t.Fatalf("got %d frames and %v, want 3 and io.EOF", len(frames), err)
	}
	a, b := frames[0].Image.(*image.RGBA), frames[1].Image.(*image.RGBA)
	if a.Bounds() != image.Rect(0, 0, 64, 48) {
		t.Errorf("bounds %v", a.Bounds())
	}
	if string(a.Pix) == string(b.Pix) {
		t.Error("consecutive pattern frames are identical")
	}
	colours := map[color.RGBA]bool{}
	for y := range 48 {
		for x := range 64 {
			colours[a.RGBAAt(x, y)] = true
		}
	}
	if len(colours) < 10 {
		t.Errorf("pattern frame has %d colours, want structure", len(colours))
	}
	// Deterministic: the same frame number draws the same pixels.
	q, _ := NewPattern(PatternOptions{Width: 64, Height: 48})
	fq, _ := q.Read(context.Background())
	if string(fq.Image.(*image.RGBA).Pix) != string(a.Pix) {
		t.Error("pattern frame 1 differs between sources")
	}
	for _, f := range frames {
		f.Release()
	}
	allocs := testing.AllocsPerRun(20, func() {
		f, err := q.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		f.Release()
	})
	if allocs != 0 {
		t.Errorf("pattern: %.1f allocations per frame, want 0", allocs)
	}
	for _, o := range []PatternOptions{{Width: -1, Height: 2}, {Width: 9000, Height: 10}, {Rate: -1}, {Frames: -1}} {
		if _, err := NewPattern(o); err == nil {
			t.Errorf("NewPattern(%+v): no error", o)
		}
	}
}
