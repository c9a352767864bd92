//go:build tfliteref && cgo

package featuremap_test

import (
	"testing"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/internal/featuremap"
	"github.com/fruitcam/fruitcam/internal/testdata"
	"github.com/fruitcam/fruitcam/internal/tfliteref"
)

// TestAgreesWithTFLiteInProcess repeats the proof with the TensorFlow Lite
// C library linked into the test (tfliteref.RunC, build tag tfliteref)
// rather than through the tflite-c-run program, for the int8 and float
// fruit CNN and MobileNet v2; the tolerances are TestAgreesWithTFLite's.
func TestAgreesWithTFLiteInProcess(t *testing.T) {
	run := func(model, input []byte) ([][]byte, error) {
		r, err := tfliteref.RunC(model, [][]byte{input}, tfliteref.Options{})
		if err != nil {
			return nil, err
		}
		return r.OutputBytes(), nil
	}
	flt, q8 := fruitCNN(t)
	mnv2, err := infer.ReadFile(testdata.Path(t, "models/coral/mobilenet_v2_1.0_224_quant.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []*infer.File{flt, q8, mnv2} {
		e, err := featuremap.New(f, featuremap.Options{All: true})
		if err != nil {
			t.Fatal(err)
		}
		a := agreeWith(t, e, f, firstImage(t, "images/fruits360/Test/Banana"), run)
		t.Logf("%s (%s): %d tensors: worst %.3g steps, %.3g relative, at %s", f.Path, tfliteref.CVersion(), a.tensors, a.worstSteps, a.worstFloat, a.where)
		if a.nonzero == 0 || a.worstSteps > 0 || a.worstFloat > 1e-4 {
			t.Errorf("%s: %d non-zero values; differs by %.3g steps / %.3g relative at %s", f.Path, a.nonzero, a.worstSteps, a.worstFloat, a.where)
		}
	}
}
