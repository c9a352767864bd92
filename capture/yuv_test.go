package capture

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/infer/tfl"
)

var (
	_ preprocess.RowImage = (*YUYV)(nil)
	_ preprocess.RowImage = (*NV12)(nil)
)

// TestFullRangeIsImageColor: BT601Full is image/color's JPEG conversion,
// bit for bit, on all 2^24 inputs.
func TestFullRangeIsImageColor(t *testing.T) {
	tab := BT601Full.table()
	var d [3]uint8
	for y := range 256 {
		for cb := range 256 {
			for cr := range 256 {
				tab.rgb(d[:], uint8(y), uint8(cb), uint8(cr))
				r, g, b := color.YCbCrToRGB(uint8(y), uint8(cb), uint8(cr))
				if d != [3]uint8{r, g, b} {
					t.Fatalf("YCbCr(%d,%d,%d): got %v, want %v (image/color)", y, cb, cr, d, [3]uint8{r, g, b})
				}
			}
		}
	}
}

// reference is the float definition of each encoding (BT.601-7 §2.5,
// BT.709-6 §3): expand limited range, invert the matrix, round, clamp.
func reference(e ColorEncoding, y, cb, cr uint8) [3]uint8 {
	kr, kb := 0.299, 0.114
	if e == BT709Limited || e == BT709Full {
		kr, kb = 0.2126, 0.0722
	}
	Y, Cb, Cr := float64(y), float64(cb)-128, float64(cr)-128
	if e == BT601Limited || e == BT709Limited {
		Y, Cb, Cr = (Y-16)*255/219, Cb*255/224, Cr*255/224
	}
	r := Y + 2*(1-kr)*Cr
	b := Y + 2*(1-kb)*Cb
	g := (Y - kr*r - kb*b) / (1 - kr - kb)
	q := func(v float64) uint8 { return uint8(math.Round(min(max(v, 0), 255))) }
	return [3]uint8{q(r), q(g), q(b)}
}

// TestEncodingsAgainstReference: the fixed-point tables are within one
// level of the float equations on all 2^24 inputs (16.16 fixed point
// rounds each term separately), and exact for most.
func TestEncodingsAgainstReference(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive")
	}
	for e := range numEncodings {
		tab := e.table()
		var d [3]uint8
		off := 0
		for y := range 256 {
			for cb := range 256 {
				for cr := range 256 {
					tab.rgb(d[:], uint8(y), uint8(cb), uint8(cr))
					want := reference(e, uint8(y), uint8(cb), uint8(cr))
					for c := range 3 {
						diff := int(d[c]) - int(want[c])
						if diff < -1 || diff > 1 {
							t.Fatalf("%v YCbCr(%d,%d,%d): got %v, want %v", e, y, cb, cr, d, want)
						}
						if diff != 0 {
							off++
						}
					}
				}
			}
		}
		frac := float64(off) / (3 << 24)
		t.Logf("%v: %.3f%% of channel values one level off the float reference", e, 100*frac)
		// image/color (BT601Full) rounds its Y term up (Y*0x10101), so it
		// is one level off the float equation for ~16% of values; ours
		// round to nearest.
		if e != BT601Full && frac > 0.01 {
			t.Errorf("%v: %.3f%% of values off by one; want under 1%%", e, 100*frac)
		}
	}
}

func TestLimitedRangeLevels(t *testing.T) {
	for _, c := range []struct {
		y, cb, cr uint8
		want      [3]uint8
	}{
		{16, 128, 128, [3]uint8{0, 0, 0}},
		{235, 128, 128, [3]uint8{255, 255, 255}},
		{126, 128, 128, [3]uint8{128, 128, 128}},
		{0, 128, 128, [3]uint8{0, 0, 0}},
		{255, 128, 128, [3]uint8{255, 255, 255}},
	} {
		r, g, b := YCbCrToRGB(BT601Limited, c.y, c.cb, c.cr)
		if got := [3]uint8{r, g, b}; got != c.want {
			t.Errorf("BT601Limited(%d,%d,%d): got %v, want %v", c.y, c.cb, c.cr, got, c.want)
		}
	}
}

