package preprocess

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/image/bmp"
)

// Limits bound the images Decode accepts. The size is read from the header
// before any pixel is decoded, so an absurd header costs nothing.
type Limits struct {
	// MaxSide is the largest width or height, in pixels.
	MaxSide int
	// MaxPixels is the largest width*height.
	MaxPixels int
}

// DefaultLimits admit a 50-megapixel photo (about 200 MB decoded at worst)
// and no side over 16384 pixels.
var DefaultLimits = Limits{MaxSide: 16384, MaxPixels: 50_000_000}

// codec is one supported format.
type codec struct {
	name   string
	magic  []byte
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

var codecs = []codec{
	{"JPEG", []byte("\xff\xd8\xff"), jpeg.DecodeConfig, jpeg.Decode},
	{"PNG", []byte("\x89PNG\r\n\x1a\n"), png.DecodeConfig, png.Decode},
	{"BMP", []byte("BM"), bmp.DecodeConfig, bmp.Decode},
}

// DecodeFile reads and decodes the image at path with DefaultLimits.
func DecodeFile(path string) (image.Image, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("preprocess: %w", err)
	}
	return DefaultLimits.Decode(data, filepath.Base(path))
}

// Decode decodes data with DefaultLimits; name labels the input in errors.
func Decode(data []byte, name string) (image.Image, error) {
	return DefaultLimits.Decode(data, name)
}

// Decode decodes a JPEG, PNG or BMP image, choosing the decoder by the
// file's magic bytes (not its name). Errors are *UnsupportedError,
// *FormatError or *LimitError.
func (l Limits) Decode(data []byte, name string) (image.Image, error) {
	c, err := sniff(data, name)
	if err != nil {
		return nil, err
	}
	cfg, err := c.config(bytes.NewReader(data))
	if err != nil {
		return nil, c.wrap(name, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, &FormatError{Name: name, Format: c.name, Err: fmt.Errorf("size %dx%d", cfg.Width, cfg.Height)}
	}
	if cfg.Width > l.MaxSide || cfg.Height > l.MaxSide || cfg.Width*cfg.Height > l.MaxPixels {
		return nil, &LimitError{Name: name, Format: c.name, Width: cfg.Width, Height: cfg.Height, Limits: l}
	}
	img, err := c.decode(bytes.NewReader(data))
	if err != nil {
		return nil, c.wrap(name, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, &FormatError{Name: name, Format: c.name, Err: fmt.Errorf("header says %dx%d, pixels are %dx%d", cfg.Width, cfg.Height, b.Dx(), b.Dy())}
	}
	return img, nil
}

// wrap classifies a decoder error as unsupported (a valid feature we do
// not read) or malformed.
func (c *codec) wrap(name string, err error) error {
	var ju jpeg.UnsupportedError
	var pu png.UnsupportedError
	switch {
	case errors.As(err, &ju), errors.As(err, &pu):
		return &UnsupportedError{Name: name, Format: c.name, Detail: err.Error()}
	case errors.Is(err, bmp.ErrUnsupported):
		return &UnsupportedError{Name: name, Format: c.name, Detail: "only uncompressed 1, 2, 4, 8, 24 and 32-bit bitmaps are read"}
	case errors.Is(err, io.EOF):
		err = io.ErrUnexpectedEOF
	}
	return &FormatError{Name: name, Format: c.name, Err: err}
}

// others are formats recognised only to say what they are.
var others = []struct {
	name  string
	off   int
	magic string
}{
	{"GIF", 0, "GIF8"},
	{"WebP", 8, "WEBP"},
	{"TIFF", 0, "II*\x00"},
	{"TIFF", 0, "MM\x00*"},
	{"HEIF/AVIF", 4, "ftyp"},
	{"JPEG 2000", 0, "\x00\x00\x00\x0cjP  "},
}

func sniff(data []byte, name string) (*codec, error) {
	for i := range codecs {
		if bytes.HasPrefix(data, codecs[i].magic) {
			return &codecs[i], nil
		}
	}
	for _, o := range others {
		if len(data) >= o.off+len(o.magic) && string(data[o.off:o.off+len(o.magic)]) == o.magic {
			return nil, &UnsupportedError{Name: name, Format: o.name}
		}
	}
	if len(data) == 0 {
		return nil, &UnsupportedError{Name: name, Detail: "empty file"}
	}
	n := min(len(data), 4)
	return nil, &UnsupportedError{Name: name, Detail: fmt.Sprintf("first bytes % x", data[:n])}
}
