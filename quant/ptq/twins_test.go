package ptq

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/dataset"
	"github.com/fruitcam/fruitcam/internal/testdata"
	"github.com/fruitcam/fruitcam/internal/tfliteref"
)

// twin is a float model of the shared test data together with the int8
// model TensorFlow's own converter made from the same Keras model.
type twin struct {
	name       string
	float      string // fixture paths
	tfInt8     string
	normalize  preprocess.Normalize
	inputRange [2]float64
	// minAgree is the top-1 agreement with TensorFlow's int8 model that
	// the min/max quantisation must reach.
	minAgree float64
}

var twins = []twin{
	{"vww_96", "models/mlperf_tiny/vww_96_float.tflite", "models/mlperf_tiny/vww_96_int8.tflite",
		preprocess.Unit, [2]float64{0, 1}, 0.98},
	// The CIFAR-10 ResNet is far from its training data on fruit photos:
	// its top two classes are often close, and int8 noise (26 dB at the
	// logits, for TensorFlow's int8 model as for ours) flips them.
	// TensorFlow's own int8 model agrees with its float model on only
	// ~96 % of these images, so two int8 models calibrated on different
	// data cannot agree on 98 %; measured 92.5 %. What must hold instead
	// is parity: ours is at least as faithful to the float model.
	{"pretrainedResnet", "models/mlperf_tiny/pretrainedResnet.tflite", "models/mlperf_tiny/pretrainedResnet_quant.tflite",
		preprocess.None, [2]float64{0, 255}, 0.90},
}

func sampleImages(t *testing.T, dir string, n int) []string {
	t.Helper()
	s, err := dataset.Scan(dir)
	if err != nil {
		testdata.Missing(t, err)
	}
	var out []string
	for _, it := range s.Sample(n).Items {
		out = append(out, it.Path)
	}
	return out
}

