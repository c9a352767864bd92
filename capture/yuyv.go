package capture

import (
	"image"
	"image/color"
)

// YUYV is a packed 4:2:2 Y'CbCr image, V4L2_PIX_FMT_YUYV: each pair of
// pixels is four bytes Y0 U Y1 V, the pair sharing U (Cb) and V (Cr).
// Pixel pairs are aligned to even absolute x, so a sub-image may start or
// end in the middle of a pair.
type YUYV struct {
	// Pix holds the pairs, starting with the pair that contains
	// Rect.Min.
	Pix []uint8
	// Stride is the distance in bytes between vertically adjacent pairs
	// (V4L2's bytesperline; at least 2*width).
	Stride int
	Rect   image.Rectangle
	// Encoding is the Y'CbCr to RGB conversion (zero: BT.601 limited).
	Encoding ColorEncoding
}

// NewYUYV allocates a YUYV image of r with no row padding.
func NewYUYV(r image.Rectangle) *YUYV {
	w := (r.Max.X+1)>>1 - r.Min.X>>1 // pairs touched by the columns
	return &YUYV{Pix: make([]uint8, 4*w*r.Dy()), Stride: 4 * w, Rect: r}
}

func (p *YUYV) ColorModel() color.Model { return color.RGBAModel }
func (p *YUYV) Bounds() image.Rectangle { return p.Rect }
func (p *YUYV) Opaque() bool            { return true }

// PixOffset is the index in Pix of the first byte (Y0) of the pair that
// holds (x, y); the pixel's Y' is at +0 for even x and +2 for odd x, U at
// +1, V at +3.
func (p *YUYV) PixOffset(x, y int) int {
	return (y-p.Rect.Min.Y)*p.Stride + (x>>1-p.Rect.Min.X>>1)*4
}

// At converts one pixel with the image's Encoding, as RGBRow does.
func (p *YUYV) At(x, y int) color.Color {
	if !(image.Point{x, y}.In(p.Rect)) {
		return color.RGBA{}
	}
	i := p.PixOffset(x, y)
	var d [3]uint8
	p.Encoding.table().rgb(d[:], p.Pix[i+2*(x&1)], p.Pix[i+1], p.Pix[i+3])
	return color.RGBA{d[0], d[1], d[2], 0xff}
}

// SubImage returns the part of p inside r, sharing its pixels.
func (p *YUYV) SubImage(r image.Rectangle) image.Image {
	q := *p
	q.crop(r)
	return &q
}

// crop makes p its own sub-image in place (no allocation).
func (p *YUYV) crop(r image.Rectangle) {
	r = r.Intersect(p.Rect)
	if r.Empty() {
		*p = YUYV{Encoding: p.Encoding}
		return
	}
	p.Pix = p.Pix[p.PixOffset(r.Min.X, r.Min.Y):]
	p.Rect = r
}

// RGBRow writes row y of the image, columns Rect.Min.X to Rect.Max.X, to
// dst as packed R, G, B bytes (3*Rect.Dx() of them). It implements
// preprocess.RowImage, so a classifier converts only the rows it samples.
func (p *YUYV) RGBRow(y int, dst []uint8) {
	t := p.Encoding.table()
	w := p.Rect.Dx()
	dst = dst[:3*w]
	src := p.Pix[p.PixOffset(p.Rect.Min.X, y):]
	x := 0
	if p.Rect.Min.X&1 != 0 && w > 0 { // first pixel is the second of its pair
		t.rgb(dst[0:3:3], src[2], src[1], src[3])
		src = src[4:]
		x = 1
	}
	for ; x+1 < w; x += 2 {
		s := src[:4:4]
		t.pair(dst[3*x:3*x+6:3*x+6], s[0], s[2], s[1], s[3])
		src = src[4:]
	}
	if x < w {
		t.rgb(dst[3*x:3*x+3:3*x+3], src[0], src[1], src[3])
	}
}
