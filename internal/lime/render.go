package lime

import (
	"fmt"
	"image"
	"image/color"

	"github.com/fruitcam/fruitcam/infer/preprocess"
)

// Sign selects the superpixels a mask shows, as get_image_and_mask's
// positive_only and negative_only do.
type Sign int

const (
	Positive Sign = iota // only weights > 0 (lime's default, positive_only=True)
	Negative             // only weights < 0 (negative_only=True)
	Both                 // the largest |weight|, either sign
)

// MaskOptions are get_image_and_mask's num_features, min_weight and sign.
type MaskOptions struct {
	// Features is the number of superpixels shown. 0: 5.
	Features int
	// MinWeight: only weights above it (in absolute value) are shown.
	MinWeight float64
	Sign      Sign
}

// Mask returns, per superpixel, 1 for a shown superpixel of positive
// weight, -1 for one of negative weight, 0 for the rest; class is the
// position in e.Classes.
func (e *Explanation) Mask(class int, o MaskOptions) ([]int8, error) {
	if class < 0 || class >= len(e.Classes) {
		return nil, fmt.Errorf("lime: explanation %d does not exist; there are %d", class, len(e.Classes))
	}
	if o.Features <= 0 {
		o.Features = 5
	}
	mask := make([]int8, e.NumSegments)
	shown := 0
	for _, w := range e.Classes[class].Weights {
		if shown == o.Features {
			break
		}
		switch o.Sign {
		case Positive:
			if w.Weight > 0 && w.Weight > o.MinWeight {
				mask[w.Segment] = 1
				shown++
			}
		case Negative:
			if w.Weight < 0 && -w.Weight > o.MinWeight {
				mask[w.Segment] = -1
				shown++
			}
		default:
			shown++ // lime counts the features under min_weight too
			if max(w.Weight, -w.Weight) < o.MinWeight {
				continue
			}
			mask[w.Segment] = 1
			if w.Weight < 0 {
				mask[w.Segment] = -1
			}
		}
	}
	return mask, nil
}

// RenderOptions configures Overlay.
type RenderOptions struct {
	MaskOptions
	// HideRest dims everything but the shown superpixels (lime's
	// hide_rest blacks it out; dimming keeps the context readable).
	HideRest bool
	// Line is the outline width in overlay pixels. 0: one per 160 pixels
	// of the shorter side, at least 1.
	Line int
	// MaxSide bounds the overlay's longer side: a larger source is
	// scaled down (nearest pixel). MinSide scales a smaller one up (a
	// 100×100 Fruits-360 photo). 0: the source's size.
	MaxSide, MinSide int
}

// Overlay colours.
var (
	outlinePositive = color.RGBA{255, 255, 0, 255} // mark_boundaries' yellow
	outlineNegative = color.RGBA{255, 0, 0, 255}
	tintPositive    = [3]int{0, 255, 0}
	tintNegative    = [3]int{255, 0, 0}
)

