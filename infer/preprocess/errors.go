package preprocess

import (
	"fmt"
	"strings"
)

// Supported lists the image formats Decode reads.
var Supported = []string{"JPEG", "PNG", "BMP"}

// FormatError reports an image that claims a format it does not follow:
// truncated or corrupt data.
type FormatError struct {
	Name   string // file name or other label of the input
	Format string // "JPEG", "PNG", "BMP"
	Err    error
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("preprocess: %s: corrupt or truncated %s image: %v; re-export or re-capture it", e.Name, e.Format, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

// UnsupportedError reports an image that may be valid but that fruitcam
// does not read: an unknown format, or a variant of a known one (a
// compressed BMP, say).
type UnsupportedError struct {
	Name   string
	Format string // what was recognised, "" when nothing was
	Detail string
}

func (e *UnsupportedError) Error() string {
	what := "unknown image format"
	if e.Format != "" {
		what = "unsupported " + e.Format + " image"
	}
	if e.Detail != "" {
		what += " (" + e.Detail + ")"
	}
	return fmt.Sprintf("preprocess: %s: %s: supported formats are %s; convert it to one of them (e.g. to PNG)",
		e.Name, what, strings.Join(Supported, ", "))
}

// LimitError reports an image larger than the decoder's Limits allow,
// refused before its pixels are decoded.
type LimitError struct {
	Name          string
	Format        string
	Width, Height int
	Limits        Limits
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("preprocess: %s: %s image is %dx%d, over the limit of %d pixels per side and %d pixels in all; scale it down first",
		e.Name, e.Format, e.Width, e.Height, e.Limits.MaxSide, e.Limits.MaxPixels)
}
