package featuremap

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// rampMap is a map whose channel c holds c·1000 + its element index, so
// every channel normalises to the same ramp.
func rampMap(tensor, h, w, c int) Map {
	m := Map{Tensor: tensor, Name: "ramp", Type: tfl.Float32, Shape: []int{1, h, w, c}, Height: h, Width: w, Channels: c,
		Values: make([]float32, h*w*c)}
	for i := range h * w {
		for k := range c {
			m.Values[i*c+k] = float32(k*1000 + i)
		}
	}
	return m
}

// TestPlan checks the grid: one tile per channel of the tile's size,
// inside the picture, not overlapping, under its caption, sections
// stacked in order, with small tiles enlarged and vectors wrapped.
func TestPlan(t *testing.T) {
	for _, tt := range []struct {
		name  string
		maps  []Map
		style Style
		tileW []int // drawn tile width and height per map
		tileH []int
		cols  []int
		width int // 0: not checked
	}{
		// 20 px doubles towards the 40 px default minimum. Columns:
		// (200 − 2·6 margin + 2 gap) / (40 + 2) = 4.
		{name: "one layer, fixed width", maps: []Map{rampMap(1, 20, 20, 32)}, style: Style{Width: 200},
			tileW: []int{40}, tileH: []int{40}, cols: []int{4}, width: 200},
		// 30 px is under 40, but 40/30 is no whole factor: it stays.
		{name: "no whole factor", maps: []Map{rampMap(1, 30, 30, 4)}, style: Style{Width: 200},
			tileW: []int{30}, tileH: []int{30}, cols: []int{4}, width: 200},
		{name: "no enlargement", maps: []Map{rampMap(1, 20, 20, 32)}, style: Style{Width: 200, MinTile: 1},
			tileW: []int{20}, tileH: []int{20}, cols: []int{8}, width: 200},
		{name: "7x7 enlarged", maps: []Map{rampMap(1, 7, 7, 5)}, style: Style{Width: 400},
			tileW: []int{35}, tileH: []int{35}, cols: []int{5}, width: 400},
		// 10 values wrap at ⌈√10⌉ = 4: a 4×3 block.
		{name: "vector wrapped", maps: []Map{{Tensor: 3, Name: "logits", Shape: []int{1, 10}, Height: 1, Width: 10, Channels: 1, Values: make([]float32, 10)}},
			style: Style{Width: 100, MinTile: 1}, tileW: []int{4}, tileH: []int{3}, cols: []int{1}, width: 100},
		{name: "grows to the widest tile", maps: []Map{rampMap(1, 4, 300, 2)}, style: Style{Width: 50},
			tileW: []int{300}, tileH: []int{4}, cols: []int{1}, width: 300 + 2*margin},
		{name: "auto width, two layers", maps: []Map{rampMap(1, 16, 16, 64), rampMap(2, 4, 4, 128)},
			tileW: []int{32, 40}, tileH: []int{32, 40}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			secs, size, err := Plan(tt.maps, tt.style)
			if err != nil {
				t.Fatal(err)
			}
			if tt.width > 0 && size.X != tt.width {
				t.Errorf("width %d, want %d", size.X, tt.width)
			}
			if tt.width == 0 && (size.X > 2*size.Y || size.Y > 2*size.X) {
				t.Errorf("automatic size %v is far from square", size)
			}
			bounds := image.Rectangle{Max: size}
			y := 0
			var all []image.Rectangle
			for i, sec := range secs {
				if len(sec.Tiles) != tt.maps[i].Channels {
					t.Fatalf("section %d has %d tiles for %d channels", i, len(sec.Tiles), tt.maps[i].Channels)
				}
				if sec.CaptionAt.Y < y {
					t.Errorf("section %d starts at y=%d, above the previous section's end %d", i, sec.CaptionAt.Y, y)
				}
				if tt.cols != nil && sec.Cols != tt.cols[i] {
					t.Errorf("section %d: %d columns, want %d", i, sec.Cols, tt.cols[i])
				}
				for c, r := range sec.Tiles {
					if r.Dx() != tt.tileW[i] || r.Dy() != tt.tileH[i] {
						t.Errorf("section %d tile %d is %dx%d, want %dx%d", i, c, r.Dx(), r.Dy(), tt.tileW[i], tt.tileH[i])
					}
					if !r.In(bounds) {
						t.Errorf("section %d tile %d %v is outside the picture %v", i, c, r, bounds)
					}
					if r.Min.Y < sec.CaptionAt.Y+captionH {
						t.Errorf("section %d tile %d %v overlaps its caption at %v", i, c, r, sec.CaptionAt)
					}
					if c > 0 && c%sec.Cols != 0 && r.Min.X <= sec.Tiles[c-1].Min.X {
						t.Errorf("section %d tile %d is not right of tile %d", i, c, c-1)
					}
					y = max(y, r.Max.Y)
				}
				all = append(all, sec.Tiles...)
			}
			for a := range all {
				for b := a + 1; b < len(all); b++ {
					if all[a].Overlaps(all[b]) {
						t.Fatalf("tiles %v and %v overlap", all[a], all[b])
					}
				}
			}
		})
	}
}

