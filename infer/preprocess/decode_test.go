package preprocess

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
)

// sample is a small deterministic test image.
func sample(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i*7 + i/13)
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	return img
}

// encoded returns sample images in every supported format.
func encoded(t testing.TB, w, h int) map[string][]byte {
	img := sample(w, h)
	out := map[string][]byte{}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	out["JPEG"] = bytes.Clone(b.Bytes())
	b.Reset()
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	out["PNG"] = bytes.Clone(b.Bytes())
	b.Reset()
	if err := bmp.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	out["BMP"] = bytes.Clone(b.Bytes())
	return out
}

func TestDecodeFormats(t *testing.T) {
	for format, data := range encoded(t, 9, 5) {
		img, err := Decode(data, "x")
		if err != nil {
			t.Errorf("%s: %v", format, err)
			continue
		}
		if b := img.Bounds(); b.Dx() != 9 || b.Dy() != 5 {
			t.Errorf("%s: size %v, want 9x5", format, b)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	enc := encoded(t, 40, 30)
	var unsupported *UnsupportedError
	var malformed *FormatError
	var tooLarge *LimitError
	tests := []struct {
		name   string
		data   []byte
		target any
		substr string
	}{
		{"empty", nil, &unsupported, "empty file"},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), &unsupported, "GIF"},
		{"webp", []byte("RIFF\x00\x00\x00\x00WEBPVP8 "), &unsupported, "WebP"},
		{"text", []byte("hello world"), &unsupported, "JPEG, PNG, BMP"},
		{"jpeg-truncated", enc["JPEG"][:len(enc["JPEG"])/2], &malformed, "JPEG"},
		{"png-truncated", enc["PNG"][:60], &malformed, "PNG"},
		{"bmp-truncated", enc["BMP"][:80], &malformed, "BMP"},
	}
	for _, tc := range tests {
		_, err := Decode(tc.data, tc.name+".img")
		if err == nil {
			t.Errorf("%s: decoded", tc.name)
			continue
		}
		if !errors.As(err, tc.target) {
			t.Errorf("%s: error %T %v, want %T", tc.name, err, err, tc.target)
		}
		if msg := err.Error(); !strings.Contains(msg, tc.substr) || !strings.Contains(msg, tc.name+".img") {
			t.Errorf("%s: message %q should name the file and mention %q", tc.name, msg, tc.substr)
		}
	}
	small := Limits{MaxSide: 32, MaxPixels: 1 << 20}
	for format, data := range enc {
		if _, err := small.Decode(data, "big"); !errors.As(err, &tooLarge) {
			t.Errorf("%s 40x30 under MaxSide 32: error %v, want *LimitError", format, err)
		}
	}
}