// inputs preprocesses every image for an input tensor of model m: the
// slot bytes of each image, one after the other.
func inputs(t *testing.T, m *tfl.Model, norm preprocess.Normalize, paths []string) [][]byte {
	t.Helper()
	sg := &m.Subgraphs[0]
	in := &sg.Tensors[sg.Inputs[0]]
	spec, err := preprocess.ShapeSpec(in.Shape)
	if err != nil {
		t.Fatal(err)
	}
	spec.Normalize = norm
	dst := preprocess.Tensor{Type: in.Type}
	if in.Quant != nil && len(in.Quant.Scale) == 1 {
		dst.Scale, dst.ZeroPoint = in.Quant.Scale[0], int32(in.Quant.ZeroPoint[0])
	}
	p, err := preprocess.New(spec, dst)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, len(paths))
	for i, path := range paths {
		img, err := preprocess.DecodeFile(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out[i] = make([]byte, p.SlotBytes())
		if err := p.Into(out[i], 0, img); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func readModel(t *testing.T, rel string) (*tfl.Model, []byte) {
	t.Helper()
	data, err := os.ReadFile(testdata.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	m, err := tfl.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return m, data
}

// runNative runs m on each input and returns output 0's raw bytes.
func runNative(t *testing.T, m *tfl.Model, ins [][]byte) [][]byte {
	t.Helper()
	it, err := native.New(m, native.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, len(ins))
	for i, in := range ins {
		copy(it.Inputs()[0].Data, in)
		if err := it.Invoke(); err != nil {
			t.Fatal(err)
		}
		out[i] = append([]byte(nil), it.Outputs()[0].Data...)
	}
	return out
}

// runTFLite runs m on all inputs as one batch in the real TensorFlow Lite
// runtime and splits output 0 per input.
func runTFLite(t *testing.T, crun string, model []byte, ins [][]byte) [][]byte {
	t.Helper()
	var batch []byte
	for _, in := range ins {
		batch = append(batch, in...)
	}
	outs, err := tfliteref.RunCLI(context.Background(), crun, model, [][]byte{batch}, len(ins))
	if err != nil {
		t.Fatal(err)
	}
	per := len(outs[0]) / len(ins)
	res := make([][]byte, len(ins))
	for i := range ins {
		res[i] = outs[0][i*per : (i+1)*per]
	}
	return res
}

func crunPath(t *testing.T) string {
	t.Helper()
	crun, err := tfliteref.CRunPath()
	if err != nil {
		testdata.Missing(t, err)
	}
	return crun
}

// scores reads one output as float-comparable numbers: raw codes for
// 8-bit outputs (order is what top-1 needs), values for float32.
func scores(typ tfl.TensorType, b []byte) []float64 {
	switch typ {
	case tfl.Int8:
		out := make([]float64, len(b))
		for i, v := range b {
			out[i] = float64(int8(v))
		}
		return out
	case tfl.Uint8:
		out := make([]float64, len(b))
		for i, v := range b {
			out[i] = float64(v)
		}
		return out
	}
	f := floats(b)
	out := make([]float64, len(f))
	for i, v := range f {
		out[i] = float64(v)
	}
	return out
}

// probs dequantises output 0 of m.
func probs(m *tfl.Model, b []byte) []float64 {
	sg := &m.Subgraphs[0]
	o := &sg.Tensors[sg.Outputs[0]]
	v := scores(o.Type, b)
	if o.Quant != nil && len(o.Quant.Scale) == 1 {
		for i := range v {
			v[i] = (v[i] - float64(o.Quant.ZeroPoint[0])) * float64(o.Quant.Scale[0])
		}
	}
	return v
}

// meanAbsDiff is the mean absolute difference of two models' dequantised
// outputs over all images and classes.
func meanAbsDiff(ma *tfl.Model, a [][]byte, mb *tfl.Model, b [][]byte) float64 {
	var sum float64
	n := 0
	for i := range a {
		pa, pb := probs(ma, a[i]), probs(mb, b[i])
		for k := range pa {
			sum += math.Abs(pa[k] - pb[k])
			n++
		}
	}
	return sum / float64(n)
}

// margins is each image's float top-1 probability minus its top-2.
func margins(m *tfl.Model, outs [][]byte) []float64 {
	res := make([]float64, len(outs))
	for i, o := range outs {
		p := probs(m, o)
		a := argmax(p)
		second := math.Inf(-1)
		for k, v := range p {
			if k != a {
				second = max(second, v)
			}
		}
		res[i] = p[a] - second
	}
	return res
}

// agreementAbove is the top-1 agreement over the images whose margin is at
// least min, and how many such images there are.
func agreementAbove(a, b []int, margin []float64, min float64) (float64, int) {
	same, n := 0, 0
	for i := range a {
		if margin[i] >= min {
			n++
			if a[i] == b[i] {
				same++
			}
		}
	}
	return float64(same) / float64(max(n, 1)), n
}

func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func outputType(m *tfl.Model) tfl.TensorType {
	sg := &m.Subgraphs[0]
	return sg.Tensors[sg.Outputs[0]].Type
}

func top1s(m *tfl.Model, outs [][]byte) []int {
	typ := outputType(m)
	res := make([]int, len(outs))
	for i, o := range outs {
		res[i] = argmax(scores(typ, o))
	}
	return res
}

func agreement(a, b []int) float64 {
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	return float64(same) / float64(len(a))
}

// TestTwins quantises TensorFlow's float twins of the MLPerf Tiny models,
// calibrated on fruit images, and compares them on other fruit images
// (and the Coral test images) with the int8 models TensorFlow's converter
// made: top-1 must agree on at least 98 % of the images. Our int8 model
// runs in both our native engine and the real TensorFlow Lite runtime,
// which must agree within one step.
func TestTwins(t *testing.T) {
	root := testdata.Root(t)
	crun := crunPath(t)
	nCal, nTest := 200, 300
	if testing.Short() {
		nCal, nTest = 60, 80
	}
	calPaths := sampleImages(t, filepath.Join(root, "images/fruits360/Training"), nCal)
	testPaths := sampleImages(t, filepath.Join(root, "images/fruits360/Test"), nTest)
	testPaths = append(testPaths, sampleImages(t, filepath.Join(root, "images/coral"), 0)...)

	for _, tw := range twins {
		t.Run(tw.name, func(t *testing.T) {
			fm, _ := readModel(t, tw.float)
			tm, tdata := readModel(t, tw.tfInt8)
			calIn := inputs(t, fm, tw.normalize, calPaths)
			floatIn := inputs(t, fm, tw.normalize, testPaths)
			floatOut := runNative(t, fm, floatIn)
			floatTop := top1s(fm, floatOut)
			margin := margins(fm, floatOut)
			tfIn := inputs(t, tm, tw.normalize, testPaths)
			tfOut := runTFLite(t, crun, tdata, tfIn)
			tfTop := top1s(tm, tfOut)
			tfVsFloat, tfErr := agreement(tfTop, floatTop), meanAbsDiff(tm, tfOut, fm, floatOut)
			t.Logf("%s: %d calibration images, %d test images; TensorFlow's int8 model: top-1 agreement with float %.1f%%, mean |Δp| %.4f",
				tw.name, len(calPaths), len(testPaths), 100*tfVsFloat, tfErr)

			for _, method := range []Method{MinMax, Percentile} {
				rg := tw.inputRange
				c, err := NewCalibrator(fm, Options{Method: method, InputRange: &rg, Threads: 2})
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				for _, in := range calIn {
					if err := c.Add(in); err != nil {
						t.Fatal(err)
					}
				}
				calTime := time.Since(start)
				qm, err := c.Quantize()
				if err != nil {
					t.Fatal(err)
				}
				qdata, err := tfl.Write(qm)
				if err != nil {
					t.Fatalf("writing the quantised model: %v", err)
				}
				qIn := inputs(t, qm, tw.normalize, testPaths)
				nat := runNative(t, qm, qIn)
				ref := runTFLite(t, crun, qdata, qIn)
				maxD, diffTop := 0, 0
				for i := range nat {
					for k := range nat[i] {
						maxD = max(maxD, abs(int(int8(nat[i][k]))-int(int8(ref[i][k]))))
					}
				}
				natTop, refTop := top1s(qm, nat), top1s(qm, ref)
				for i := range natTop {
					if natTop[i] != refTop[i] {
						diffTop++
					}
				}
				vsTF, vsFloat := agreement(natTop, tfTop), agreement(natTop, floatTop)
				clearTF, nClear := agreementAbove(natTop, tfTop, margin, 0.2)
				ourErr := meanAbsDiff(qm, nat, fm, floatOut)
				t.Logf("%s %s: calibration %v; top-1 agreement with TensorFlow's int8 %.1f%% (%.1f%% of the %d images whose float top-1 leads by >= 0.2), with float %.1f%%; mean |Δp| vs float %.4f; native vs TFLite max |Δ| %d, %d top-1 differences",
					tw.name, method, calTime.Round(time.Millisecond), 100*vsTF, 100*clearTF, nClear, 100*vsFloat, ourErr, maxD, diffTop)
				if maxD > 1 || diffTop > 0 {
					t.Errorf("%s: native and TFLite disagree: max |Δ| %d steps, %d top-1 differences", method, maxD, diffTop)
				}
				if method != MinMax {
					continue
				}
				if vsTF < tw.minAgree {
					t.Errorf("%s: top-1 agreement with TensorFlow's int8 model %.1f%%, want >= %.0f%%", method, 100*vsTF, 100*tw.minAgree)
				}
				// Parity with TensorFlow's quantisation (design.md: our int8
				// accuracy matches or beats theirs), allowing a few images
				// of noise either way.
				if vsFloat < tfVsFloat-0.02 {
					t.Errorf("%s: top-1 agreement with float %.1f%%, TensorFlow's int8 model has %.1f%%", method, 100*vsFloat, 100*tfVsFloat)
				}
				if ourErr > 1.1*tfErr {
					t.Errorf("%s: mean |Δp| vs float %.4f, TensorFlow's int8 model has %.4f", method, ourErr, tfErr)
				}
				checkSpec(t, qm)
				for _, want := range tm.OperatorCodes {
					if got := opcode(qm, want.Builtin); got.Version >= 0 && got.Version != want.Version {
						t.Errorf("%s has version %d, TensorFlow's converter wrote %d", want.Name(), got.Version, want.Version)
					}
				}
			}
		})
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
