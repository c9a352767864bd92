package preprocess

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"math/big"
	"slices"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// TestNearestIndexGolden pins PIL's NEAREST choices for sizes that matter:
// the workshop's 100x100 Fruits-360 images to its 20x20 CNN, and small
// cases worked out by hand from ImagingScaleAffine.
func TestNearestIndexGolden(t *testing.T) {
	tests := []struct {
		in, out int
		want    []int
	}{
		{100, 20, []int{2, 7, 12, 17, 22, 27, 32, 37, 42, 47, 52, 57, 62, 67, 72, 77, 82, 87, 92, 97}},
		{3, 2, []int{0, 2}},
		{2, 3, []int{0, 1, 1}},
		{4, 8, []int{0, 0, 1, 1, 2, 2, 3, 3}},
		{5, 1, []int{2}},
		{1, 3, []int{0, 0, 0}},
	}
	for _, tc := range tests {
		got := make([]int, tc.out)
		nearestIndex(got, 0, tc.in, tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("nearest %d->%d = %v, want %v", tc.in, tc.out, got, tc.want)
		}
	}
}

// TestNearestIndexMatchesFormula checks the accumulated PIL positions
// against floor((x+0.5)*in/out) in exact rational arithmetic, wherever the
// exact position is not within 1e-9 of an integer (there PIL's float
// accumulation, which we copy, decides).
func TestNearestIndexMatchesFormula(t *testing.T) {
	outs := []int{1, 2, 3, 7, 20, 96, 128, 160, 224, 299}
	for in := 1; in <= 700; in += 3 {
		for _, out := range outs {
			got := make([]int, out)
			nearestIndex(got, 0, in, in)
			for x, g := range got {
				exact := new(big.Rat).SetFrac64(int64((2*x+1)*in), int64(2*out))
				f, _ := exact.Float64()
				fl := new(big.Int).Quo(exact.Num(), exact.Denom()).Int64()
				if frac := f - float64(fl); frac < 1e-9 || frac > 1-1e-9 {
					continue
				}
				if g != int(fl) {
					t.Fatalf("nearest %d->%d: x=%d got %d, want %d", in, out, x, g, fl)
				}
			}
		}
	}
}

// row1 makes a one-row grayscale image.
func row1(v ...uint8) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, len(v), 1))
	copy(g.Pix, v)
	return g
}

func grayPre(t *testing.T, w, h int, r Resize, f Fit) *Preprocessor {
	t.Helper()
	p, err := New(Spec{Width: w, Height: h, Channels: 1, Resize: r, Fit: f}, Tensor{Type: tfl.Uint8, Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestResizeGolden pins bilinear (PIL) and area values worked out by hand
// from the filter definitions.
func TestResizeGolden(t *testing.T) {
	tests := []struct {
		method Resize
		in     []uint8
		out    int
		want   []uint8
	}{
		// PIL BILINEAR 4->2: support widens to 2; weights 3/7, 3/7, 1/7.
		{Bilinear, []uint8{0, 100, 200, 255}, 2, []uint8{71, 209}},
		// PIL BILINEAR 2->4: plain linear interpolation, edges clamped.
		{Bilinear, []uint8{0, 200}, 4, []uint8{0, 50, 150, 200}},
		{Area, []uint8{0, 100, 200, 255}, 2, []uint8{50, 228}},
		{Area, []uint8{0, 100, 200}, 2, []uint8{33, 167}},
		{Area, []uint8{0, 200}, 4, []uint8{0, 0, 200, 200}},
		{Area, []uint8{0, 200}, 3, []uint8{0, 100, 200}},
		{Nearest, []uint8{0, 100, 200}, 2, []uint8{0, 200}},
	}
	for _, tc := range tests {
		p := grayPre(t, tc.out, 1, tc.method, Squash)
		got, err := p.Resize(row1(tc.in...))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, tc.want) {
			t.Errorf("%s %v -> %d = %v, want %v", tc.method, tc.in, tc.out, got, tc.want)
		}
	}
}

// TestResizeBilinearSeparable checks the 2-D bilinear result is the 1-D
// filter applied to rows then columns, with the row results rounded to 8
// bits in between, as PIL does.
func TestResizeBilinearSeparable(t *testing.T) {
	src := image.NewGray(image.Rect(0, 0, 9, 7))
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 37 % 251)
	}
	got, err := grayPre(t, 4, 3, Bilinear, Squash).Resize(src)
	if err != nil {
		t.Fatal(err)
	}
	got = slices.Clone(got)
	// Rows first: each source row to 4 pixels.
	rp := grayPre(t, 4, 1, Bilinear, Squash)
	mid := image.NewGray(image.Rect(0, 0, 4, 7))
	for y := range 7 {
		r, _ := rp.Resize(row1(src.Pix[y*9 : y*9+9]...))
		copy(mid.Pix[y*4:], r)
	}
	// Then columns: transpose each column into a row.
	cp := grayPre(t, 3, 1, Bilinear, Squash)
	for x := range 4 {
		col := make([]uint8, 7)
		for y := range 7 {
			col[y] = mid.Pix[y*4+x]
		}
		r, _ := cp.Resize(row1(col...))
		for y := range 3 {
			if got[y*4+x] != r[y] {
				t.Errorf("pixel (%d,%d) = %d, want %d", x, y, got[y*4+x], r[y])
			}
		}
	}
}

