package preprocess

import (
	"encoding/binary"
	"fmt"
	"image"
)

// Preprocessor turns images into slots of one input tensor. It keeps its
// scratch buffers between calls, so a stream of same-sized frames
// allocates nothing after the first; it is not safe for concurrent use.
type Preprocessor struct {
	spec Spec
	dst  Tensor
	elem int // bytes per tensor element
	lut  lut

	pix  []uint8   // resized image, Height*Width*Channels, packed
	row  []uint8   // one decoded source row
	src  rowReader // reads the current image's rows
	rows []uint8   // source rows or horizontally resampled rows
	rowF []float32 // area: horizontally resampled rows
	xi   []int     // nearest: source columns
	yi   []int     // nearest: source rows
	h, v coeffs
}

// New validates spec (filling its defaults) against the destination
// tensor type and precomputes the normalisation and quantisation table.
func New(spec Spec, dst Tensor) (*Preprocessor, error) {
	s, err := spec.withDefaults()
	if err != nil {
		return nil, err
	}
	l, err := newLUT(s, dst)
	if err != nil {
		return nil, err
	}
	return &Preprocessor{spec: s, dst: dst, elem: dst.Type.Size(), lut: l}, nil
}

// Spec returns the specification in use, defaults filled in.
func (p *Preprocessor) Spec() Spec { return p.spec }

// SlotBytes is the size of one image in the tensor.
func (p *Preprocessor) SlotBytes() int {
	return p.spec.Width * p.spec.Height * p.spec.Channels * p.elem
}

// PixelsExact reports whether the destination tensor takes 8-bit pixel
// values unchanged (up to an offset of -128 for int8): see newLUT.
func (p *Preprocessor) PixelsExact() bool { return p.lut.exact }

// Into preprocesses img into image slot of dst, the raw bytes of an input
// tensor holding a batch of images.
func (p *Preprocessor) Into(dst []byte, slot int, img image.Image) error {
	n := p.SlotBytes()
	if slot < 0 || (slot+1)*n > len(dst) {
		return fmt.Errorf("preprocess: slot %d does not fit a tensor of %d bytes (%d per image)", slot, len(dst), n)
	}
	pix, err := p.Resize(img)
	if err != nil {
		return err
	}
	p.write(dst[slot*n:(slot+1)*n], pix)
	return nil
}

// Resize returns img fitted and resized to the model's size as packed
// 8-bit pixels (R, G, B or luma, whatever the colour order), valid until
// the next call.
func (p *Preprocessor) Resize(img image.Image) ([]uint8, error) {
	b := img.Bounds()
	if b.Empty() {
		return nil, fmt.Errorf("preprocess: image is empty (%dx%d)", b.Dx(), b.Dy())
	}
	if b.Dx() > DefaultLimits.MaxSide || b.Dy() > DefaultLimits.MaxSide {
		return nil, fmt.Errorf("preprocess: image is %dx%d, over %d pixels per side", b.Dx(), b.Dy(), DefaultLimits.MaxSide)
	}
	s := p.spec
	ch := s.Channels
	p.src.reset(img, ch)
	read := &p.src
	bx := fitBox(b.Min.X, b.Min.Y, b.Dx(), b.Dy(), s.Width, s.Height, s.Fit)
	// Work in image-relative coordinates from here on.
	ox, oy := b.Min.X, b.Min.Y
	x0, y0, x1, y1 := bx.x0-ox, bx.y0-oy, bx.x1-ox, bx.y1-oy
	srcW, srcH := b.Dx(), b.Dy()
	outRow := s.Width * ch
	p.pix = grow(p.pix, s.Height*outRow)
	p.row = grow(p.row, srcW*ch)

	method := s.Resize
	if x1-x0 == s.Width && y1-y0 == s.Height {
		method = "" // every filter is the identity at scale 1
	}
	switch method {
	case "":
		for y := range s.Height {
			read.read(oy+y0+y, p.row)
			copy(p.pix[y*outRow:(y+1)*outRow], p.row[x0*ch:])
		}
	case Nearest:
		p.xi = grow(p.xi, s.Width)
		p.yi = grow(p.yi, s.Height)
		nearestIndex(p.xi, x0, x1, srcW)
		nearestIndex(p.yi, y0, y1, srcH)
		last := -1
		for y, sy := range p.yi {
			if sy != last {
				read.read(oy+sy, p.row)
				last = sy
			}
			out := p.pix[y*outRow : (y+1)*outRow]
			for x, sx := range p.xi {
				copy(out[x*ch:x*ch+ch], p.row[sx*ch:])
			}
		}
	case Bilinear:
		p.bilinear(read, oy, srcW, srcH, float32(x0), float32(y0), float32(x1), float32(y1))
	case Area:
		p.area(read, oy, x0, y0, x1, y1)
	}
	return p.pix, nil
}

