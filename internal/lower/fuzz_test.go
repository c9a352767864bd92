package lower

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/keras"
	"github.com/fruitcam/fruitcam/internal/kerasref"
)

// byteReader hands out fuzz bytes, zeros once they run out.
type byteReader struct {
	b []byte
	i int
}

func (r *byteReader) next(n int) int {
	if r.i >= len(r.b) {
		return 0
	}
	r.i++
	return int(r.b[r.i-1]) % n
}

// outputShape lowers m with name as its only output and returns that
// output's per-example shape, or nil when Lower refuses.
func outputShape(m *keras.Model, name string) []int {
	c := *m
	c.Outputs = []string{name}
	res, err := Lower(&c, Options{})
	if err != nil {
		return nil
	}
	sg := res.Model.Subgraphs[0]
	return sg.Tensors[sg.Outputs[0]].Shape[1:]
}

// fuzzModel builds a random graph of up to 8 layers from data. Weights
// are made to fit the shapes Lower itself reports for the layer before,
// so most graphs are valid and the rest fail in interesting places.
func fuzzModel(data []byte) *keras.Model {
	r := &byteReader{b: data}
	b := newKB(uint64(len(data)))
	if r.next(4) == 0 {
		b.input("x", 1+r.next(6))
	} else {
		b.input("image", 1+r.next(7), 1+r.next(7), []int{1, 3, 2, 4}[r.next(4)])
	}
	names := []string{b.last}
	acts := []string{"linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "swish", "hard_swish", "leaky_relu", "hard_sigmoid", "elu"}
	for k := range 8 {
		if r.i >= len(r.b) {
			break
		}
		s := outputShape(b.m, b.last)
		if s == nil {
			break
		}
		c := s[len(s)-1]
		name := fmt.Sprintf("l%d", k)
		pads := []string{"valid", "same"}
		kernel := 1 + r.next(3)
		mods := []func(*keras.Layer){func(l *keras.Layer) {
			l.Padding = pads[r.next(2)]
			l.Strides = [2]int{1 + r.next(2), 1 + r.next(2)}
			if r.next(4) == 0 {
				l.Dilation = [2]int{2, 2}
				l.Strides = [2]int{1, 1}
			}
			l.Activation = acts[r.next(len(acts))]
		}}
		other := names[r.next(len(names))]
		switch r.next(20) {
		case 0:
			b.add(b.conv(name, c, 1+r.next(4), kernel, mods...))
		case 1:
			b.add(b.depthwise(name, c, 1+r.next(2), kernel, mods...))
		case 2:
			b.add(b.separable(name, c, 1+r.next(2), 1+r.next(4), kernel, mods...))
		case 3:
			b.add(b.dense(name, c, 1+r.next(5), acts[r.next(len(acts))]))
		case 4:
			b.add(b.batchNorm(name, c))
		case 5:
			b.add(act(name, acts[r.next(len(acts))]))
		case 6:
			b.add(&keras.Layer{Name: name, Class: "ReLU", MaxValue: []*float64{nil, f64(6), f64(1), f64(2)}[r.next(4)], Alpha: float64(r.next(2)) / 4})
		case 7:
			b.add(&keras.Layer{Name: name, Class: "LeakyReLU", Alpha: 0.3})
		case 8:
			b.add(pool(name, []string{"MaxPooling2D", "AveragePooling2D"}[r.next(2)], 1+r.next(3), 1+r.next(3), pads[r.next(2)]))
		case 9:
			b.add(&keras.Layer{Name: name, Class: "GlobalAveragePooling2D", KeepDims: r.next(2) == 0})
		case 10:
			b.add(&keras.Layer{Name: name, Class: "ZeroPadding2D", Pad: [2][2]int{{r.next(3), r.next(3)}, {r.next(3), r.next(3)}}})
		case 11:
			b.add(layer(name, "Flatten"))
		case 12:
			b.add(&keras.Layer{Name: name, Class: "Reshape", TargetShape: [][]int{{-1}, {c, -1}, {-1, 2}}[r.next(3)]})
		case 13:
			b.add(&keras.Layer{Name: name, Class: "Dropout"})
		case 14:
			b.add(layer(name, []string{"Add", "Multiply"}[r.next(2)]), b.last, other)
		case 15:
			b.add(&keras.Layer{Name: name, Class: "Concatenate", Axis: []int{-1 - r.next(2)}}, b.last, other)
		case 16:
			b.add(rescaling(name, [][]float64{{1.0 / 255}, {2}, {1, 2, 3}}[r.next(3)], []float64{float64(r.next(3)) - 1}))
		case 17:
			b.add(normalization(name, []float64{float64(r.next(5))}, []float64{float64(r.next(5))}))
		case 18:
			b.add(&keras.Layer{Name: name, Class: "Softmax", Axis: []int{-1 - r.next(2)}})
		default:
			b.add(&keras.Layer{Name: name, Class: "UpSampling2D"})
		}
		names = append(names, name)
	}
	outs := []string{b.last}
	if r.next(3) == 0 && len(names) > 2 {
		outs = append(outs, names[1])
	}
	return b.outputs(outs...)
}

// FuzzLower checks on random graphs that Lower never panics, refuses
// with a typed error naming a layer, and that every model it returns is
// written, read back and run by our engine.
func FuzzLower(f *testing.F) {
	for _, seed := range [][]byte{
		{1, 5, 5, 1, 0, 2, 1, 0, 1, 1, 4, 5, 3, 2},
		{1, 7, 7, 3, 1, 1, 0, 1, 0, 1, 3, 4, 0},
		{0, 5, 3, 2, 1, 0, 5, 2, 14, 0, 1},
		{2, 4, 6, 2, 2, 1, 1, 1, 1, 0, 2, 3, 15, 1, 0, 11, 3, 2, 5, 1},
		{3, 6, 6, 0, 16, 0, 0, 0, 0, 4, 0, 2, 1, 0, 0, 9, 1, 3, 0, 1},
		{1, 6, 6, 1, 10, 1, 2, 0, 1, 8, 1, 1, 1, 12, 0, 2, 6, 1, 2},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := fuzzModel(data)
		res, err := Lower(m, Options{})
		if err != nil {
			var unsup *UnsupportedError
			var bad *ModelError
			if !errors.As(err, &unsup) && !errors.As(err, &bad) {
				t.Fatalf("untyped error %v", err)
			}
			if !strings.HasPrefix(err.Error(), "lower: layer ") {
				t.Fatalf("error %q does not name a layer", err)
			}
			return
		}
		out, err := tfl.Write(res.Model)
		if err != nil {
			t.Fatalf("lowered model cannot be written: %v", err)
		}
		pm, err := tfl.Parse(out)
		if err != nil {
			t.Fatalf("written model cannot be read: %v", err)
		}
		it, err := native.New(pm, native.Options{})
		if err != nil {
			t.Fatalf("our engine refuses the lowered model: %v\nlayers: %v", err, layerClasses(m))
		}
		if err := it.Invoke(); err != nil {
			t.Fatal(err)
		}
		for i, o := range it.Outputs() {
			want := pm.Subgraphs[0].Tensors[pm.Subgraphs[0].Outputs[i]].Shape
			if !slices.Equal(o.Shape, want) {
				t.Fatalf("output %d: the engine computes shape %v, the model declares %v", i, o.Shape, want)
			}
		}
	})
}

