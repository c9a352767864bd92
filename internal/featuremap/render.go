package featuremap

import (
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Style says how Render draws. The zero value is a gray picture about as
// wide as it is tall, with small tiles enlarged towards 40 pixels.
type Style struct {
	// ColorMap colours the display values; the zero value is gray.
	ColorMap ColorMap
	// Width of the picture in pixels; 0 picks one that makes the whole
	// picture roughly square. It grows to fit the widest tile.
	Width int
	// MinTile enlarges tiles whose longer side is below it by an integer
	// factor (nearest neighbour), so that a 7×7 map is not a dot; 0
	// means 40 (a 20×20 map doubles, 7×7 grows to 35×35), 1 keeps every
	// tile at its size.
	MinTile int
}

const (
	margin     = 6  // pixels around the picture
	gap        = 2  // pixels between tiles
	captionH   = 13 // basicfont.Face7x13's line height
	captionGap = 3  // pixels between a caption and its tiles
	maxPixels  = 1 << 28
)

// Section is where one Map is drawn: its caption's top-left corner and
// one rectangle per channel, in channel order.
type Section struct {
	Caption   string
	CaptionAt image.Point
	Tiles     []image.Rectangle
	// Cols is the number of tiles per row; Scale the enlargement.
	Cols, Scale int
	// fold, when above 0, is the width a vector is wrapped at.
	fold int
}

// tileSize is the size one channel of m takes before enlargement: a
// single long row (a vector, e.g. a dense layer's output) is wrapped
// into a near-square block, fold values wide.
func tileSize(m *Map) (w, h, fold int) {
	if m.Height == 1 && m.Channels == 1 && m.Width > 1 {
		fold = int(math.Ceil(math.Sqrt(float64(m.Width))))
		return fold, (m.Width + fold - 1) / fold, fold
	}
	return m.Width, m.Height, 0
}

// Caption is the line drawn above a map: index, name, type and shape.
// Of a name the TFLite converter fused from several ("a;b;c") only the
// first part is shown, which names the layer's result.
func Caption(m *Map) string {
	name := m.Name
	if i := strings.IndexByte(name, ';'); i >= 0 {
		name = name[:i] + ";..."
	}
	return fmt.Sprintf("#%d %s %s %v", m.Tensor, name, m.Type, m.Shape)
}

// Plan lays the maps out, one section per map from top to bottom, and
// returns the sections and the picture's size.
func Plan(maps []Map, s Style) ([]Section, image.Point, error) {
	minTile := s.MinTile
	if minTile <= 0 {
		minTile = 40
	}
	tiles := make([]tile, len(maps))
	widest, area := 0, 0.0
	for i := range maps {
		w, h, fold := tileSize(&maps[i])
		scale := max(1, minTile/max(w, h))
		t := tile{w * scale, h * scale, scale, fold}
		tiles[i] = t
		widest = max(widest, t.w)
		area += float64((t.w+gap)*(t.h+gap)) * float64(maps[i].Channels)
		area += float64(captionH+captionGap+gap) * float64(t.w)
	}
	width := s.Width
	auto := width <= 0
	if auto {
		width = max(int(math.Sqrt(area)), 320) + 2*margin
	}
	width = max(width, widest+2*margin)
	secs, height, err := place(maps, tiles, width)
	// The estimate ignores the ends of rows left empty; a few rounds of
	// w ← √(w·h) bring an automatic width to a roughly square picture.
	for round := 0; auto && err == nil && round < 4 && (height > width*5/4 || width > height*5/4); round++ {
		w := max(int(math.Sqrt(float64(width)*float64(height))), widest+2*margin)
		if w == width {
			break
		}
		width = w
		secs, height, err = place(maps, tiles, width)
	}
	if err != nil {
		return nil, image.Point{}, err
	}
	return secs, image.Pt(width, height), nil
}

// tile is the drawn size of one channel of a map and how it is made.
type tile struct{ w, h, scale, fold int }

// place stacks the sections at the given width and returns the height.
func place(maps []Map, tiles []tile, width int) ([]Section, int, error) {
	var secs []Section
	y := margin
	for i := range maps {
		t := tiles[i]
		cols := max(1, (width-2*margin+gap)/(t.w+gap))
		cols = min(cols, maps[i].Channels)
		sec := Section{Caption: Caption(&maps[i]), CaptionAt: image.Pt(margin, y), Cols: cols, Scale: t.scale, fold: t.fold}
		y += captionH + captionGap
		rows := (maps[i].Channels + cols - 1) / cols
		if float64(y+rows*(t.h+gap))*float64(width) > maxPixels {
			return nil, 0, fmt.Errorf("featuremap: the picture would exceed %d Mpixels at tensor %d (%q): choose fewer layers or a smaller minimum tile",
				maxPixels>>20, maps[i].Tensor, maps[i].Name)
		}
		sec.Tiles = make([]image.Rectangle, 0, maps[i].Channels)
		for c := range maps[i].Channels {
			x0 := margin + (c%cols)*(t.w+gap)
			y0 := y + (c/cols)*(t.h+gap)
			sec.Tiles = append(sec.Tiles, image.Rect(x0, y0, x0+t.w, y0+t.h))
		}
		y += rows*(t.h+gap) + 2*gap
		secs = append(secs, sec)
	}
	return secs, y + margin - 2*gap, nil
}

// Renderer draws maps; it keeps its scratch buffers between calls.
type Renderer struct {
	norm []uint8
	sums []float64
	mask *image.Alpha
}

// Render draws every channel of every map as a tile, each map's grid
// under its caption, on a background of colour 0 with captions in
// colour 255 of the style's colour map.
func (r *Renderer) Render(maps []Map, s Style) (*image.Paletted, error) {
	secs, size, err := Plan(maps, s)
	if err != nil {
		return nil, err
	}
	cm := s.ColorMap
	if len(cm.Palette) != 256 {
		if cm, err = ParseColorMap("gray"); err != nil {
			return nil, err
		}
	}
	img := image.NewPaletted(image.Rectangle{Max: size}, cm.Palette)
	for i := range maps {
		m := &maps[i]
		sec := &secs[i]
		n := m.Height * m.Width
		if cap(r.norm) < n*m.Channels {
			r.norm = make([]uint8, n*m.Channels)
		}
		norm := r.norm[:n*m.Channels]
		r.sums = m.Normalize(norm, r.sums)
		for c, rect := range sec.Tiles {
			drawTile(img, rect, norm[c*n:(c+1)*n], m.Width, sec.Scale, sec.fold)
		}
		r.caption(img, sec.Caption, sec.CaptionAt)
	}
	return img, nil
}

// drawTile writes one channel's display values (w values per source
// row) into rect, enlarged scale times; with fold > 0 the single row is
// wrapped every fold values and the tail of the last row stays
// background.
func drawTile(img *image.Paletted, rect image.Rectangle, plane []uint8, w, scale, fold int) {
	if fold > 0 {
		w = fold
	}
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		row := img.Pix[img.PixOffset(rect.Min.X, y):img.PixOffset(rect.Max.X, y)]
		sy := (y - rect.Min.Y) / scale
		src := plane[min(sy*w, len(plane)):min((sy+1)*w, len(plane))]
		if scale == 1 {
			copy(row, src)
			continue
		}
		for x := range row {
			if sx := x / scale; sx < len(src) {
				row[x] = src[sx]
			}
		}
	}
}