// bilinear is PIL's ImagingResampleInner with the BILINEAR filter:
// horizontal pass into 8-bit rows, then vertical pass, each skipped when
// its axis is unchanged.
func (p *Preprocessor) bilinear(read *rowReader, oy, srcW, srcH int, x0, y0, x1, y1 float32) {
	s := p.spec
	ch := s.Channels
	needH := s.Width != srcW || x0 != 0 || x1 != float32(s.Width)
	needV := s.Height != srcH || y0 != 0 || y1 != float32(s.Height)
	p.v.bilinear(srcH, y0, y1, s.Height)
	lo, hi := p.v.span()
	rowLen := srcW * ch
	if needH {
		p.h.bilinear(srcW, x0, x1, s.Width)
		rowLen = s.Width * ch
	}
	p.rows = grow(p.rows, (hi-lo)*rowLen)
	for y := lo; y < hi; y++ {
		dst := p.rows[(y-lo)*rowLen : (y-lo+1)*rowLen]
		if needH {
			read.read(oy+y, p.row)
			p.h.resampleRow8(dst, p.row, ch)
		} else {
			read.read(oy+y, dst)
		}
	}
	if needV {
		p.v.resampleCols8(p.pix, p.rows, rowLen, lo)
		return
	}
	copy(p.pix, p.rows)
}

// area resamples with exact-overlap box weights, keeping the horizontal
// result in float so only the final value is rounded.
func (p *Preprocessor) area(read *rowReader, oy, x0, y0, x1, y1 int) {
	s := p.spec
	ch := s.Channels
	p.h.area(x0, x1, s.Width)
	p.v.area(y0, y1, s.Height)
	lo, hi := p.v.span()
	rowLen := s.Width * ch
	p.rowF = grow(p.rowF, (hi-lo)*rowLen)
	for y := lo; y < hi; y++ {
		read.read(oy+y, p.row)
		p.h.resampleRowF(p.rowF[(y-lo)*rowLen:(y-lo+1)*rowLen], p.row, ch)
	}
	p.v.resampleColsF(p.pix, p.rowF, rowLen, lo)
}

// write normalises, quantises and lays out the packed pixels into one
// slot through the lookup table.
func (p *Preprocessor) write(dst []byte, pix []uint8) {
	s := p.spec
	ch := s.Channels
	hw := s.Width * s.Height
	// Element e of output channel k at pixel i sits at index
	// i*pixStride + k*chStride.
	pixStride, chStride := ch, 1
	if s.Layout == NCHW {
		pixStride, chStride = 1, hw
	}
	for k := range ch {
		src := p.lut.src[k]
		switch p.elem {
		case 1:
			t := &p.lut.b[k]
			for i := range hw {
				dst[i*pixStride+k*chStride] = t[pix[i*ch+src]]
			}
		case 4:
			t := &p.lut.f[k]
			for i := range hw {
				o := 4 * (i*pixStride + k*chStride)
				binary.LittleEndian.PutUint32(dst[o:o+4], t[pix[i*ch+src]])
			}
		}
	}
}