func TestParseEncoding(t *testing.T) {
	for e := range numEncodings {
		got, err := ParseEncoding(e.String())
		if err != nil || got != e {
			t.Errorf("ParseEncoding(%q): got %v, %v; want %v", e.String(), got, err, e)
		}
	}
	if _, err := ParseEncoding("srgb"); err == nil {
		t.Error("ParseEncoding(srgb): no error")
	}
}

// randomYUYV and randomNV12 fill images of r with random samples.
func randomYUYV(rng *rand.Rand, r image.Rectangle, pad int, e ColorEncoding) *YUYV {
	m := NewYUYV(r)
	m.Stride += pad
	m.Pix = make([]uint8, m.Stride*r.Dy())
	for i := range m.Pix {
		m.Pix[i] = uint8(rng.IntN(256))
	}
	m.Encoding = e
	return m
}

func randomNV12(rng *rand.Rand, r image.Rectangle, pad int, e ColorEncoding) *NV12 {
	m := NewNV12(r)
	m.YStride += pad
	m.UVStride += pad
	m.Y = make([]uint8, m.YStride*r.Dy())
	m.UV = make([]uint8, m.UVStride*((r.Max.Y+1)>>1-r.Min.Y>>1))
	for i := range m.Y {
		m.Y[i] = uint8(rng.IntN(256))
	}
	for i := range m.UV {
		m.UV[i] = uint8(rng.IntN(256))
	}
	m.Encoding = e
	return m
}

// yuyvSample and nv12Sample read the samples of (x, y) straight from the
// layout's definition, independently of PixOffset/UVOffset: the oracle.
func yuyvSample(m *YUYV, x, y int) (uint8, uint8, uint8) {
	row := m.Pix[(y-m.Rect.Min.Y)*m.Stride:]
	pair := 4 * (x/2 - m.Rect.Min.X/2) // coordinates are non-negative here
	return row[pair+2*(x%2)], row[pair+1], row[pair+3]
}

func nv12Sample(m *NV12, x, y int) (uint8, uint8, uint8) {
	Y := m.Y[(y-m.Rect.Min.Y)*m.YStride+x-m.Rect.Min.X]
	uv := m.UV[(y/2-m.Rect.Min.Y/2)*m.UVStride+2*(x/2-m.Rect.Min.X/2):]
	return Y, uv[0], uv[1]
}

type rowImage interface {
	image.Image
	RGBRow(y int, dst []uint8)
	SubImage(image.Rectangle) image.Image
}

// checkRows compares RGBRow and At of img with the oracle on every pixel,
// with guard bytes after dst to catch stray writes.
func checkRows(t *testing.T, name string, img rowImage, e ColorEncoding, sample func(x, y int) (uint8, uint8, uint8)) {
	t.Helper()
	b := img.Bounds()
	dst := make([]uint8, 3*b.Dx()+8)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for i := range dst {
			dst[i] = 0xa5
		}
		img.RGBRow(y, dst[:3*b.Dx()])
		for i := 3 * b.Dx(); i < len(dst); i++ {
			if dst[i] != 0xa5 {
				t.Fatalf("%s: RGBRow(%d) wrote past its %d bytes", name, y, 3*b.Dx())
			}
		}
		for x := b.Min.X; x < b.Max.X; x++ {
			Y, u, v := sample(x, y)
			r, g, bl := YCbCrToRGB(e, Y, u, v)
			want := [3]uint8{r, g, bl}
			i := 3 * (x - b.Min.X)
			if got := [3]uint8{dst[i], dst[i+1], dst[i+2]}; got != want {
				t.Fatalf("%s: RGBRow(%d) pixel x=%d: got %v, want %v", name, y, x, got, want)
			}
			if got := img.At(x, y).(color.RGBA); got != (color.RGBA{r, g, bl, 255}) {
				t.Fatalf("%s: At(%d,%d): got %v, want %v", name, x, y, got, want)
			}
		}
	}
	if got := img.At(b.Max.X, b.Min.Y); got != (color.RGBA{}) {
		t.Errorf("%s: At outside the bounds: got %v, want transparent black", name, got)
	}
}

