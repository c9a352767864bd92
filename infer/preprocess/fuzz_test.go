package preprocess

import (
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// seedImages adds the shared real images (small ones: fuzzing mutates
// every byte) when they are on this machine; they are read in place, not
// copied into the repository.
func seedImages(f *testing.F) {
	dir, err := testdata.Dir()
	if err != nil {
		return
	}
	var paths []string
	for _, pat := range []string{"images/coral/*.bmp", "images/fruits360/Test/Banana/*.jpg", "images/fruits360/Test/Kiwi/*.jpg"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		paths = append(paths, m[:min(len(m), 2)]...)
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err != nil || st.Size() > 1<<20 {
			continue
		}
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
}

// FuzzDecode: any bytes decode to an image or an error, never a panic,
// and a decoded image goes through every resize filter.
func FuzzDecode(f *testing.F) {
	for _, data := range encoded(f, 7, 3) {
		f.Add(data)
	}
	seedImages(f)
	limits := Limits{MaxSide: 2048, MaxPixels: 1 << 20}
	pres := make([]*Preprocessor, 0, 3)
	for _, r := range []Resize{Nearest, Bilinear, Area} {
		p, err := New(Spec{Width: 5, Height: 4, Channels: 3, Resize: r, Fit: Crop}, Tensor{Type: tfl.Uint8, Scale: 1.0 / 255})
		if err != nil {
			f.Fatal(err)
		}
		pres = append(pres, p)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := limits.Decode(data, "fuzz")
		if err != nil {
			return
		}
		b := img.Bounds()
		if b.Dx() > limits.MaxSide || b.Dy() > limits.MaxSide {
			t.Fatalf("decoded %v over the limits", b)
		}
		for _, p := range pres {
			if err := p.Into(make([]byte, p.SlotBytes()), 0, img); err != nil {
				t.Fatalf("%s: %v", p.Spec().Resize, err)
			}
		}
	})
}

// FuzzResize drives the resamplers with arbitrary sizes and crop choices:
// no panic, and a flat image stays flat.
func FuzzResize(f *testing.F) {
	f.Add(uint16(100), uint16(100), uint16(20), uint16(20), uint8(0), false, uint8(99))
	f.Add(uint16(3030), uint16(7), uint16(224), uint16(224), uint8(1), true, uint8(3))
	f.Add(uint16(1), uint16(1), uint16(9), uint16(2), uint8(2), true, uint8(255))
	f.Fuzz(func(t *testing.T, w, h, ow, oh uint16, method uint8, crop bool, v uint8) {
		w, h = w%1024+1, h%1024+1
		ow, oh = ow%300+1, oh%300+1
		r := []Resize{Nearest, Bilinear, Area}[method%3]
		fit := Squash
		if crop {
			fit = Crop
		}
		src := image.NewGray(image.Rect(0, 0, int(w), int(h)))
		for i := range src.Pix {
			src.Pix[i] = v
		}
		p, err := New(Spec{Width: int(ow), Height: int(oh), Channels: 1, Resize: r, Fit: fit}, Tensor{Type: tfl.Float32})
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.Resize(src)
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range got {
			if g != v {
				t.Fatalf("%dx%d -> %dx%d %s/%s: pixel %d = %d, want %d", w, h, ow, oh, r, fit, i, g, v)
			}
		}
	})
}
