//go:build tflite && cgo

package infer_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/conformance"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// TestTFLiteXNNPACK runs every conformance model through the XNNPACK
// delegate and compares it with the library's default kernels. XNNPACK
// rounds its 8-bit requantisation its own way, so outputs may differ by a
// few steps; the top-1 must agree on real inputs (photos, hand-picked
// values), and the differences go to the log.
func TestTFLiteXNNPACK(t *testing.T) {
	root := testdata.Root(t)
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-36s %-6s %9s %7s %s\n", "model", "kind", "max|Δ|", "top1", "histogram vs default kernels")
	for _, c := range conformance.Cases {
		t.Run(c.Name(), func(t *testing.T) {
			pc := loadParityCase(t, root, c)
			inputs := pc.inputs
			if testing.Short() {
				inputs = inputs[:1]
			}
			def := run(t, pc.file, infer.Options{Backend: infer.BackendTFLite, Threads: 1}, inputs)
			xnn := run(t, pc.file, infer.Options{Backend: infer.BackendTFLite, Threads: 1, XNNPACK: true}, inputs)
			e, err := infer.NewEngine(pc.file, infer.Options{Backend: infer.BackendTFLite})
			if err != nil {
				t.Fatal(err)
			}
			outs := e.Outputs()
			e.Close()
			d := diff(t, outs, xnn, def)
			kind := "quant"
			if d.Float {
				kind = "float"
			}
			fmt.Fprintf(&table, "%-36s %-6s %9s %3d/%-3d %s\n", c.Name(), kind, d.Max(), d.Top1, d.Rows, d.Histogram())
			for k, in := range inputs {
				one := diff(t, outs, xnn[k:k+1], def[k:k+1])
				if one.Top1 == one.Rows || c.Sources[k].Kind == conformance.Random {
					continue
				}
				// A real input may change class only when the default
				// kernels' top two are closer than XNNPACK's deviation.
				if gap := margin(outs[0], def[k][0]); one.Float || gap > 2*one.MaxSteps {
					t.Errorf("input %d (%s): top-1 differs with XNNPACK (max %s) although the top two are %d steps apart", k, in.Name, one.Max(), gap)
				} else {
					t.Logf("input %d (%s): top-1 differs with XNNPACK (max %s): a near tie, %d steps", k, in.Name, one.Max(), gap)
				}
			}
		})
	}
	t.Log(table.String())
}

// margin is the distance in steps between the two largest values of a
// quantised output (its first row).
func margin(info infer.TensorInfo, b []byte) int {
	n := info.Shape[len(info.Shape)-1]
	first, second := -1<<30, -1<<30
	for _, raw := range b[:n] {
		v := int(raw)
		if info.Type == tfl.Int8 {
			v = int(int8(raw))
		}
		if v > first {
			first, second = v, first
		} else if v > second {
			second = v
		}
	}
	return first - second
}

// BenchmarkTFLiteXNNPACK times MobileNet v2 (uint8, which this library's
// XNNPACK leaves to the default kernels, and int8, which it runs) and
// ResNet-8 float on the default kernels and on XNNPACK, one thread.
func BenchmarkTFLiteXNNPACK(b *testing.B) {
	for _, m := range []string{"coral/mobilenet_v2_1.0_224_quant.tflite", "coral/tf2_mobilenet_v2_1.0_224_ptq.tflite", "mlperf_tiny/pretrainedResnet.tflite"} {
		f, err := infer.ReadFile(testdata.Path(b, "models/"+m))
		if err != nil {
			b.Fatal(err)
		}
		for _, x := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/xnnpack=%v", strings.TrimSuffix(m[strings.Index(m, "/")+1:], ".tflite"), x), func(b *testing.B) {
				e, err := infer.NewEngine(f, infer.Options{Backend: infer.BackendTFLite, Threads: 1, XNNPACK: x})
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close()
				for b.Loop() {
					if err := e.Invoke(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
