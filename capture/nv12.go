package capture

import (
	"image"
	"image/color"
)

// NV12 is a 4:2:0 Y'CbCr image in two planes, V4L2_PIX_FMT_NV12: a full
// resolution Y' plane, then a half-height plane of interleaved U (Cb), V
// (Cr) pairs, each pair shared by a 2x2 block of pixels aligned to even
// absolute coordinates.
type NV12 struct {
	// Y starts at Rect.Min; UV starts at the pair of the block holding
	// Rect.Min.
	Y, UV []uint8
	// YStride and UVStride are the bytes between vertically adjacent
	// samples of each plane (V4L2's bytesperline serves both).
	YStride, UVStride int
	Rect              image.Rectangle
	// Encoding is the Y'CbCr to RGB conversion (zero: BT.601 limited).
	Encoding ColorEncoding
}

// NewNV12 allocates an NV12 image of r with no row padding.
func NewNV12(r image.Rectangle) *NV12 {
	cw := (r.Max.X+1)>>1 - r.Min.X>>1
	ch := (r.Max.Y+1)>>1 - r.Min.Y>>1
	return &NV12{
		Y: make([]uint8, r.Dx()*r.Dy()), UV: make([]uint8, 2*cw*ch),
		YStride: r.Dx(), UVStride: 2 * cw, Rect: r,
	}
}

func (p *NV12) ColorModel() color.Model { return color.RGBAModel }
func (p *NV12) Bounds() image.Rectangle { return p.Rect }
func (p *NV12) Opaque() bool            { return true }

// YOffset is the index in Y of the sample of (x, y).
func (p *NV12) YOffset(x, y int) int {
	return (y-p.Rect.Min.Y)*p.YStride + (x - p.Rect.Min.X)
}

// UVOffset is the index in UV of the U of the pair that covers (x, y); V
// follows it.
func (p *NV12) UVOffset(x, y int) int {
	return (y>>1-p.Rect.Min.Y>>1)*p.UVStride + (x>>1-p.Rect.Min.X>>1)*2
}

// At converts one pixel with the image's Encoding, as RGBRow does.
func (p *NV12) At(x, y int) color.Color {
	if !(image.Point{x, y}.In(p.Rect)) {
		return color.RGBA{}
	}
	c := p.UVOffset(x, y)
	var d [3]uint8
	p.Encoding.table().rgb(d[:], p.Y[p.YOffset(x, y)], p.UV[c], p.UV[c+1])
	return color.RGBA{d[0], d[1], d[2], 0xff}
}

// SubImage returns the part of p inside r, sharing its pixels.
func (p *NV12) SubImage(r image.Rectangle) image.Image {
	q := *p
	q.crop(r)
	return &q
}

// crop makes p its own sub-image in place (no allocation).
func (p *NV12) crop(r image.Rectangle) {
	r = r.Intersect(p.Rect)
	if r.Empty() {
		*p = NV12{Encoding: p.Encoding}
		return
	}
	p.Y = p.Y[p.YOffset(r.Min.X, r.Min.Y):]
	p.UV = p.UV[p.UVOffset(r.Min.X, r.Min.Y):]
	p.Rect = r
}

// RGBRow writes row y of the image, columns Rect.Min.X to Rect.Max.X, to
// dst as packed R, G, B bytes. It implements preprocess.RowImage.
func (p *NV12) RGBRow(y int, dst []uint8) {
	t := p.Encoding.table()
	w := p.Rect.Dx()
	dst = dst[:3*w]
	ys := p.Y[p.YOffset(p.Rect.Min.X, y):]
	ys = ys[:w]
	uv := p.UV[p.UVOffset(p.Rect.Min.X, y):]
	x := 0
	if p.Rect.Min.X&1 != 0 && w > 0 {
		t.rgb(dst[0:3:3], ys[0], uv[0], uv[1])
		uv = uv[2:]
		x = 1
	}
	for ; x+1 < w; x += 2 {
		c := uv[:2:2]
		t.pair(dst[3*x:3*x+6:3*x+6], ys[x], ys[x+1], c[0], c[1])
		uv = uv[2:]
	}
	if x < w {
		t.rgb(dst[3*x:3*x+3:3*x+3], ys[x], uv[0], uv[1])
	}
}
