package featuremap_test

import (
	"fmt"

	"github.com/fruitcam/fruitcam/internal/featuremap"
)

// A 2×2 map of two channels. The first holds 0, 1, 2, 3: mean 1.5,
// standard deviation √1.25, so 0 becomes (0 − 1.5)/1.118·64 + 128 = 42.1,
// shown as 42. The second is constant and shows flat grey.
func ExampleMap_Normalize() {
	m := featuremap.Map{Height: 2, Width: 2, Channels: 2, Values: []float32{
		0, 5, // (y 0, x 0): channel 0, channel 1
		1, 5,
		2, 5,
		3, 5,
	}}
	display := make([]uint8, 8)
	m.Normalize(display, nil)
	fmt.Println("channel 0:", display[:4])
	fmt.Println("channel 1:", display[4:])
	// Output:
	// channel 0: [42 99 156 213]
	// channel 1: [128 128 128 128]
}
