package capture

import (
	"fmt"
	"math"
	"strings"
)

// ColorEncoding says how a camera's Y'CbCr values map to R'G'B': the
// matrix (ITU-R BT.601 or BT.709) and the quantisation range.
//
// Limited range puts black at Y' = 16 and white at 235, chroma in 16..240
// (ITU-R BT.601-7 §2.5.3); full range uses all of 0..255, as JPEG (JFIF
// 1.02) does. V4L2's default for YUV formats is limited range with the
// BT.601 matrix for SD sizes (the V4L2_MAP_*_DEFAULT rules of the V4L2
// colourspace chapter), and that is the zero value.
type ColorEncoding int

const (
	// BT601Limited is ITU-R BT.601, limited range: V4L2's default for
	// YUYV and NV12 and what webcams and vivid deliver at SD sizes.
	BT601Limited ColorEncoding = iota
	// BT601Full is BT.601, full range: JPEG's (and MJPEG's) encoding,
	// bit-identical to image/color.YCbCrToRGB.
	BT601Full
	// BT709Limited is ITU-R BT.709, limited range: HD sources.
	BT709Limited
	// BT709Full is BT.709, full range.
	BT709Full
	numEncodings
)

var encodingNames = [numEncodings]string{"bt601", "bt601-full", "bt709", "bt709-full"}

func (e ColorEncoding) String() string {
	if e >= 0 && e < numEncodings {
		return encodingNames[e]
	}
	return fmt.Sprintf("ColorEncoding(%d)", int(e))
}

// ParseEncoding reads a ColorEncoding by its String name.
func ParseEncoding(s string) (ColorEncoding, error) {
	for i, n := range encodingNames {
		if strings.EqualFold(s, n) {
			return ColorEncoding(i), nil
		}
	}
	return 0, fmt.Errorf("capture: unknown colour encoding %q: use one of %s", s, strings.Join(encodingNames[:], ", "))
}

// yuvTable holds the conversion of one encoding in 16.16 fixed point,
// one entry per 8-bit input, so a pixel costs five loads and three
// clamps:
//
//	R = clamp((y[Y] + rv[V]) >> 16)
//	G = clamp((y[Y] - gu[U] - gv[V]) >> 16)
//	B = clamp((y[Y] + bu[U]) >> 16)
//
// y[] carries the rounding term.
type yuvTable struct {
	y, rv, gu, gv, bu [256]int32
}

var yuvTables = func() (t [numEncodings]yuvTable) {
	// Kr, Kb of each matrix (BT.601-7 table 3, BT.709-6 item 3.2).
	const kr601, kb601, kr709, kb709 = 0.299, 0.114, 0.2126, 0.0722
	fill(&t[BT601Limited], kr601, kb601, false)
	fill(&t[BT601Full], kr601, kb601, true)
	fill(&t[BT709Limited], kr709, kb709, false)
	fill(&t[BT709Full], kr709, kb709, true)
	// JPEG: image/color.YCbCrToRGB's own constants and its Y term
	// (Y * 0x10101, which rounds as it scales), so full-range BT.601 is
	// bit-identical to the standard library's decoder output.
	j := &t[BT601Full]
	for i := range 256 {
		c := int32(i) - 128
		j.y[i] = int32(i) * 0x10101
		j.rv[i], j.gu[i], j.gv[i], j.bu[i] = 91881*c, 22554*c, 46802*c, 116130*c
	}
	return t
}()

// fill computes the table of the matrix (kr, kb) from its definition:
// R = Y + 2(1-Kr) Cr, B = Y + 2(1-Kb) Cb, G = (Y - Kr R - Kb B) / Kg, with
// Y, Cb, Cr first expanded from limited range when full is false.
func fill(t *yuvTable, kr, kb float64, full bool) {
	kg := 1 - kr - kb
	ys, cs, y0 := 1.0, 1.0, 0
	if !full {
		ys, cs, y0 = 255.0/219, 255.0/224, 16
	}
	fix := func(v float64) int32 { return int32(math.Round(v * 65536)) }
	cy := fix(ys)
	crv := 2 * (1 - kr) * cs
	cbu := 2 * (1 - kb) * cs
	cgu := 2 * (1 - kb) * kb / kg * cs
	cgv := 2 * (1 - kr) * kr / kg * cs
	for i := range 256 {
		c := float64(i - 128)
		t.y[i] = cy*int32(i-y0) + 1<<15
		t.rv[i], t.gu[i], t.gv[i], t.bu[i] = fix(crv*c), fix(cgu*c), fix(cgv*c), fix(cbu*c)
	}
}

// clamp8 takes a 16.16 value to 0..255. It equals image/color's
// "if uint32(v)&0xff000000 == 0 { v >> 16 } else { ^(v >> 31) }" and
// compiles to conditional moves, not branches that camera noise would
// mispredict.
func clamp8(v int32) uint8 {
	return uint8(min(max(v>>16, 0), 255))
}

// rgb converts one pixel; d must have length 3.
func (t *yuvTable) rgb(d []uint8, y, u, v uint8) {
	yy := t.y[y]
	d[0] = clamp8(yy + t.rv[v])
	d[1] = clamp8(yy - t.gu[u] - t.gv[v])
	d[2] = clamp8(yy + t.bu[u])
}

// pair converts two horizontally adjacent pixels that share chroma; d
// must have length 6. The chroma terms are looked up once.
func (t *yuvTable) pair(d []uint8, y0, y1, u, v uint8) {
	rv, guv, bu := t.rv[v], t.gu[u]+t.gv[v], t.bu[u]
	a, b := t.y[y0], t.y[y1]
	d = d[:6:6]
	d[0], d[1], d[2] = clamp8(a+rv), clamp8(a-guv), clamp8(a+bu)
	d[3], d[4], d[5] = clamp8(b+rv), clamp8(b-guv), clamp8(b+bu)
}

// YCbCrToRGB converts one Y'CbCr triple to R'G'B' with encoding e, as
// every image type of this package does.
func YCbCrToRGB(e ColorEncoding, y, cb, cr uint8) (r, g, b uint8) {
	var d [3]uint8
	e.table().rgb(d[:], y, cb, cr)
	return d[0], d[1], d[2]
}

func (e ColorEncoding) table() *yuvTable {
	if e < 0 || e >= numEncodings {
		e = BT601Limited
	}
	return &yuvTables[e]
}