// Overlay draws the explanation of e.Classes[class] on src, the image
// that was explained, at its own resolution: the shown superpixels
// (mapped back from the model's input) are outlined, with Both tinted
// green (positive) or red (negative); with HideRest the rest is dimmed to
// a quarter. What the model does not see (outside a centre crop) is
// dimmed to a half, or a quarter with HideRest.
func (e *Explanation) Overlay(src image.Image, class int, o RenderOptions) (*image.RGBA, error) {
	if src.Bounds() != e.Source {
		return nil, fmt.Errorf("lime: overlay: the image is %v, the explanation is of an image %v", src.Bounds(), e.Source)
	}
	mask, err := e.Mask(class, o.MaskOptions)
	if err != nil {
		return nil, err
	}
	b := e.Source
	// Overlay pixel (x, y) shows source pixel (b.Min.X+sx[x], b.Min.Y+sy[y]).
	sw, sh := b.Dx(), b.Dy()
	long := max(sw, sh)
	switch {
	case o.MaxSide > 0 && long > o.MaxSide:
		sw, sh = max(1, sw*o.MaxSide/long), max(1, sh*o.MaxSide/long)
	case o.MinSide > 0 && long < o.MinSide:
		sw, sh = max(1, sw*o.MinSide/long), max(1, sh*o.MinSide/long)
	}
	sx, sy := scaleMap(b.Dx(), sw), scaleMap(b.Dy(), sh)
	line := o.Line
	if line <= 0 {
		line = max(1, min(sw, sh)/160)
	}
	// v holds each source pixel's mask value, -2 outside the box.
	mx := axisMap(b.Min.X, sx, e.Box.Min.X, e.Box.Max.X, e.Width)
	my := axisMap(b.Min.Y, sy, e.Box.Min.Y, e.Box.Max.Y, e.Height)
	v := make([]int8, sw*sh)
	for y := range sh {
		for x := range sw {
			if mx[x] < 0 || my[y] < 0 {
				v[y*sw+x] = -2
				continue
			}
			v[y*sw+x] = mask[e.Segments[my[y]*e.Width+mx[x]]]
		}
	}
	out := image.NewRGBA(image.Rect(0, 0, sw, sh))
	row := make([]uint8, 3*b.Dx())
	for y := range sh {
		readRow(src, b.Min.Y+sy[y], row)
		for x := range sw {
			val := v[y*sw+x]
			i := 3 * sx[x]
			r, g, bl := int(row[i]), int(row[i+1]), int(row[i+2])
			switch {
			case val == -2 && o.HideRest, val == 0 && o.HideRest:
				r, g, bl = r/4, g/4, bl/4
			case val == -2:
				r, g, bl = r/2, g/2, bl/2
			case val != 0 && o.Sign == Both:
				t := tintPositive
				if val < 0 {
					t = tintNegative
				}
				r, g, bl = (r*13+t[0]*7)/20, (g*13+t[1]*7)/20, (bl*13+t[2]*7)/20
			}
			c := color.RGBA{uint8(r), uint8(g), uint8(bl), 255}
			if val == 1 || val == -1 {
				if edge(v, sw, sh, x, y, line) {
					c = outlinePositive
					if val < 0 {
						c = outlineNegative
					}
				}
			}
			out.SetRGBA(x, y, c)
		}
	}
	return out, nil
}

// edge reports whether a pixel of a shown superpixel lies within line
// pixels of a pixel with another mask value (the image border is not an
// edge).
func edge(v []int8, w, h, x, y, line int) bool {
	c := v[y*w+x]
	for d := 1; d <= line; d++ {
		if (x-d >= 0 && v[y*w+x-d] != c) || (x+d < w && v[y*w+x+d] != c) ||
			(y-d >= 0 && v[(y-d)*w+x] != c) || (y+d < h && v[(y+d)*w+x] != c) {
			return true
		}
	}
	return false
}

// scaleMap maps n overlay pixels onto a source side of src pixels
// (relative coordinates, by pixel centres).
func scaleMap(src, n int) []int {
	m := make([]int, n)
	for i := range m {
		m[i] = min((2*i+1)*src/(2*n), src-1)
	}
	return m
}

// axisMap maps the source coordinates lo+rel[i] to model input
// coordinates, by the centre of each source pixel in the box b0..b1
// stretched over size model pixels; -1 outside the box.
func axisMap(lo int, rel []int, b0, b1, size int) []int {
	m := make([]int, len(rel))
	bw := b1 - b0
	for i := range m {
		s := lo + rel[i]
		if s < b0 || s >= b1 || bw <= 0 {
			m[i] = -1
			continue
		}
		m[i] = min((2*(s-b0)+1)*size/(2*bw), size-1)
	}
	return m
}

// readRow fills dst with row y of img as packed RGB.
func readRow(img image.Image, y int, dst []uint8) {
	b := img.Bounds()
	if ri, ok := img.(preprocess.RowImage); ok {
		ri.RGBRow(y, dst)
		return
	}
	switch m := img.(type) {
	case *image.RGBA:
		p := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := range b.Dx() {
			dst[3*x], dst[3*x+1], dst[3*x+2] = p[4*x], p[4*x+1], p[4*x+2]
		}
		return
	case *image.Gray:
		p := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := range b.Dx() {
			dst[3*x], dst[3*x+1], dst[3*x+2] = p[x], p[x], p[x]
		}
		return
	}
	for x := range b.Dx() {
		c := color.NRGBAModel.Convert(img.At(b.Min.X+x, y)).(color.NRGBA)
		dst[3*x], dst[3*x+1], dst[3*x+2] = c.R, c.G, c.B
	}
}