func TestResizeIdentity(t *testing.T) {
	src := image.NewRGBA(image.Rect(3, 5, 3+13, 5+9)) // non-zero origin
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 7)
	}
	want := make([]uint8, 0, 13*9*3)
	for i := 0; i < len(src.Pix); i += 4 {
		want = append(want, src.Pix[i:i+3]...)
	}
	for _, r := range []Resize{Nearest, Bilinear, Area} {
		for _, f := range []Fit{Squash, Crop} {
			p, err := New(Spec{Width: 13, Height: 9, Channels: 3, Resize: r, Fit: f}, Tensor{Type: tfl.Float32})
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Resize(src)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s/%s identity resize changed pixels", r, f)
			}
		}
	}
}

// TestResizeUniform: a flat image stays flat at any size for every filter.
func TestResizeUniform(t *testing.T) {
	for _, size := range [][4]int{{100, 100, 20, 20}, {3030, 40, 224, 224}, {5, 7, 64, 3}, {1, 1, 8, 8}} {
		src := image.NewNRGBA(image.Rect(0, 0, size[0], size[1]))
		for i := 0; i < len(src.Pix); i += 4 {
			copy(src.Pix[i:], []uint8{200, 100, 7, 255})
		}
		for _, r := range []Resize{Nearest, Bilinear, Area} {
			for _, f := range []Fit{Squash, Crop} {
				p, err := New(Spec{Width: size[2], Height: size[3], Channels: 3, Resize: r, Fit: f}, Tensor{Type: tfl.Float32})
				if err != nil {
					t.Fatal(err)
				}
				got, err := p.Resize(src)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < len(got); i += 3 {
					if got[i] != 200 || got[i+1] != 100 || got[i+2] != 7 {
						t.Fatalf("%v %s/%s: pixel %d = %v, want [200 100 7]", size, r, f, i/3, got[i:i+3])
					}
				}
			}
		}
	}
}

func TestFitBoxCrop(t *testing.T) {
	tests := []struct {
		w, h, outW, outH int
		want             box
	}{
		{3030, 2670, 224, 224, box{180, 0, 180 + 2670, 2670}},
		{100, 300, 50, 50, box{0, 100, 100, 200}},
		{640, 480, 320, 240, box{0, 0, 640, 480}},
		{101, 50, 2, 1, box{0, 0, 100, 50}},
	}
	for _, tc := range tests {
		if got := fitBox(0, 0, tc.w, tc.h, tc.outW, tc.outH, Crop); got != tc.want {
			t.Errorf("crop %dx%d to %dx%d = %+v, want %+v", tc.w, tc.h, tc.outW, tc.outH, got, tc.want)
		}
	}
}

