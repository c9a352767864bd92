package preprocess

import (
	"encoding/binary"
	"image"
	"math"
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

func TestValue(t *testing.T) {
	tests := []struct {
		n      Normalize
		colour int
		v      uint8
		want   float32
	}{
		{Unit, 0, 0, 0},
		{Unit, 1, 255, 1},
		{Unit, 2, 51, 0.2},
		{Symmetric, 0, 0, -1},
		{Symmetric, 0, 255, 1},
		{Symmetric, 0, 51, float32(51)/127.5 - 1},
		{Caffe, 2, 0, -103.939},
		{Caffe, 1, 255, 255 - float32(116.779)},
		{Caffe, 0, 124, 124 - float32(123.68)},
		{None, 0, 200, 200},
	}
	for _, tc := range tests {
		if got := Value(tc.n, tc.colour, tc.v); got != tc.want {
			t.Errorf("Value(%s, %d, %d) = %v, want %v", tc.n, tc.colour, tc.v, got, tc.want)
		}
	}
}

// onePixel preprocesses a 1x1 image with colour (r, g, b) and returns the
// tensor bytes.
func onePixel(t *testing.T, s Spec, dst Tensor, r, g, b uint8) []byte {
	t.Helper()
	s.Width, s.Height = 1, 1
	if s.Channels == 0 {
		s.Channels = 3
	}
	p, err := New(s, dst)
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	copy(img.Pix, []uint8{r, g, b, 255})
	out := make([]byte, p.SlotBytes())
	if err := p.Into(out, 0, img); err != nil {
		t.Fatal(err)
	}
	return out
}

func floats(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func TestFloatTensorOrderAndNorm(t *testing.T) {
	f32 := Tensor{Type: tfl.Float32}
	tests := []struct {
		spec Spec
		want []float32
	}{
		{Spec{Normalize: Unit}, []float32{1, 0, float32(51) / 255}},
		{Spec{Normalize: Unit, ColorOrder: BGR}, []float32{float32(51) / 255, 0, 1}},
		{Spec{Normalize: Symmetric}, []float32{1, -1, float32(51)/127.5 - 1}},
		// Caffe defaults to BGR and keeps each mean with its colour.
		{Spec{Normalize: Caffe}, []float32{51 - float32(103.939), -116.779, 255 - float32(123.68)}},
		{Spec{Normalize: Caffe, ColorOrder: RGB}, []float32{255 - float32(123.68), -116.779, 51 - float32(103.939)}},
		{Spec{Normalize: None}, []float32{255, 0, 51}},
		// Grayscale: PIL luma of (255, 0, 51) = (255*19595 + 51*7471 + 32768) >> 16 = 82.
		{Spec{Normalize: None, Channels: 1}, []float32{82}},
	}
	for _, tc := range tests {
		got := floats(onePixel(t, tc.spec, f32, 255, 0, 51))
		if len(got) != len(tc.want) {
			t.Fatalf("%+v: %d values, want %d", tc.spec, len(got), len(tc.want))
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%+v: element %d = %v, want %v", tc.spec, i, got[i], tc.want[i])
			}
		}
	}
}

// TestQuantisedPixelsExact: MobileNet v2's uint8 input (scale 1/128, zero
// point 128) with symmetric normalisation takes raw pixels, as every
// TFLite example feeds it; the int8 twin takes pixel-128.
func TestQuantisedPixelsExact(t *testing.T) {
	u8 := Tensor{Type: tfl.Uint8, Scale: 0.0078125, ZeroPoint: 128}
	i8 := Tensor{Type: tfl.Int8, Scale: 1 / 127.5, ZeroPoint: -1}
	for v := range 256 {
		got := onePixel(t, Spec{Normalize: Symmetric}, u8, uint8(v), 0, 255)
		if got[0] != uint8(v) || got[1] != 0 || got[2] != 255 {
			t.Fatalf("uint8 pixel %d: got %v, want [%d 0 255]", v, got, v)
		}
		got = onePixel(t, Spec{Normalize: Symmetric}, i8, uint8(v), 0, 255)
		if int8(got[0]) != int8(v-128) || int8(got[1]) != -128 || int8(got[2]) != 127 {
			t.Fatalf("int8 pixel %d: got %v, want %d", v, got, v-128)
		}
	}
	if !PixelsExact(Unit, 0, Tensor{Type: tfl.Uint8, Scale: 1.0 / 255}) {
		t.Error("uint8 1/255 zp 0 with unit: want pixels exact")
	}
	if PixelsExact(Unit, 0, u8) {
		t.Error("MobileNet input with unit normalisation: want not exact")
	}
}

// TestQuantisedGeneral: away from the exact case the value is
// round-half-away(x/scale) + zp, clamped.
func TestQuantisedGeneral(t *testing.T) {
	u8 := Tensor{Type: tfl.Uint8, Scale: 0.02, ZeroPoint: 10}
	for _, tc := range []struct {
		v    uint8
		want uint8
	}{{0, 10}, {255, 60}, {128, 10 + 25}, {51, 20}} {
		got := onePixel(t, Spec{Normalize: Unit, Channels: 1}, u8, tc.v, tc.v, tc.v)
		if got[0] != tc.want {
			t.Errorf("unit %d at scale 0.02 zp 10 = %d, want %d", tc.v, got[0], tc.want)
		}
	}
	// Clamping: symmetric into a tensor that only covers [0, 1].
	i8 := Tensor{Type: tfl.Int8, Scale: 1.0 / 255, ZeroPoint: -128}
	got := onePixel(t, Spec{Normalize: Symmetric, Channels: 1}, i8, 0, 0, 0)
	if int8(got[0]) != -128 {
		t.Errorf("symmetric -1 into [0,1] int8 = %d, want -128", int8(got[0]))
	}
}

func TestLayoutAndSlot(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	copy(img.Pix, []uint8{1, 2, 3, 255, 4, 5, 6, 255})
	for _, tc := range []struct {
		layout Layout
		want   []byte
	}{
		{NHWC, []byte{1, 2, 3, 4, 5, 6}},
		{NCHW, []byte{1, 4, 2, 5, 3, 6}},
	} {
		p, err := New(Spec{Width: 2, Height: 1, Channels: 3, Layout: tc.layout, Normalize: None}, Tensor{Type: tfl.Uint8, Scale: 1})
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 3*6)
		for i := range buf {
			buf[i] = 0xee
		}
		if err := p.Into(buf, 1, img); err != nil {
			t.Fatal(err)
		}
		for i := range buf {
			want := byte(0xee)
			if i >= 6 && i < 12 {
				want = tc.want[i-6]
			}
			if buf[i] != want {
				t.Errorf("%s: byte %d = %d, want %d (slot 1 only)", tc.layout, i, buf[i], want)
			}
		}
		if err := p.Into(buf, 3, img); err == nil {
			t.Errorf("%s: slot 3 of a 3-image tensor accepted", tc.layout)
		}
	}
}

