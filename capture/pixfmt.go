package capture

import (
	"errors"
	"fmt"
	"image"
	"strings"
)

// Pixel format names, as V4L2Options.Formats takes them.
const (
	PixYUYV  = "yuyv"  // V4L2_PIX_FMT_YUYV, packed 4:2:2
	PixMJPEG = "mjpeg" // V4L2_PIX_FMT_MJPEG (or JPEG), one JPEG per frame
	PixNV12  = "nv12"  // V4L2_PIX_FMT_NV12, 4:2:0, Y plane + interleaved UV
	PixGrey  = "grey"  // V4L2_PIX_FMT_GREY, 8-bit luma
)

// DefaultFormats is the preference order when V4L2Options.Formats is
// empty: raw formats that convert cheaply first, MJPEG (a JPEG decode per
// frame) where the camera offers nothing raw at the size.
var DefaultFormats = []string{PixYUYV, PixMJPEG, PixNV12, PixGrey}

// fourcc packs a V4L2 four-character code.
func fourcc(s string) uint32 {
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// fourccString spells a code, for messages.
func fourccString(c uint32) string {
	b := []byte{byte(c), byte(c >> 8), byte(c >> 16), byte(c >> 24)}
	return strings.TrimRight(string(b), " \x00")
}

// pixFourCCs lists the V4L2 codes that carry each format, preferred first.
var pixFourCCs = map[string][]uint32{
	PixYUYV:  {fourcc("YUYV")},
	PixMJPEG: {fourcc("MJPG"), fourcc("JPEG")},
	PixNV12:  {fourcc("NV12")},
	PixGrey:  {fourcc("GREY")},
}

// pixOf names the format of a V4L2 code, "" when unsupported.
func pixOf(code uint32) string {
	for name, codes := range pixFourCCs {
		for _, c := range codes {
			if c == code {
				return name
			}
		}
	}
	return ""
}

// checkFormats validates a preference list.
func checkFormats(names []string) error {
	for _, n := range names {
		if _, ok := pixFourCCs[n]; !ok {
			return fmt.Errorf("capture: unknown pixel format %q: use %s", n, strings.Join(DefaultFormats, ", "))
		}
	}
	return nil
}

// Format is what a camera delivers, as the driver reports it after
// negotiation.
type Format struct {
	Pixel    string        // PixYUYV, PixMJPEG, PixNV12 or PixGrey
	FourCC   string        // the driver's code, e.g. "YUYV", "MJPG"
	Width    int           // pixels
	Height   int           // pixels
	Stride   int           // bytes per line of the (first) plane; 0 for MJPEG
	Size     int           // bytes per frame the driver reserves (sizeimage)
	FPS      float64       // frames per second, 0 when the driver does not say
	Encoding ColorEncoding // Y'CbCr to RGB conversion of YUYV and NV12
}

func (f Format) String() string {
	s := fmt.Sprintf("%s %dx%d", f.FourCC, f.Width, f.Height)
	if f.FPS > 0 {
		s += fmt.Sprintf(" %.4g fps", f.FPS)
	}
	if f.Pixel == PixYUYV || f.Pixel == PixNV12 {
		s += " " + f.Encoding.String()
	}
	return s
}

// check fills a missing stride and rejects geometry the converters cannot
// index.
func (f *Format) check() error {
	if f.Width <= 0 || f.Height <= 0 {
		return fmt.Errorf("capture: frame size %dx%d", f.Width, f.Height)
	}
	min := 0
	switch f.Pixel {
	case PixYUYV:
		min = 2 * f.Width
		min += min & 2 // an odd width still ends on a whole pair
	case PixNV12, PixGrey:
		min = f.Width
		if f.Pixel == PixNV12 {
			min += min & 1
		}
	case PixMJPEG:
		return nil
	default:
		return fmt.Errorf("capture: unsupported pixel format %q", f.Pixel)
	}
	if f.Stride == 0 {
		f.Stride = min
	}
	if f.Stride < min {
		return fmt.Errorf("capture: %s line of %d bytes is shorter than %d pixels need (%d)", f.FourCC, f.Stride, f.Width, min)
	}
	return nil
}

// frameBytes is how many bytes one raw frame needs; 0 for MJPEG.
func (f Format) frameBytes() int {
	switch f.Pixel {
	case PixYUYV, PixGrey:
		return f.Stride * f.Height
	case PixNV12:
		return f.Stride * (f.Height + (f.Height+1)/2)
	}
	return 0
}

// errShortFrame marks a frame with fewer bytes than its format needs: the
// frame is dropped, the camera kept.
var errShortFrame = errors.New("short frame")

// fill copies one raw frame into the slot's buffer and points the slot's
// image header of the format at it; MJPEG is decoded instead (the image
// then comes from the JPEG decoder, not the pool).
func (f *Format) fill(s *slot, data []byte) error {
	n := f.frameBytes()
	if f.Pixel == PixMJPEG {
		img, err := decodeMJPEG(data)
		if err != nil {
			return err
		}
		if b := img.Bounds(); b.Dx() != f.Width || b.Dy() != f.Height {
			return fmt.Errorf("capture: MJPEG frame is %dx%d, the format says %dx%d", b.Dx(), b.Dy(), f.Width, f.Height)
		}
		s.frame.Image = img
		return nil
	}
	if len(data) < n {
		return fmt.Errorf("capture: %s frame of %d bytes, %dx%d needs %d: %w", f.FourCC, len(data), f.Width, f.Height, n, errShortFrame)
	}
	buf := s.buf[:n]
	copy(buf, data)
	r := image.Rect(0, 0, f.Width, f.Height)
	switch f.Pixel {
	case PixYUYV:
		s.yuyv = YUYV{Pix: buf, Stride: f.Stride, Rect: r, Encoding: f.Encoding}
		s.frame.Image = &s.yuyv
	case PixNV12:
		ySize := f.Stride * f.Height
		s.nv12 = NV12{Y: buf[:ySize], UV: buf[ySize:], YStride: f.Stride, UVStride: f.Stride, Rect: r, Encoding: f.Encoding}
		s.frame.Image = &s.nv12
	case PixGrey:
		s.gray = image.Gray{Pix: buf, Stride: f.Stride, Rect: r}
		s.frame.Image = &s.gray
	}
	return nil
}
