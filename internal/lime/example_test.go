package lime_test

import (
	"context"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/lime"
	"github.com/fruitcam/fruitcam/internal/lime/limetest"
)

// Explain a model that looks only at the top-left quarter of its input:
// the superpixel that matters most lies there.
func Example() {
	data, _ := tfl.Write(limetest.RegionModel())
	dir, _ := os.MkdirTemp("", "lime")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "region.tflite")
	os.WriteFile(path, data, 0o644)

	f, err := infer.ReadFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	cls, closeAll, err := lime.NativeClassifiers(f, 2, infer.ClassifierOptions{}) // one engine of one thread per core
	if err != nil {
		fmt.Println(err)
		return
	}
	defer closeAll()
	img := limetest.RegionImage(64, 1)
	e, err := lime.Explain(context.Background(), cls, img, lime.Options{Samples: 300, Seed: 42})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := e.Classes[0]
	top := c.Weights[0].Segment
	var x, y, n int
	for p, s := range e.Segments {
		if int(s) == top {
			x, y, n = x+p%e.Width, y+p/e.Width, n+1
		}
	}
	fmt.Printf("class %s; top superpixel centred at (%d, %d) of %d×%d, weight > 0: %v\n",
		c.Label, x/n/(e.Width/2), y/n/(e.Height/2), 2, 2, c.Weights[0].Weight > 0)

	ov, _ := e.Overlay(img, 0, lime.RenderOptions{MaskOptions: lime.MaskOptions{Features: 5}, HideRest: true})
	png.Encode(io.Discard, ov) // or a file: the image with the 5 superpixels outlined, the rest dimmed
	// Output:
	// class corner; top superpixel centred at (0, 0) of 2×2, weight > 0: true
}