// TestCropTakesCentre: a wide image whose outer thirds are black and
// centre white crops to white only.
func TestCropTakesCentre(t *testing.T) {
	src := image.NewGray(image.Rect(0, 0, 30, 10))
	for y := range 10 {
		for x := 10; x < 20; x++ {
			src.SetGray(x, y, color.Gray{Y: 255})
		}
	}
	for _, r := range []Resize{Nearest, Area} {
		got, err := grayPre(t, 5, 5, r, Crop).Resize(src)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got {
			if v != 255 {
				t.Fatalf("%s crop: pixel %d = %d, want 255", r, i, v)
			}
		}
	}
}

// TestFastPathsMatchGeneric runs every concrete image type through its
// fast row reader and through the At fallback.
func TestFastPathsMatchGeneric(t *testing.T) {
	r := image.Rect(1, 2, 1+17, 2+11)
	rgba := image.NewRGBA(r)
	nrgba := image.NewNRGBA(r)
	gray := image.NewGray(r)
	ycc := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
	pal := image.NewPaletted(r, color.Palette{color.RGBA{1, 2, 3, 255}, color.RGBA{200, 100, 50, 255}, color.Gray{77}})
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(i * 13)
		nrgba.Pix[i] = uint8(i * 29)
		if i%4 == 3 {
			rgba.Pix[i], nrgba.Pix[i] = 255, 255
		}
	}
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 3)
		pal.Pix[i] = uint8(i % 3)
	}
	for i := range ycc.Y {
		ycc.Y[i] = uint8(i * 5)
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = uint8(i*11), uint8(255-i*7)
	}
	for _, img := range []image.Image{rgba, nrgba, gray, ycc, pal} {
		for _, ch := range []int{1, 3} {
			name := fmt.Sprintf("%T/%d", img, ch)
			p, err := New(Spec{Width: 7, Height: 5, Channels: ch, Resize: Bilinear}, Tensor{Type: tfl.Float32})
			if err != nil {
				t.Fatal(err)
			}
			fast, err := p.Resize(img)
			if err != nil {
				t.Fatal(err)
			}
			fast = slices.Clone(fast)
			slow, err := p.Resize(opaque{img})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(fast, slow) {
				t.Errorf("%s: fast path %v, generic %v", name, fast[:9], slow[:9])
			}
		}
	}
}

// opaque hides the concrete type so the generic reader runs.
type opaque struct{ image.Image }

func TestResizeRejectsEmpty(t *testing.T) {
	p := grayPre(t, 4, 4, Nearest, Squash)
	if _, err := p.Resize(image.NewGray(image.Rect(0, 0, 0, 5))); err == nil {
		t.Error("empty image accepted")
	}
}

// TestIntoSteadyStateAllocs: after the first frame, a same-sized frame
// costs at most the row reader's closure.
func TestIntoSteadyStateAllocs(t *testing.T) {
	img := image.NewYCbCr(image.Rect(0, 0, 640, 480), image.YCbCrSubsampleRatio420)
	for _, r := range []Resize{Nearest, Bilinear, Area} {
		p, err := New(Spec{Width: 96, Height: 96, Channels: 3, Resize: r}, Tensor{Type: tfl.Uint8, Scale: 1.0 / 128, ZeroPoint: 128})
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, p.SlotBytes())
		if err := p.Into(buf, 0, img); err != nil {
			t.Fatal(err)
		}
		if got := testing.AllocsPerRun(3, func() { _ = p.Into(buf, 0, img) }); got > 1 {
			t.Errorf("%s: %v allocations per frame, want at most 1", r, got)
		}
	}
}
