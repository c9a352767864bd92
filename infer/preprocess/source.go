package preprocess

import (
	"image"
	"image/color"
)

// rowReader fills rows of an image as packed 8-bit pixels of the
// reader's channel count (3: R, G, B; 1: luma), columns b.Min.X ..
// b.Max.X. Fast paths read the pixel slices of the common concrete image
// types (and RowImage frames) directly; only the fallback calls At per
// pixel. It is a value kept in the Preprocessor and reset per image, not
// a closure, so that a stream of frames allocates nothing.
//
// Colour conversion follows what PIL's convert("RGB") yields for the same
// decoded pixels: alpha is dropped, not composited (non-premultiplied
// values are used as they are; premultiplied RGBA is taken as stored,
// which is the same for opaque images). Grayscale uses PIL's
// convert("L") weights, L = (19595 R + 38470 G + 7471 B + 32768) >> 16
// (ITU-R 601-2 luma), computed from RGB as Keras load_img(color_mode=
// "grayscale") does before resizing.
type rowReader struct {
	img  image.Image
	b    image.Rectangle
	w    int
	gray bool
	tmp  []uint8 // the RGB row before its conversion to luma
	pal  [256][3]uint8
}

// reset points the reader at img for the given channel count.
func (r *rowReader) reset(img image.Image, channels int) {
	r.img, r.b = img, img.Bounds()
	r.w = r.b.Dx()
	r.gray = channels == 1
	if _, ok := img.(*image.Gray); r.gray && !ok {
		r.tmp = grow(r.tmp, 3*r.w)
	}
	if m, ok := img.(*image.Paletted); ok {
		r.pal = [256][3]uint8{}
		for i, c := range m.Palette {
			if i == len(r.pal) {
				break
			}
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			r.pal[i] = [3]uint8{n.R, n.G, n.B}
		}
	}
}

// read fills dst with row y (an absolute image coordinate).
func (r *rowReader) read(y int, dst []uint8) {
	if !r.gray {
		r.rgb(y, dst)
		return
	}
	if g, ok := r.img.(*image.Gray); ok {
		o := g.PixOffset(r.b.Min.X, y)
		copy(dst[:r.w], g.Pix[o:o+r.w])
		return
	}
	buf := r.tmp[:3*r.w]
	r.rgb(y, buf)
	for x := range r.w {
		p := buf[3*x : 3*x+3 : 3*x+3]
		dst[x] = luma(p[0], p[1], p[2])
	}
}

// rgb fills dst with row y as packed R, G, B.
func (r *rowReader) rgb(y int, dst []uint8) {
	b, w := r.b, r.w
	switch m := r.img.(type) {
	case RowImage:
		m.RGBRow(y, dst)
	case *image.YCbCr:
		yi := m.YOffset(b.Min.X, y)
		for x := range w {
			ci := m.COffset(b.Min.X+x, y)
			rr, g, bl := color.YCbCrToRGB(m.Y[yi+x], m.Cb[ci], m.Cr[ci])
			d := dst[3*x : 3*x+3 : 3*x+3]
			d[0], d[1], d[2] = rr, g, bl
		}
	case *image.RGBA:
		unpack4(dst, m.Pix[m.PixOffset(b.Min.X, y):], w)
	case *image.NRGBA:
		unpack4(dst, m.Pix[m.PixOffset(b.Min.X, y):], w)
	case *image.Gray:
		src := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := range w {
			v := src[x]
			d := dst[3*x : 3*x+3 : 3*x+3]
			d[0], d[1], d[2] = v, v, v
		}
	case *image.Paletted:
		src := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := range w {
			p := r.pal[src[x]]
			d := dst[3*x : 3*x+3 : 3*x+3]
			d[0], d[1], d[2] = p[0], p[1], p[2]
		}
	default:
		for x := range w {
			n := color.NRGBAModel.Convert(r.img.At(b.Min.X+x, y)).(color.NRGBA)
			d := dst[3*x : 3*x+3 : 3*x+3]
			d[0], d[1], d[2] = n.R, n.G, n.B
		}
	}
}

// unpack4 drops the fourth byte of each of w 4-byte pixels.
func unpack4(dst, src []uint8, w int) {
	src = src[:4*w]
	dst = dst[:3*w]
	for x := range w {
		s := src[4*x : 4*x+3 : 4*x+3]
		d := dst[3*x : 3*x+3 : 3*x+3]
		d[0], d[1], d[2] = s[0], s[1], s[2]
	}
}

// luma is PIL's L24 RGB to grayscale conversion.
func luma(r, g, b uint8) uint8 {
	return uint8((uint32(r)*19595 + uint32(g)*38470 + uint32(b)*7471 + 0x8000) >> 16)
}
