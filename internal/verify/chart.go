package verify

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"path/filepath"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Chart layout, in pixels. The font is basicfont.Face7x13: 7 pixels a
// character, 13 a line (ascent 11).
const (
	chartPad      = 16  // outer margin, and the gap between panels
	chartCell     = 34  // side of a matrix cell: room for a 4-digit count
	chartLine     = 16  // text line height
	chartChar     = 7   // character width
	chartName     = 18  // row label characters kept ("12 " + name)
	chartMinWidth = 640 // room for the title lines
	chartPanelMin = 252 // room for a panel's title: 36 characters
	chartAscent   = 11
)

var (
	chartBlue  = color.RGBA{33, 102, 172, 255} // diagonal: right, or the models agree
	chartRed   = color.RGBA{202, 0, 32, 255}   // off the diagonal
	chartEmpty = color.RGBA{246, 246, 246, 255}
	chartGrid  = color.RGBA{220, 220, 220, 255}
)

// panel is one heat map with its two header lines.
type panel struct {
	title, axes string
	m           *Matrix
}

func (r *Report) panels() []panel {
	if a := r.Accuracy; a != nil {
		ps := make([]panel, 2)
		for i, cm := range a.Confusion {
			ps[i] = panel{
				title: fmt.Sprintf("%s: top-1 %s (%d of %d)", r.Models[i].Name, pct(a.Top1[i]), a.Correct[i], a.Scored),
				axes:  "rows: true class, columns: predicted",
				m:     cm,
			}
		}
		return ps
	}
	return []panel{{
		title: fmt.Sprintf("agreement %s (%d of %d)", pct(r.Agreement), r.Agree, r.Classified),
		axes:  fmt.Sprintf("rows: %s, columns: %s", r.Models[0].Name, r.Models[1].Name),
		m:     r.AgreementMatrix,
	}}
}

// labelWidth is the row label column: "NN " and chartName characters.
const labelWidth = chartChar * (chartName + 1)

func (p panel) size() image.Point {
	return image.Pt(max(labelWidth+len(p.m.Cols)*chartCell, chartPanelMin), 3*chartLine+len(p.m.Rows)*chartCell)
}

// ChartSize is the size of the chart Chart draws for r: the panels side
// by side within chartPad margins, under two title lines, and at least
// chartMinWidth wide.
func ChartSize(r *Report) image.Point {
	w, h := chartPad, 0
	for _, p := range r.panels() {
		s := p.size()
		w += s.X + chartPad
		h = max(h, s.Y)
	}
	return image.Pt(max(w, chartMinWidth), chartPad+2*chartLine+chartPad+h+chartPad)
}

// Chart draws r's matrices as heat maps: both confusion matrices when
// the images could be scored, else the agreement matrix. A cell's colour
// is its share of its row, blue on the diagonal and red off it, with the
// count written in it; the title gives the accuracy figures.
func Chart(r *Report) *image.RGBA {
	size := ChartSize(r)
	img := image.NewRGBA(image.Rect(0, 0, size.X, size.Y))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	maxChars := (size.X - 2*chartPad) / chartChar

	title := fmt.Sprintf("%s vs %s: %d images", filepath.Base(r.Models[0].Path), filepath.Base(r.Models[1].Path), r.Classified)
	figures := fmt.Sprintf("top-1 agreement %s", pct(r.Agreement))
	if a := r.Accuracy; a != nil {
		figures = fmt.Sprintf("top-1 accuracy: %s %s, %s %s; agreement %s",
			r.Models[0].Name, pct(a.Top1[0]), r.Models[1].Name, pct(a.Top1[1]), pct(r.Agreement))
	}
	text(img, chartPad, chartPad, clip(title, maxChars), color.Black)
	text(img, chartPad, chartPad+chartLine, clip(figures, maxChars), color.Black)

	x := chartPad
	for _, p := range r.panels() {
		drawPanel(img, image.Pt(x, chartPad+2*chartLine+chartPad), p)
		x += p.size().X + chartPad
	}
	return img
}

// WriteChart encodes Chart(r) as PNG.
func WriteChart(w io.Writer, r *Report) error {
	if err := png.Encode(w, Chart(r)); err != nil {
		return fmt.Errorf("verify: chart: %w", err)
	}
	return nil
}

func drawPanel(img *image.RGBA, at image.Point, p panel) {
	width := p.size().X
	text(img, at.X, at.Y, clip(p.title, width/chartChar), color.Black)
	text(img, at.X, at.Y+chartLine, clip(p.axes, width/chartChar), color.Gray{96})
	gx, gy := at.X+labelWidth, at.Y+3*chartLine
	for j, c := range p.m.Cols {
		h := colHead(j, c)
		text(img, gx+j*chartCell+(chartCell-chartChar*len(h))/2, at.Y+2*chartLine, h, color.Gray{96})
	}
	for i, name := range p.m.Rows {
		label := strconv.Itoa(i) + " " + name
		if name == Other {
			label = "oth " + name
		}
		y := gy + i*chartCell
		text(img, at.X, y+(chartCell-chartLine)/2, clip(label, chartName), color.Black)
		total := p.m.RowTotal(i)
		for j, v := range p.m.Counts[i] {
			cell := image.Rect(gx+j*chartCell, y, gx+(j+1)*chartCell, y+chartCell)
			share := 0.0
			if total > 0 {
				share = float64(v) / float64(total)
			}
			fill := chartEmpty
			if v > 0 {
				hue := chartRed
				if i == j && name != Other {
					hue = chartBlue
				}
				// At least a quarter tint, so a single stray count shows.
				fill = blend(hue, 0.25+0.75*share)
			}
			draw.Draw(img, cell, image.NewUniform(fill), image.Point{}, draw.Src)
			outline(img, cell, chartGrid)
			if v > 0 {
				s := strconv.Itoa(v)
				var ink color.Color = color.Black
				if share > 0.5 {
					ink = color.White
				}
				text(img, cell.Min.X+(chartCell-chartChar*len(s))/2, y+(chartCell-chartLine)/2, s, ink)
			}
		}
	}
}

// blend mixes white and c: t = 0 is white, 1 is c.
func blend(c color.RGBA, t float64) color.RGBA {
	mix := func(v uint8) uint8 { return uint8(255 - t*(255-float64(v)) + 0.5) }
	return color.RGBA{mix(c.R), mix(c.G), mix(c.B), 255}
}

func outline(img *image.RGBA, r image.Rectangle, c color.Color) {
	for x := r.Min.X; x < r.Max.X; x++ {
		img.Set(x, r.Min.Y, c)
		img.Set(x, r.Max.Y-1, c)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		img.Set(r.Min.X, y, c)
		img.Set(r.Max.X-1, y, c)
	}
}

// text draws s with its line box's top-left corner at (x, y).
func text(img *image.RGBA, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13,
		Dot: fixed.P(x, y+(chartLine-13)/2+chartAscent)}
	d.DrawString(s)
}

// clip shortens s to n characters, marking the cut with "..".
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n || n < 3 {
		return s
	}
	return string(r[:n-2]) + ".."
}