// TestRender checks the pixels: each tile holds its channel's normalised
// values (enlarged by an integer factor), the caption is drawn in the
// last palette entry, and the PNG round-trips.
func TestRender(t *testing.T) {
	maps := []Map{rampMap(5, 3, 4, 6)}
	cm, err := ParseColorMap("inferno")
	if err != nil {
		t.Fatal(err)
	}
	var r Renderer
	pic, err := r.Render(maps, Style{ColorMap: cm, MinTile: 8})
	if err != nil {
		t.Fatal(err)
	}
	secs, size, _ := Plan(maps, Style{MinTile: 8})
	if pic.Rect.Size() != size {
		t.Fatalf("picture %v, plan %v", pic.Rect.Size(), size)
	}
	norm := make([]uint8, 3*4*6)
	maps[0].Normalize(norm, nil)
	for c, rect := range secs[0].Tiles {
		if rect.Dx() != 8 || rect.Dy() != 6 {
			t.Fatalf("tile %d is %v, want 8x6 (4x3 enlarged twice)", c, rect.Size())
		}
		for y := rect.Min.Y; y < rect.Max.Y; y++ {
			for x := rect.Min.X; x < rect.Max.X; x++ {
				sy, sx := (y-rect.Min.Y)/2, (x-rect.Min.X)/2
				if got, want := pic.ColorIndexAt(x, y), norm[c*12+sy*4+sx]; got != want {
					t.Fatalf("tile %d pixel (%d, %d) = %d, want %d", c, sx, sy, got, want)
				}
			}
		}
	}
	ink := 0
	at := secs[0].CaptionAt
	for y := at.Y; y < at.Y+captionH; y++ {
		for x := at.X; x < pic.Rect.Max.X; x++ {
			if pic.ColorIndexAt(x, y) == 255 {
				ink++
			}
		}
	}
	if ink < 50 {
		t.Errorf("the caption %q left %d pixels of ink", secs[0].Caption, ink)
	}
	var buf bytes.Buffer
	if err := EncodePNG(&buf, pic); err != nil {
		t.Fatal(err)
	}
	back, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rect := secs[0].Tiles[0]
	if got, want := color.RGBAModel.Convert(back.At(rect.Min.X, rect.Min.Y)), cm.Palette[norm[0]]; got != want {
		t.Errorf("decoded PNG pixel %v, want %v", got, want)
	}
}

func TestCaption(t *testing.T) {
	for _, tt := range []struct {
		m    Map
		want string
	}{
		{Map{Tensor: 7, Name: "conv2d/Relu", Type: tfl.Int8, Shape: []int{1, 20, 20, 32}}, "#7 conv2d/Relu int8 [1 20 20 32]"},
		{Map{Tensor: 56, Name: "MobilenetV2/Conv/Relu6;MobilenetV2/Conv/add_fold", Type: tfl.Uint8, Shape: []int{1, 112, 112, 32}},
			"#56 MobilenetV2/Conv/Relu6;... uint8 [1 112 112 32]"},
	} {
		if got := Caption(&tt.m); got != tt.want {
			t.Errorf("Caption = %q, want %q", got, tt.want)
		}
	}
}

func TestPlanRefusesHugePictures(t *testing.T) {
	maps := []Map{{Name: "huge", Shape: []int{1, 1, 8, 1 << 20}, Height: 1, Width: 8, Channels: 1 << 20}}
	if _, _, err := Plan(maps, Style{MinTile: 64}); err == nil {
		t.Errorf("a picture of 2^20 tiles of 64x8 pixels: no error")
	}
}

// TestColorMaps checks the tables against matplotlib's published end
// points and middle, and that each is smooth (a mistyped digit would
// show as a jump).
func TestColorMaps(t *testing.T) {
	for _, tt := range []struct {
		name             string
		first, mid, last color.RGBA
	}{
		{"gray", color.RGBA{0, 0, 0, 255}, color.RGBA{128, 128, 128, 255}, color.RGBA{255, 255, 255, 255}},
		{"viridis", color.RGBA{0x44, 0x01, 0x54, 255}, color.RGBA{0x21, 0x91, 0x8c, 255}, color.RGBA{0xfd, 0xe7, 0x25, 255}},
		{"inferno", color.RGBA{0x00, 0x00, 0x04, 255}, color.RGBA{0xbc, 0x37, 0x54, 255}, color.RGBA{0xfc, 0xff, 0xa4, 255}},
	} {
		cm, err := ParseColorMap(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if len(cm.Palette) != 256 {
			t.Fatalf("%s has %d colours", tt.name, len(cm.Palette))
		}
		for _, c := range []struct {
			i    int
			want color.RGBA
		}{{0, tt.first}, {128, tt.mid}, {255, tt.last}} {
			if got := cm.Palette[c.i].(color.RGBA); got != c.want {
				t.Errorf("%s[%d] = %v, want %v", tt.name, c.i, got, c.want)
			}
		}
		for i := 1; i < 256; i++ {
			a, b := cm.Palette[i-1].(color.RGBA), cm.Palette[i].(color.RGBA)
			if d := max(absDiff(a.R, b.R), absDiff(a.G, b.G), absDiff(a.B, b.B)); d > 6 {
				t.Errorf("%s jumps by %d between %d and %d", tt.name, d, i-1, i)
			}
		}
	}
	if _, err := ParseColorMap("jet"); err == nil {
		t.Errorf("ParseColorMap(jet): no error")
	}
}

func absDiff(a, b uint8) int { return max(int(a)-int(b), int(b)-int(a)) }
