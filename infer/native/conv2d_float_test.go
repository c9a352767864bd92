package native

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fruitcam/fruitcam/infer/native/gemm"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/quant"
)

// TestConv2DFloatPadded: float convolutions read in place from the input
// or its padded copy (conv2d_float.go) sum exactly as the float32 loop
// below does, in the filter's (ky, kx, c) order with padding taps as +0
// inputs, bit for bit: strides, vertical dilation, SAME padding that pads
// only the bottom and right, VALID windows that leave input unread,
// batches, threads, and channel counts around the kernels' widths.
func TestConv2DFloatPadded(t *testing.T) {
	if !gemm.Float32Segmented() {
		t.Skip("this CPU's float kernel gathers convolution rows instead (rowwise, im2col)")
	}
	rng := rand.New(rand.NewPCG(30, 31))
	for i := range 80 {
		c := randConvCase(rng, tfl.Float32, false, false)
		for {
			c.inH, c.inW, c.inC = 1+rng.IntN(14), 1+rng.IntN(14), []int{1, 3, 8, 16, 17, 32}[rng.IntN(6)]
			c.kh, c.kw = 1+rng.IntN(3), 1+rng.IntN(3)
			c.sh, c.sw, c.dilH, c.dilW = 1+rng.IntN(2), 1+rng.IntN(2), 1+rng.IntN(2), 1
			c.pad = tfl.Padding(rng.IntN(2))
			c.outC = []int{1, 5, 16, 17, 32, 40, 64, 70}[rng.IntN(8)]
			c.batch = 1 + rng.IntN(3)
			if _, err := computeWindow(c.pad, c.inH, c.inW, c.kh, c.kw, c.sh, c.sw, c.dilH, c.dilW); err == nil {
				break
			}
		}
		c.fill(rng, false)
		name := fmt.Sprintf("#%d %+v", i, *c)
		got := view[float32](runBytes(t, c, newConv2D, tfl.OpConv2D, convOpts(c), false, 1+i%3))
		want := refConvFloat32(c)
		for j := range want {
			if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
				t.Fatalf("%s: out[%d] = %g, want %g", name, j, got[j], want[j])
			}
		}
	}
}

// refConvFloat32 is the float convolution summed in float32 in (ky, kx, c)
// order from +0, taps outside the input reading +0.
func refConvFloat32(c *convCase) []float32 {
	w := c.window()
	lo, hi := quant.ActivationRangeFloat(int(c.act))
	out := make([]float32, 0, c.batch*w.outH*w.outW*c.outC)
	for b := range c.batch {
		for oy := range w.outH {
			for ox := range w.outW {
				for o := range c.outC {
					var acc float32
					for ky := range c.kh {
						for kx := range c.kw {
							iy, ix := oy*c.sh-w.padT+ky*c.dilH, ox*c.sw-w.padL+kx*c.dilW
							for ch := range c.inC {
								var x float32
								if iy >= 0 && iy < c.inH && ix >= 0 && ix < c.inW {
									x = c.inF[((b*c.inH+iy)*c.inW+ix)*c.inC+ch]
								}
								acc += x * c.fF[((o*c.kh+ky)*c.kw+kx)*c.inC+ch]
							}
						}
					}
					if c.hasBias {
						acc += c.biasF[o]
					} else {
						acc += 0
					}
					out = append(out, min(max(acc, lo), hi))
				}
			}
		}
	}
	return out
}
