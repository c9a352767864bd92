package lower

import (
	"errors"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/internal/keras"
)

// TestLowerErrors checks that what cannot be lowered is refused with an
// error of the right type that names the layer, never a panic or a model
// that computes something else.
func TestLowerErrors(t *testing.T) {
	cases := []struct {
		name        string
		build       func(b *kb) *keras.Model
		layer       string
		unsupported bool   // *UnsupportedError, else *ModelError
		contains    string // more text the message must hold
	}{
		{"unknown layer class", func(b *kb) *keras.Model {
			b.input("x", 4, 3)
			b.add(&keras.Layer{Name: "lstm", Class: "LSTM"})
			return b.outputs()
		}, "lstm", true, "layer class LSTM"},
		{"elu activation layer", func(b *kb) *keras.Model {
			b.input("x", 4)
			b.add(act("activation", "elu"))
			return b.outputs()
		}, "activation", true, `activation "elu"`},
		{"gelu on a conv", func(b *kb) *keras.Model {
			b.input("image", 4, 4, 3)
			b.add(b.conv("conv2d", 3, 2, 3, activation("gelu")))
			return b.outputs()
		}, "conv2d", true, `activation "gelu"`},
		{"hard_sigmoid of unknown keras version", func(b *kb) *keras.Model {
			b.input("x", 4)
			b.add(act("activation", "hard_sigmoid"))
			return b.outputs()
		}, "activation", true, "Keras 2 and 3"},
		{"relu threshold", func(b *kb) *keras.Model {
			b.input("x", 4)
			b.add(&keras.Layer{Name: "re_lu", Class: "ReLU", Threshold: 0.5})
			return b.outputs()
		}, "re_lu", true, "threshold"},
		{"relu max 3", func(b *kb) *keras.Model {
			b.input("x", 4)
			b.add(&keras.Layer{Name: "re_lu", Class: "ReLU", MaxValue: f64(3)})
			return b.outputs()
		}, "re_lu", true, "max_value 3"},
		{"softmax over height", func(b *kb) *keras.Model {
			b.input("image", 4, 4, 3)
			b.add(&keras.Layer{Name: "softmax", Class: "Softmax", Axis: []int{1}})
			return b.outputs()
		}, "softmax", true, "axis"},
		{"normalization over several axes", func(b *kb) *keras.Model {
			b.input("image", 2, 2, 3)
			b.add(b.conv("conv2d", 3, 3, 1))
			b.add(&keras.Layer{Name: "normalization", Class: "Normalization", Axis: []int{1, 2, 3},
				Mean: make([]float64, 12), Variance: make([]float64, 12)})
			return b.outputs()
		}, "normalization", true, "axis"},
		{"dense kernel does not fit", func(b *kb) *keras.Model {
			b.input("x", 4)
			b.add(b.dense("dense", 5, 3, "linear"))
			return b.outputs()
		}, "dense", false, "want [4 3]"},
		{"conv on a vector", func(b *kb) *keras.Model {
			b.input("x", 4)
			b.add(b.conv("conv2d", 4, 2, 1))
			return b.outputs()
		}, "conv2d", false, "not [height, width, channels]"},
		{"valid window larger than input", func(b *kb) *keras.Model {
			b.input("image", 3, 3, 1)
			b.add(b.conv("conv2d", 1, 2, 5))
			return b.outputs()
		}, "conv2d", false, "does not fit"},
		{"pool larger than input", func(b *kb) *keras.Model {
			b.input("image", 3, 3, 1)
			b.add(pool("max_pooling2d", "MaxPooling2D", 4, 4, "valid"))
			return b.outputs()
		}, "max_pooling2d", false, "does not fit"},
		{"missing kernel", func(b *kb) *keras.Model {
			b.input("image", 3, 3, 1)
			l := b.conv("conv2d", 1, 2, 1)
			delete(l.Weights, "kernel")
			b.add(l)
			return b.outputs()
		}, "conv2d", false, "no kernel"},
		{"reshape of the wrong size", func(b *kb) *keras.Model {
			b.input("x", 4, 6)
			b.add(&keras.Layer{Name: "reshape", Class: "Reshape", TargetShape: []int{7, -1}})
			return b.outputs()
		}, "reshape", false, "cannot reshape"},
		{"add of different channels", func(b *kb) *keras.Model {
			b.input("image", 4, 4, 3)
			x := b.add(b.conv("a", 3, 2, 1))
			y := b.add(b.conv("b", 3, 4, 1), "image")
			b.add(layer("add", "Add"), x, y)
			return b.outputs()
		}, "add", false, "cannot be broadcast"},
		{"concatenate of different heights", func(b *kb) *keras.Model {
			b.input("image", 4, 4, 3)
			x := b.add(b.conv("a", 3, 2, 1))
			y := b.add(b.conv("b", 3, 2, 3), "image")
			b.add(&keras.Layer{Name: "concatenate", Class: "Concatenate", Axis: []int{-1}}, x, y)
			return b.outputs()
		}, "concatenate", false, "differ outside"},
		{"concatenate on the batch axis", func(b *kb) *keras.Model {
			b.input("x", 4)
			y := b.input("y", 4)
			b.add(&keras.Layer{Name: "concatenate", Class: "Concatenate", Axis: []int{0}}, "x", y)
			return b.outputs()
		}, "concatenate", false, "not a feature axis"},
		{"batch norm of the wrong size", func(b *kb) *keras.Model {
			b.input("image", 4, 4, 3)
			b.add(b.conv("conv2d", 3, 2, 1))
			b.add(b.batchNorm("batch_normalization", 5))
			return b.outputs()
		}, "batch_normalization", false, "has 5 values"},
		{"input of unknown size", func(b *kb) *keras.Model {
			b.input("image", -1, -1, 3)
			b.add(b.conv("conv2d", 3, 2, 1))
			return b.outputs()
		}, "image", false, "fixed size"},
		{"rescaling with too many scales", func(b *kb) *keras.Model {
			b.input("x", 4)
			b.add(b.dense("dense", 4, 2, "linear"))
			b.add(rescaling("rescaling", []float64{1, 2, 3}, []float64{0}))
			return b.outputs()
		}, "rescaling", false, "3 values"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Lower(c.build(newKB(uint64(i))), Options{})
			if err == nil {
				t.Fatalf("Lower succeeded (%d operators), want an error naming %q", len(res.Model.Subgraphs[0].Operators), c.layer)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "lower: ") || !strings.Contains(msg, `"`+c.layer+`"`) || !strings.Contains(msg, c.contains) {
				t.Errorf("error %q: want the package prefix, layer %q and %q", msg, c.layer, c.contains)
			}
			var unsup *UnsupportedError
			var bad *ModelError
			switch {
			case c.unsupported && !errors.As(err, &unsup):
				t.Errorf("error %T, want *UnsupportedError", err)
			case !c.unsupported && !errors.As(err, &bad):
				t.Errorf("error %T, want *ModelError", err)
			case unsup != nil && unsup.Fix == "":
				t.Errorf("unsupported error %q says nothing about what to do", msg)
			}
		})
	}
}

func TestLowerEmptyModel(t *testing.T) {
	for _, m := range []*keras.Model{nil, {}, {Layers: []*keras.Layer{{Name: "x", Class: "InputLayer", Shape: []int{-1, 2}}}}} {
		if _, err := Lower(m, Options{}); err == nil {
			t.Errorf("Lower(%v) succeeded, want an error", m)
		}
	}
}
