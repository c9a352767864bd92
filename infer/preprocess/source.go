package preprocess

import (
	"image"
	"image/color"
)

// rowReader fills dst with row y (absolute image coordinate) of the image,
// columns b.Min.X .. b.Max.X, as packed 8-bit pixels of the reader's
// channel count (3: R, G, B; 1: luma). Fast paths read the pixel slices
// of the common concrete image types directly; only the fallback calls
// At per pixel.
type rowReader func(y int, dst []uint8)

// newRowReader picks the reader for img and the channel count.
//
// Colour conversion follows what PIL's convert("RGB") yields for the same
// decoded pixels: alpha is dropped, not composited (non-premultiplied
// values are used as they are; premultiplied RGBA is taken as stored,
// which is the same for opaque images). Grayscale uses PIL's
// convert("L") weights, L = (19595 R + 38470 G + 7471 B + 32768) >> 16
// (ITU-R 601-2 luma), computed from RGB as Keras load_img(color_mode=
// "grayscale") does before resizing.
//
// tmp is scratch for the grayscale conversion, kept by the caller so
// repeated frames do not allocate.
func newRowReader(img image.Image, channels int, tmp *[]uint8) rowReader {
	b := img.Bounds()
	w := b.Dx()
	if channels == 1 {
		if g, ok := img.(*image.Gray); ok {
			return func(y int, dst []uint8) {
				o := g.PixOffset(b.Min.X, y)
				copy(dst[:w], g.Pix[o:o+w])
			}
		}
		rgb := newRowReader(img, 3, nil)
		*tmp = grow(*tmp, 3*w)
		buf := *tmp
		return func(y int, dst []uint8) {
			rgb(y, buf)
			for x := range w {
				p := buf[3*x : 3*x+3 : 3*x+3]
				dst[x] = luma(p[0], p[1], p[2])
			}
		}
	}
	if r, ok := img.(RowImage); ok {
		return r.RGBRow
	}
	switch m := img.(type) {
	case *image.YCbCr:
		return func(y int, dst []uint8) {
			yi := m.YOffset(b.Min.X, y)
			for x := range w {
				ci := m.COffset(b.Min.X+x, y)
				r, g, bl := color.YCbCrToRGB(m.Y[yi+x], m.Cb[ci], m.Cr[ci])
				d := dst[3*x : 3*x+3 : 3*x+3]
				d[0], d[1], d[2] = r, g, bl
			}
		}
	case *image.RGBA:
		return func(y int, dst []uint8) { unpack4(dst, m.Pix[m.PixOffset(b.Min.X, y):], w) }
	case *image.NRGBA:
		return func(y int, dst []uint8) { unpack4(dst, m.Pix[m.PixOffset(b.Min.X, y):], w) }
	case *image.Gray:
		return func(y int, dst []uint8) {
			src := m.Pix[m.PixOffset(b.Min.X, y):]
			for x := range w {
				v := src[x]
				d := dst[3*x : 3*x+3 : 3*x+3]
				d[0], d[1], d[2] = v, v, v
			}
		}
	case *image.Paletted:
		var pal [256][3]uint8
		for i, c := range m.Palette {
			if i == len(pal) {
				break
			}
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			pal[i] = [3]uint8{n.R, n.G, n.B}
		}
		return func(y int, dst []uint8) {
			src := m.Pix[m.PixOffset(b.Min.X, y):]
			for x := range w {
				p := pal[src[x]]
				d := dst[3*x : 3*x+3 : 3*x+3]
				d[0], d[1], d[2] = p[0], p[1], p[2]
			}
		}
	}
	return func(y int, dst []uint8) {
		for x := range w {
			n := color.NRGBAModel.Convert(img.At(b.Min.X+x, y)).(color.NRGBA)
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
