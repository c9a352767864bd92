package capture

import (
	"context"
	"image"
	"math/rand/v2"
	"testing"

	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/infer/tfl"
)

func BenchmarkYUYVRow640(b *testing.B) {
	m := randomYUYV(rand.New(rand.NewPCG(1, 1)), image.Rect(0, 0, 640, 480), 0, BT601Limited)
	dst := make([]uint8, 3*640)
	b.SetBytes(640 * 2)
	for i := 0; b.Loop(); i++ {
		m.RGBRow(i%480, dst)
	}
}

// BenchmarkV4L2Read640 is the per-frame cost of the camera path on a fake
// device: dequeue, copy 640x480 YUYV into the pool, requeue, release.
func BenchmarkV4L2Read640(b *testing.B) {
	f := Format{Pixel: PixYUYV, FourCC: "YUYV", Width: 640, Height: 480}
	f.check()
	c := newFakeClock()
	dev := &fakeDevice{format: f, frames: frameBytes(f, 2), clock: c}
	v, err := openV4L2(V4L2Options{}, func(V4L2Options) (device, error) { return dev, nil }, c)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.SetBytes(int64(f.frameBytes()))
	b.ReportAllocs()
	for b.Loop() {
		fr, err := v.Read(ctx)
		if err != nil {
			b.Fatal(err)
		}
		fr.Release()
	}
}

// BenchmarkClassifierInput640 is a 640x480 YUYV frame into a 224x224 uint8
// input (bilinear): "row" converts only the sampled rows in the resize
// pass (RowImage); "convert-first" converts the whole frame to RGBA and
// then resizes, the alternative RowImage avoids.
func BenchmarkClassifierInput640(b *testing.B) {
	m := randomYUYV(rand.New(rand.NewPCG(2, 2)), image.Rect(0, 0, 640, 480), 0, BT601Limited)
	for _, method := range []preprocess.Resize{preprocess.Nearest, preprocess.Bilinear} {
		p, err := preprocess.New(preprocess.Spec{Width: 224, Height: 224, Channels: 3, Resize: method}, preprocess.Tensor{Type: tfl.Uint8, Scale: 1.0 / 255})
		if err != nil {
			b.Fatal(err)
		}
		dst := make([]byte, p.SlotBytes())
		b.Run(string(method)+"/row", func(b *testing.B) {
			for b.Loop() {
				if err := p.Into(dst, 0, m); err != nil {
					b.Fatal(err)
				}
			}
		})
		rgba := image.NewRGBA(m.Rect)
		row := make([]uint8, 3*640)
		b.Run(string(method)+"/convert-first", func(b *testing.B) {
			for b.Loop() {
				for y := range 480 {
					m.RGBRow(y, row)
					d := rgba.Pix[y*rgba.Stride:]
					for x := range 640 {
						d[4*x], d[4*x+1], d[4*x+2], d[4*x+3] = row[3*x], row[3*x+1], row[3*x+2], 255
					}
				}
				if err := p.Into(dst, 0, rgba); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
