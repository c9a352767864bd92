package gemm_test

import (
	"fmt"

	"github.com/fruitcam/fruitcam/infer/native/gemm"
	"github.com/fruitcam/fruitcam/quant"
)

// A uint8 fully connected layer with two inputs and two units: weights
// packed once, then any number of rows multiplied.
func Example() {
	weights := []uint8{
		130, 126, // unit 0: (2, -2) around zero point 128
		138, 128, // unit 1: (10, 0)
	}
	w := gemm.PackUint8(weights, 2, 2, 128)
	mult, shift := quant.QuantizeMultiplier(0.5)
	g, err := gemm.NewInt8(w, 100, true, []int32{4, 0}, gemm.Requant{
		Multiplier: []int32{mult}, Shift: []int{shift},
		ZeroPoint: 128, Min: 0, Max: 255, Uint8: true,
	})
	if err != nil {
		panic(err)
	}
	input := []uint8{103, 101} // (3, 1) around zero point 100
	out := make([]uint8, 2)
	g.Run(1, out, 2, input, 2, 1)
	// unit 0: (3·2 + 1·(-2) + 4) / 2 = 4; unit 1: (3·10) / 2 = 15; plus 128.
	fmt.Println(out[0], out[1])
	// Output: 132 143
}
