package conformance

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
)

// rgb is an 8-bit RGB image, rows top to bottom, channels interleaved.
type rgb struct {
	w, h int
	pix  []uint8
}

// decodeImage reads a BMP (24 or 32 bit, uncompressed) or a JPEG. The
// decoders are the standard library's and our own small BMP reader, so the
// pixels do not depend on infer/preprocess or on a third-party module.
func decodeImage(data []byte) (*rgb, error) {
	switch {
	case bytes.HasPrefix(data, []byte("BM")):
		return decodeBMP(data)
	case bytes.HasPrefix(data, []byte("\xff\xd8")):
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		return fromImage(img), nil
	}
	return nil, errors.New("not a BMP or JPEG image")
}

func fromImage(img image.Image) *rgb {
	b := img.Bounds()
	out := &rgb{w: b.Dx(), h: b.Dy(), pix: make([]uint8, 3*b.Dx()*b.Dy())}
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			out.pix[i], out.pix[i+1], out.pix[i+2] = uint8(r>>8), uint8(g>>8), uint8(bl>>8)
			i += 3
		}
	}
	return out
}

// decodeBMP reads uncompressed 24-bit and 32-bit (BI_RGB or BI_BITFIELDS
// with the usual BGRA masks) Windows bitmaps, bottom-up or top-down.
func decodeBMP(b []byte) (*rgb, error) {
	if len(b) < 34 {
		return nil, errors.New("bmp: truncated header")
	}
	le := binary.LittleEndian
	off := int(le.Uint32(b[10:]))
	w := int(int32(le.Uint32(b[18:])))
	hRaw := int(int32(le.Uint32(b[22:])))
	bpp := int(le.Uint16(b[28:]))
	comp := le.Uint32(b[30:])
	if bpp != 24 && bpp != 32 || comp != 0 && comp != 3 {
		return nil, fmt.Errorf("bmp: %d bits per pixel, compression %d: only uncompressed 24/32-bit is read", bpp, comp)
	}
	h := max(hRaw, -hRaw)
	if w <= 0 || h <= 0 || w > 1<<14 || h > 1<<14 {
		return nil, fmt.Errorf("bmp: size %dx%d", w, h)
	}
	stride := (w*bpp + 31) / 32 * 4
	if off < 0 || off+stride*h > len(b) {
		return nil, errors.New("bmp: pixel data runs past the end of the file")
	}
	out := &rgb{w: w, h: h, pix: make([]uint8, 3*w*h)}
	for y := range h {
		src := y
		if hRaw > 0 { // positive height: rows are stored bottom-up
			src = h - 1 - y
		}
		row := b[off+src*stride:]
		for x := range w {
			p := row[x*bpp/8:]
			d := out.pix[3*(y*w+x):]
			d[0], d[1], d[2] = p[2], p[1], p[0]
		}
	}
	return out, nil
}

// resizeNearest scales src to w×h by nearest neighbour, picking source
// pixel floor(x*srcW/w) as the shared tools/tflite-ref/bmp2raw.js does, so
// the inputs can be reproduced from the shell.
func resizeNearest(src *rgb, w, h int) *rgb {
	if src.w == w && src.h == h {
		return src
	}
	out := &rgb{w: w, h: h, pix: make([]uint8, 3*w*h)}
	for y := range h {
		sy := min(src.h-1, y*src.h/h)
		for x := range w {
			sx := min(src.w-1, x*src.w/w)
			copy(out.pix[3*(y*w+x):3*(y*w+x)+3], src.pix[3*(sy*src.w+sx):])
		}
	}
	return out
}
