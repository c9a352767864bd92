package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/fruitcam/fruitcam/capture"
	"github.com/fruitcam/fruitcam/internal/config"
	"github.com/fruitcam/fruitcam/internal/lime/limetest"
	"github.com/fruitcam/fruitcam/publish"
	"github.com/fruitcam/fruitcam/publish/publishtest"
)

// explainConfig is an agent with the region model (limetest) watching a
// looping folder of one image it answers "corner" for.
func explainConfig(t *testing.T, addr string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "corner.png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, limetest.RegionImage(64, 21)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf(`version: 1
device: {id: testbelt}
model: {path: %s}
infer: {workers: 1, batch: {size: 1, timeout: 5ms}}
cameras:
  - name: belt
    source: {type: folder, path: "%s/*.png", rate: 20, loop: true}
%s`, limetest.WriteRegionModel(t), dir, embeddedMQTT(t, addr))
	p := filepath.Join(t.TempDir(), "agent.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatalf("%v\n%s", err, yaml)
	}
	return cfg
}

// TestExplainCommand: an operator sends cmd/explain and gets a PNG of the
// last item on the reply topic, raw, with the outline where the model
// looks; the same item gives the same bytes; a wrong camera or label is
// a JSON error reply.
func TestExplainCommand(t *testing.T) {
	addr := freePort(t)
	a, sub, cancel, done := startAgent(t, explainConfig(t, addr), addr)
	defer cancel()
	sub.Expect(t, "fruitcam/testbelt/status", "online")
	sub.WaitFor(t, "a result", func(m publishtest.Message) bool { return m.Topic == "fruitcam/testbelt/belt/result" })

	sub.Publish(t, "fruitcam/testbelt/cmd/explain", []byte(`{"camera":"belt","samples":300}`))
	m := sub.WaitFor(t, "the explain reply", func(m publishtest.Message) bool { return m.Topic == "fruitcam/testbelt/cmd/explain/reply" })
	img, err := png.Decode(bytes.NewReader(m.Payload))
	if err != nil {
		t.Fatalf("reply is not a PNG: %v (%.200q)", err, m.Payload)
	}
	if img.Bounds() != image.Rect(0, 0, 64, 64) {
		t.Fatalf("PNG %v, want the frame's 64×64", img.Bounds())
	}
	yellow, inCorner := 0, 0
	for y := range 64 {
		for x := range 64 {
			if r, g, b, _ := img.At(x, y).RGBA(); r == 0xffff && g == 0xffff && b == 0 {
				yellow++
				if limetest.InCorner(x, y, 64) {
					inCorner++
				}
			}
		}
	}
	if yellow == 0 || float64(inCorner) < 0.8*float64(yellow) {
		t.Errorf("%d outline pixels, %d of them in the corner the model looks at", yellow, inCorner)
	}

	// The folder shows the same image every time: every item explains
	// to the same bytes.
	again, err := a.explain([]byte(`{"camera":"belt","samples":300}`))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, m.Payload) {
		t.Error("the same item explained twice gives different PNGs")
	}
	if _, err := a.explain([]byte(`{"label":"other","samples":50}`)); err != nil {
		t.Errorf("label other, the only camera: %v", err)
	}

	for _, bad := range []struct{ payload, want string }{
		{`{"camera":"gate"}`, `"gate" is not one of the 1 cameras`},
		{`{"label":"banana"}`, `label "banana"`},
		{`{"samples":-3}`, "samples -3"},
		{`{"colour":"red"}`, "unknown field"},
	} {
		sub.Publish(t, "fruitcam/testbelt/cmd/explain", []byte(bad.payload))
		m := sub.WaitFor(t, "the explain reply", func(m publishtest.Message) bool { return m.Topic == "fruitcam/testbelt/cmd/explain/reply" })
		r, err := publish.DecodeReply(m.Payload)
		if err != nil || r.OK || !bytes.Contains([]byte(r.Error), []byte(bad.want)) {
			t.Errorf("payload %s: reply %+v (%v), want an error with %q", bad.payload, r, err, bad.want)
		}
	}
	stopAgent(t, cancel, done)
}

// TestExplainNoItem: before a camera has taken anything there is nothing
// to explain.
func TestExplainNoItem(t *testing.T) {
	var k keptFrames
	if _, _, _, ok := k.last("belt"); ok {
		t.Fatal("an empty store has a frame")
	}
	f := capture.NewFrame(image.NewGray(image.Rect(0, 0, 4, 4)), nil)
	f.Item, f.Seq = 7, 9
	k.keep("belt", f)
	if _, item, seq, ok := k.last("belt"); !ok || item != 7 || seq != 9 {
		t.Errorf("kept item %d seq %d (%v), want 7 and 9", item, seq, ok)
	}
}

// TestKeepFrame: keep copies the first frame of each item (the frame's
// buffer is reused by the camera afterwards), and nothing for the other
// frames of the same item.
func TestKeepFrame(t *testing.T) {
	var k keptFrames
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Pix[0] = 10
	f := capture.NewFrame(img, nil)
	f.Item = 1
	k.keep("belt", f)
	img.Pix[0] = 20 // the pool reuses the buffer for the item's next frame
	k.keep("belt", f)
	got, _, _, _ := k.last("belt")
	if v := got.(*image.RGBA).Pix[0]; v != 10 {
		t.Errorf("kept pixel %d, want 10 (the item's first frame, copied)", v)
	}
	f.Item = 2
	k.keep("belt", f)
	got, _, _, _ = k.last("belt")
	if v := got.(*image.RGBA).Pix[0]; v != 20 {
		t.Errorf("kept pixel %d after a new item, want 20", v)
	}
	if n := testing.AllocsPerRun(50, func() { f.Item++; k.keep("belt", f) }); n != 0 {
		t.Errorf("keep allocates %v times per item once warm, want 0", n)
	}
}

// TestCopyImage: every frame layout copies to the same pixels, reusing
// the destination of the same layout and bounds.
func TestCopyImage(t *testing.T) {
	r := image.Rect(3, 1, 13, 8) // odd origin: pairs and chroma blocks split
	fill := func(p []uint8) {
		for i := range p {
			p[i] = uint8(i*37 + 11)
		}
	}
	yuyv := capture.NewYUYV(image.Rect(0, 0, 16, 10))
	fill(yuyv.Pix)
	nv12 := capture.NewNV12(image.Rect(0, 0, 16, 10))
	fill(nv12.Y)
	fill(nv12.UV)
	ycc := image.NewYCbCr(image.Rect(0, 0, 16, 10), image.YCbCrSubsampleRatio420)
	fill(ycc.Y)
	fill(ycc.Cb)
	fill(ycc.Cr)
	gray := image.NewGray(image.Rect(0, 0, 16, 10))
	fill(gray.Pix)
	rgba := image.NewRGBA(image.Rect(0, 0, 16, 10))
	fill(rgba.Pix)
	nrgba := image.NewNRGBA(image.Rect(0, 0, 16, 10))
	fill(nrgba.Pix)
	sub := func(m image.Image) image.Image {
		return m.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(r)
	}
	tests := []struct {
		name string
		src  image.Image
	}{
		{"yuyv", sub(yuyv)}, {"nv12", sub(nv12)}, {"ycbcr", sub(ycc)}, {"gray", sub(gray)}, {"rgba", sub(rgba)}, {"nrgba", sub(nrgba)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := copyImage(nil, tt.src)
			if d.Bounds() != r {
				t.Fatalf("bounds %v, want %v", d.Bounds(), r)
			}
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					if got, want := color.RGBAModel.Convert(d.At(x, y)), color.RGBAModel.Convert(tt.src.At(x, y)); got != want {
						t.Fatalf("(%d,%d) = %v, want %v", x, y, got, want)
					}
				}
			}
			if again := copyImage(d, tt.src); again != d {
				t.Error("a second copy did not reuse the destination")
			}
		})
	}
}
