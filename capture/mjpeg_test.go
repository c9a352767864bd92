package capture

import (
	"bytes"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"testing"
)

// testJPEG encodes a noisy w x h image with Go's encoder (which writes the
// standard Annex K tables in a DHT segment).
func testJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = uint8(rng.IntN(256))
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// stripDHT removes the DHT segments, as MJPEG cameras send frames.
func stripDHT(data []byte) []byte {
	out := append([]byte(nil), data[:2]...)
	i := 2
	for i+4 <= len(data) && data[i] == 0xff && data[i+1] != 0xda {
		n := 2 + (int(data[i+2])<<8 | int(data[i+3]))
		if data[i+1] != 0xc4 {
			out = append(out, data[i:i+n]...)
		}
		i += n
	}
	return append(out, data[i:]...)
}

func TestMJPEGWithoutHuffmanTables(t *testing.T) {
	full := testJPEG(t, 48, 32)
	bare := stripDHT(full)
	if !hasDHT(full) || hasDHT(bare) || len(bare) >= len(full) {
		t.Fatalf("test setup: DHT in full %v, in stripped %v", hasDHT(full), hasDHT(bare))
	}
	if _, err := jpeg.Decode(bytes.NewReader(bare)); err == nil {
		t.Log("note: image/jpeg decodes frames without DHT itself now")
	}
	want, err := jpeg.Decode(bytes.NewReader(full))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"with DHT": full, "without DHT": bare} {
		got, err := decodeMJPEG(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		g, w := got.(*image.YCbCr), want.(*image.YCbCr)
		if !bytes.Equal(g.Y, w.Y) || !bytes.Equal(g.Cb, w.Cb) || !bytes.Equal(g.Cr, w.Cr) {
			t.Errorf("%s: decoded pixels differ from the original JPEG's", name)
		}
	}
}

func TestMJPEGFrameThroughFormat(t *testing.T) {
	f := Format{Pixel: PixMJPEG, FourCC: "MJPG", Width: 48, Height: 32}
	if err := f.check(); err != nil {
		t.Fatal(err)
	}
	p := newPool(f.frameBytes(), 2)
	s, _ := p.get()
	if err := f.fill(s, stripDHT(testJPEG(t, 48, 32))); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.frame.Image.(*image.YCbCr); !ok || s.frame.Image.Bounds().Dx() != 48 {
		t.Errorf("MJPEG frame decoded to %T %v", s.frame.Image, s.frame.Image.Bounds())
	}
	if err := f.fill(s, testJPEG(t, 16, 16)); err == nil {
		t.Error("a 16x16 frame in a 48x32 format: no error")
	}
	for _, bad := range [][]byte{nil, []byte("nope"), {0xff, 0xd8, 0xff, 0xdb, 0, 3}} {
		if err := f.fill(s, bad); err == nil {
			t.Errorf("fill(%q): no error", bad)
		}
	}
}

// FuzzDecodeMJPEG: camera frames are untrusted input; decoding never
// panics and never hangs, whatever the bytes.
func FuzzDecodeMJPEG(f *testing.F) {
	full := testJPEG(f, 16, 16)
	f.Add(full)
	f.Add(stripDHT(full))
	f.Add([]byte{0xff, 0xd8, 0xff, 0xff, 0xff, 0xc4})
	f.Add([]byte{0xff, 0xd8, 0xff, 0xe0, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := decodeMJPEG(data)
		if err == nil && img.Bounds().Empty() {
			t.Error("decoded an empty image without error")
		}
	})
}