func layerClasses(m *keras.Model) []string {
	var out []string
	for _, l := range m.Layers {
		out = append(out, l.Class)
	}
	return out
}

// TestRandomGraphs runs random graphs that Lower accepts through the
// real TensorFlow Lite runtime, our engine and the Keras forward pass: a
// property test over layer combinations nobody thought to write down.
func TestRandomGraphs(t *testing.T) {
	want := 40
	if testing.Short() {
		want = 10
	}
	withRef := haveRef(t)
	r := rand.New(rand.NewPCG(3, 4))
	done, tried := 0, 0
	worst := 0.0
	for done < want && tried < 100*want {
		tried++
		data := make([]byte, 8+r.IntN(30))
		for i := range data {
			data[i] = byte(r.IntN(256))
		}
		m := fuzzModel(data)
		res, err := Lower(m, Options{})
		if err != nil || len(res.Model.Subgraphs[0].Operators) < 2 {
			continue
		}
		done++
		sg := res.Model.Subgraphs[0]
		x := randomFloats(r, tfl.NumElements(sg.Tensors[sg.Inputs[0]].Shape), -2, 2)
		model := mustWrite(t, res.Model)
		got := runNative(t, model, [][]float32{x}, 1)
		ref := got
		if withRef {
			ref = runRef(t, model, [][]float32{x}, 1)
		}
		kr, err := kerasref.Forward(m, [][]float32{x})
		if err != nil {
			t.Fatalf("kerasref refuses %v: %v", layerClasses(m), err)
		}
		scale := max(maxAbs(got), 1)
		d1 := maxDiff(t, "engine vs TFLite", got, ref)
		d2 := max(maxDiff(t, "TFLite vs kerasref", ref, kr), maxDiff(t, "engine vs kerasref", got, kr))
		worst = max(worst, max(d1, d2)/scale)
		if d1 > 1e-5*scale || d2 > 1e-5*scale {
			t.Errorf("graph %v (seed %v): engine vs TFLite %g, vs kerasref %g (scale %g)", layerClasses(m), data, d1, d2, scale)
		}
	}
	if done < want {
		t.Fatalf("only %d of %d random graphs lowered in %d tries", done, want, tried)
	}
	t.Logf("%d random graphs (of %d tried): worst relative difference %.2g", done, tried, worst)
}
