package preprocess

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"slices"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// rowCounter is a RowImage that records which rows were converted. Its
// pixels are a function of (x, y); At agrees with RGBRow.
type rowCounter struct {
	rect image.Rectangle
	rows map[int]int
}

func (m *rowCounter) pixel(x, y int) color.RGBA {
	return color.RGBA{uint8(x*7 + y), uint8(x ^ y*3), uint8(200 - x - 2*y), 255}
}
func (m *rowCounter) ColorModel() color.Model { return color.RGBAModel }
func (m *rowCounter) Bounds() image.Rectangle { return m.rect }
func (m *rowCounter) At(x, y int) color.Color { return m.pixel(x, y) }
func (m *rowCounter) RGBRow(y int, dst []uint8) {
	m.rows[y]++
	for x := m.rect.Min.X; x < m.rect.Max.X; x++ {
		c := m.pixel(x, y)
		i := 3 * (x - m.rect.Min.X)
		dst[i], dst[i+1], dst[i+2] = c.R, c.G, c.B
	}
}

var _ RowImage = (*rowCounter)(nil)

// TestRowImage: a RowImage is read through RGBRow, gives what the generic
// At path gives, for colour and grayscale models, and nearest resizing
// converts only the rows it samples, each once.
func TestRowImage(t *testing.T) {
	r := image.Rect(3, 5, 3+40, 5+30)
	for _, ch := range []int{1, 3} {
		for _, method := range []Resize{Nearest, Bilinear, Area} {
			name := fmt.Sprintf("%s/%d", method, ch)
			p, err := New(Spec{Width: 10, Height: 6, Channels: ch, Resize: method, Fit: Crop}, Tensor{Type: tfl.Float32})
			if err != nil {
				t.Fatal(err)
			}
			img := &rowCounter{rect: r, rows: map[int]int{}}
			fast, err := p.Resize(img)
			if err != nil {
				t.Fatal(err)
			}
			fast = slices.Clone(fast)
			if len(img.rows) == 0 {
				t.Fatalf("%s: RGBRow never called", name)
			}
			slow, err := p.Resize(opaque{img})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(fast, slow) {
				t.Errorf("%s: RowImage path differs from the generic path", name)
			}
		}
	}
	p, _ := New(Spec{Width: 10, Height: 6, Channels: 3, Resize: Nearest}, Tensor{Type: tfl.Float32})
	img := &rowCounter{rect: r, rows: map[int]int{}}
	if _, err := p.Resize(img); err != nil {
		t.Fatal(err)
	}
	if len(img.rows) != 6 {
		t.Errorf("nearest 30 -> 6 rows converted %d rows, want 6", len(img.rows))
	}
	for y, n := range img.rows {
		if n != 1 || y < r.Min.Y || y >= r.Max.Y {
			t.Errorf("row %d converted %d times", y, n)
		}
	}
}