func TestGuessNormalize(t *testing.T) {
	tests := []struct {
		t    Tensor
		want Normalize
	}{
		{Tensor{Type: tfl.Float32}, Unit},
		{Tensor{Type: tfl.Uint8, Scale: 0.0078125, ZeroPoint: 128}, Symmetric},
		{Tensor{Type: tfl.Int8, Scale: 1 / 127.5, ZeroPoint: -1}, Symmetric},
		{Tensor{Type: tfl.Uint8, Scale: 1.0 / 255}, Unit},
		{Tensor{Type: tfl.Int8, Scale: 1.0 / 255, ZeroPoint: -128}, Unit},
		{Tensor{Type: tfl.Int8, Scale: 1, ZeroPoint: -128}, None},
	}
	for _, tc := range tests {
		got, err := GuessNormalize(tc.t)
		if err != nil || got != tc.want {
			t.Errorf("GuessNormalize(%+v) = %q, %v, want %q", tc.t, got, err, tc.want)
		}
	}
	if _, err := GuessNormalize(Tensor{Type: tfl.Int8, Scale: 0.5, ZeroPoint: 0}); err == nil {
		t.Error("range [-64, 63.5] guessed, want an error asking for an explicit choice")
	}
}

func TestNewRejects(t *testing.T) {
	bad := []struct {
		s Spec
		t Tensor
	}{
		{Spec{Width: 0, Height: 4, Channels: 3}, Tensor{Type: tfl.Float32}},
		{Spec{Width: 4, Height: 4, Channels: 2}, Tensor{Type: tfl.Float32}},
		{Spec{Width: 4, Height: 4, Channels: 3}, Tensor{Type: tfl.Int32}},
		{Spec{Width: 4, Height: 4, Channels: 3}, Tensor{Type: tfl.Uint8, Scale: 0}},
		{Spec{Width: 4, Height: 4, Channels: 1, Normalize: Caffe}, Tensor{Type: tfl.Float32}},
		{Spec{Width: 4, Height: 4, Channels: 3, Resize: "bicubic"}, Tensor{Type: tfl.Float32}},
	}
	for _, tc := range bad {
		if _, err := New(tc.s, tc.t); err == nil {
			t.Errorf("New(%+v, %+v) accepted", tc.s, tc.t)
		}
	}
}

func TestShapeSpec(t *testing.T) {
	s, err := ShapeSpec([]int{1, 224, 200, 3})
	if err != nil || s.Width != 200 || s.Height != 224 || s.Channels != 3 || s.Layout != NHWC {
		t.Errorf("NHWC: got %+v, %v", s, err)
	}
	s, err = ShapeSpec([]int{1, 3, 224, 200})
	if err != nil || s.Width != 200 || s.Height != 224 || s.Channels != 3 || s.Layout != NCHW {
		t.Errorf("NCHW: got %+v, %v", s, err)
	}
	if _, err := ShapeSpec([]int{1, 1001}); err == nil {
		t.Error("[1 1001] accepted as an image input")
	}
}
