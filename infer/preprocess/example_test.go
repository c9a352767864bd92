package preprocess_test

import (
	"fmt"
	"image"
	"image/color"

	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/infer/tfl"
)

// A MobileNet-style uint8 input (scale 1/128, zero point 128) is
// recognised as symmetric, and takes raw pixel values. The bilinear
// filter widens to 4 source pixels per side when shrinking 8 to 2 (PIL's
// antialiasing), so green 0,16,..,112 averages to 30 and 82.
func Example() {
	input := preprocess.Tensor{Type: tfl.Uint8, Scale: 1.0 / 128, ZeroPoint: 128}
	norm, err := preprocess.GuessNormalize(input)
	if err != nil {
		panic(err)
	}
	spec, err := preprocess.ShapeSpec([]int{1, 2, 2, 3})
	if err != nil {
		panic(err)
	}
	spec.Normalize, spec.Resize = norm, preprocess.Bilinear
	p, err := preprocess.New(spec, input)
	if err != nil {
		panic(err)
	}
	img := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	for y := range 8 {
		for x := range 8 {
			img.Set(x, y, color.NRGBA{R: 250, G: uint8(16 * x), B: 10, A: 255})
		}
	}
	tensor := make([]byte, 2*p.SlotBytes()) // a batch of two
	if err := p.Into(tensor, 1, img); err != nil {
		panic(err)
	}
	fmt.Println(norm, p.PixelsExact(), tensor[p.SlotBytes():])
	// Output: symmetric true [250 30 10 250 82 10 250 30 10 250 82 10]
}