// caption draws text in palette entry 255. The glyphs are rendered into
// an alpha mask and thresholded: drawing a colour onto a paletted
// picture through image/draw would search the palette for every pixel.
func (r *Renderer) caption(img *image.Paletted, text string, at image.Point) {
	face := basicfont.Face7x13
	w := min(font.MeasureString(face, text).Ceil(), img.Rect.Dx()-at.X)
	if w <= 0 {
		return
	}
	if r.mask == nil || r.mask.Rect.Dx() < w {
		r.mask = image.NewAlpha(image.Rect(0, 0, max(w, 512), captionH))
	}
	clear(r.mask.Pix)
	d := font.Drawer{Dst: r.mask, Src: image.Opaque, Face: face, Dot: fixed.P(0, face.Ascent)}
	d.DrawString(text)
	for y := range captionH {
		if at.Y+y >= img.Rect.Max.Y {
			break
		}
		row := img.Pix[img.PixOffset(at.X, at.Y+y):][:w]
		for x := range row {
			if r.mask.AlphaAt(x, y).A >= 128 {
				row[x] = 255
			}
		}
	}
}

// EncodePNG writes pic as a PNG, favouring speed over size: an
// all-layers picture of a MobileNet has millions of pixels, which the
// default compression takes seconds over.
func EncodePNG(w io.Writer, pic *image.Paletted) error {
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(w, pic); err != nil {
		return fmt.Errorf("featuremap: encode png: %w", err)
	}
	return nil
}