// TestRowsAndROI converts random YUYV and NV12 images, padded strides and
// sub-images at every parity of origin and size, against the layout
// definition.
func TestRowsAndROI(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	full := image.Rect(0, 0, 37, 23)
	rois := []image.Rectangle{
		full, image.Rect(1, 1, 36, 22), image.Rect(2, 3, 9, 8), image.Rect(3, 2, 4, 3),
		image.Rect(5, 7, 6, 20), image.Rect(0, 21, 37, 23), image.Rect(36, 0, 37, 23),
	}
	for _, e := range []ColorEncoding{BT601Limited, BT601Full, BT709Limited, BT709Full} {
		for _, pad := range []int{0, 12} {
			y := randomYUYV(rng, full, pad, e)
			n := randomNV12(rng, full, pad, e)
			for _, r := range rois {
				sy := y.SubImage(r).(*YUYV)
				if sy.Bounds() != r {
					t.Fatalf("YUYV SubImage(%v).Bounds() = %v", r, sy.Bounds())
				}
				checkRows(t, "YUYV"+r.String(), sy, e, func(px, py int) (uint8, uint8, uint8) { return yuyvSample(y, px, py) })
				sn := n.SubImage(r).(*NV12)
				checkRows(t, "NV12"+r.String(), sn, e, func(px, py int) (uint8, uint8, uint8) { return nv12Sample(n, px, py) })
				// A sub-image of a sub-image is the sub-image.
				inner := image.Rect(r.Min.X+r.Dx()/3, r.Min.Y+r.Dy()/3, r.Max.X, r.Max.Y)
				checkRows(t, "YUYV2"+inner.String(), sy.SubImage(inner).(*YUYV), e, func(px, py int) (uint8, uint8, uint8) { return yuyvSample(y, px, py) })
				checkRows(t, "NV122"+inner.String(), sn.SubImage(inner).(*NV12), e, func(px, py int) (uint8, uint8, uint8) { return nv12Sample(n, px, py) })
			}
			if !y.SubImage(image.Rect(50, 50, 60, 60)).Bounds().Empty() || !n.SubImage(image.Rect(-9, -9, -1, -1)).Bounds().Empty() {
				t.Error("SubImage outside the bounds is not empty")
			}
		}
	}
}

// TestRowImageThroughPreprocess: a classifier-side resize of a YUYV frame
// equals the resize of the same frame converted to RGBA first, for every
// resize method (RGBRow feeds the same pixels as the generic path).
func TestRowImageThroughPreprocess(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	src := randomYUYV(rng, image.Rect(0, 0, 64, 48), 8, BT601Limited)
	roi := src.SubImage(image.Rect(5, 3, 61, 45)).(*YUYV)
	rgba := image.NewRGBA(roi.Bounds())
	for y := roi.Rect.Min.Y; y < roi.Rect.Max.Y; y++ {
		for x := roi.Rect.Min.X; x < roi.Rect.Max.X; x++ {
			rgba.Set(x, y, roi.At(x, y))
		}
	}
	for _, method := range []preprocess.Resize{preprocess.Nearest, preprocess.Bilinear, preprocess.Area} {
		spec := preprocess.Spec{Width: 20, Height: 16, Channels: 3, Resize: method, Fit: preprocess.Crop}
		a, err := preprocess.New(spec, preprocess.Tensor{Type: tfl.Float32})
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.Resize(roi)
		if err != nil {
			t.Fatal(err)
		}
		got = append([]uint8(nil), got...)
		want, err := a.Resize(rgba)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s: resize of the YUYV ROI differs from the resize of its RGBA copy", method)
		}
	}
}
