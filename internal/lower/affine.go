package lower

import (
	"fmt"
	"math"
	"slices"

	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/keras"
)

// normalizationEpsilon is Keras' backend epsilon, the floor Normalization
// puts under the standard deviation.
const normalizationEpsilon = 1e-7

// affine is y = a*x + b along the last axis: a and b hold one value, or
// one per channel.
type affine struct{ a, b []float64 }

// at is the affine of channel c.
func (f affine) at(c int) (a, b float64) {
	a, b = f.a[0], f.b[0]
	if len(f.a) > 1 {
		a = f.a[c]
	}
	if len(f.b) > 1 {
		b = f.b[c]
	}
	return a, b
}

// normStats returns a Normalization layer's mean and standard deviation
// (floored at Keras' epsilon), one value or one per channel of an input
// of per-example shape s.
func normStats(l *keras.Layer, s []int) (mean, std []float64, err error) {
	mean, variance := l.Mean, l.Variance
	if mean == nil {
		mw, vw := l.Weights["mean"], l.Weights["variance"]
		if mw == nil || vw == nil {
			return nil, nil, shapeError(l, "has neither mean/variance in its config nor adapted mean/variance weights")
		}
		for _, v := range mw.Data {
			mean = append(mean, float64(v))
		}
		for _, v := range vw.Data {
			variance = append(variance, float64(v))
		}
	}
	if len(mean) == 0 || len(mean) != len(variance) {
		return nil, nil, shapeError(l, "mean has %d values, variance %d", len(mean), len(variance))
	}
	last := len(s) > 0 && (slices.Equal(l.Axis, []int{-1}) || slices.Equal(l.Axis, []int{len(s)}))
	switch {
	case len(mean) == 1:
	case last && len(mean) == s[len(s)-1]:
	default:
		return nil, nil, &UnsupportedError{Layer: l.Name, Class: l.Class,
			What: fmt.Sprintf("normalisation over axis %v with %d statistics for an input of shape %v", l.Axis, len(mean), s),
			Fix:  "only a single mean/variance or one per channel (axis=-1) is supported"}
	}
	std = make([]float64, len(variance))
	for i, v := range variance {
		if v < 0 {
			return nil, nil, shapeError(l, "variance %g is negative", v)
		}
		std[i] = max(math.Sqrt(v), normalizationEpsilon)
	}
	return mean, std, nil
}

// layerAffine is the affine map a Rescaling or Normalization layer
// computes: Rescaling x*scale + offset; Normalization (x - mean)/std, or
// mean + x*std when inverted.
func layerAffine(l *keras.Layer, s []int) (affine, error) {
	channels := 0
	if len(s) > 0 {
		channels = s[len(s)-1]
	}
	check := func(name string, v []float64) error {
		if len(v) == 0 {
			return shapeError(l, "has no %s", name)
		}
		if len(v) > 1 && len(v) != channels {
			return shapeError(l, "%s has %d values for an input with %d channels", name, len(v), channels)
		}
		return nil
	}
	if l.Class == "Rescaling" {
		if err := check("scale", l.RescaleScale); err != nil {
			return affine{}, err
		}
		if err := check("offset", l.RescaleOffset); err != nil {
			return affine{}, err
		}
		return affine{a: l.RescaleScale, b: l.RescaleOffset}, nil
	}
	mean, std, err := normStats(l, s)
	if err != nil {
		return affine{}, err
	}
	f := affine{a: make([]float64, len(mean)), b: make([]float64, len(mean))}
	for i := range mean {
		if l.Invert {
			f.a[i], f.b[i] = std[i], mean[i]
		} else {
			f.a[i], f.b[i] = 1/std[i], -mean[i]/std[i]
		}
	}
	return f, nil
}

func toFloat32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func all(v []float64, x float64) bool {
	for _, y := range v {
		if y != x {
			return false
		}
	}
	return true
}

// affineLayer lowers a Rescaling or Normalization layer that was not
// folded into the input normalisation. Each becomes the operators that
// compute it in Keras' order: Rescaling MUL then ADD; Normalization ADD
// (-mean) then MUL (1/std), or MUL then ADD when inverted. Identity parts
// are left out.
func (lw *lowerer) affineLayer(l *keras.Layer, in *value) (*value, error) {
	if _, err := layerAffine(l, in.shape); err != nil {
		return nil, err
	}
	type step struct {
		code tfl.BuiltinOp
		c    []float64
		id   float64 // the identity constant of code
		what string
	}
	var steps []step
	if l.Class == "Rescaling" {
		steps = []step{{tfl.OpMul, l.RescaleScale, 1, "scale"}, {tfl.OpAdd, l.RescaleOffset, 0, "offset"}}
	} else {
		mean, std, _ := normStats(l, in.shape)
		if l.Invert {
			steps = []step{{tfl.OpMul, std, 1, "std"}, {tfl.OpAdd, mean, 0, "mean"}}
		} else {
			neg, inv := make([]float64, len(mean)), make([]float64, len(std))
			for i := range mean {
				neg[i], inv[i] = -mean[i], 1/std[i]
			}
			steps = []step{{tfl.OpAdd, neg, 0, "negative_mean"}, {tfl.OpMul, inv, 1, "inverse_std"}}
		}
	}
	if all(steps[1].c, steps[1].id) {
		steps = steps[:1]
	}
	if all(steps[0].c, steps[0].id) {
		steps = steps[1:]
	}
	if len(steps) == 0 {
		lw.notef("%s removed (identity)", l.Name)
		return in, nil
	}
	v := in
	for k, s := range steps {
		name := l.Name
		if k < len(steps)-1 {
			name = l.Name + "/" + s.what
		}
		v = lw.binaryConst(s.code, v, toFloat32(s.c), l.Name+"/"+s.what, name, l.Name)
	}
	lw.notef("%s lowered to %d elementwise operator(s)", l.Name, len(steps))
	return v, nil
}

// presets are the pixel normalisations of package preprocess that an
// affine map of raw pixel values 0..255 can equal.
var presets = []struct {
	n    preprocess.Normalize
	a, b float64
}{
	{preprocess.Unit, 1.0 / 255, 0},
	{preprocess.Symmetric, 1 / 127.5, -1},
	{preprocess.None, 1, 0},
}

// preset returns the normalisation f equals on every channel, or "".
// Config values may have been rounded to float32 on the way, hence the
// relative tolerance (far above float32 rounding, far below any real
// difference between presets).
func preset(f affine, channels int) preprocess.Normalize {
	for _, p := range presets {
		ok := true
		for c := range max(channels, 1) {
			a, b := f.at(c)
			if math.Abs(a-p.a) > 1e-6*p.a || math.Abs(b-p.b) > 1e-6 {
				ok = false
				break
			}
		}
		if ok {
			return p.n
		}
	}
	return ""
}

// foldInputAffine looks for Rescaling/Normalization layers right after a
// single image input. When the first k of them compose to one of the
// preprocess presets they are removed and InputNormalize says which
// preset the agent must apply when it fills the input; otherwise they are
// kept as operators and InputNormalize is none: the model then takes raw
// pixels. The longest matching prefix wins, so Rescaling(1/255) followed
// by an ImageNet Normalization folds the Rescaling and keeps the rest.
func (lw *lowerer) foldInputAffine() {
	lw.folded = map[string]preprocess.Normalize{}
	if len(lw.m.Inputs) != 1 {
		return
	}
	in := lw.vals[lw.m.Inputs[0]]
	if len(in.shape) != 3 || (in.shape[2] != 1 && in.shape[2] != 3) {
		return // not an image the agent's preprocessing fills
	}
	channels := in.shape[2]
	var chain []*keras.Layer
	cur := lw.m.Inputs[0]
	for lw.uses[cur] == 1 && len(lw.consumers[cur]) == 1 {
		next := lw.consumers[cur][0]
		if next.Class != "Rescaling" && next.Class != "Normalization" {
			break
		}
		chain = append(chain, next)
		cur = next.Name
	}
	if len(chain) == 0 {
		return
	}
	// Compose prefix by prefix.
	comp := affine{a: make([]float64, channels), b: make([]float64, channels)}
	for c := range channels {
		comp.a[c] = 1
	}
	best, bestN := 0, preprocess.None
	for k, l := range chain {
		f, err := layerAffine(l, in.shape)
		if err != nil {
			break // lowering the layer reports the error
		}
		for c := range channels {
			a, b := f.at(c)
			comp.a[c], comp.b[c] = a*comp.a[c], a*comp.b[c]+b
		}
		if n := preset(comp, channels); n != "" {
			best, bestN = k+1, n
		}
	}
	lw.res.InputNormalize = bestN
	for _, l := range chain[:best] {
		lw.folded[l.Name] = bestN
	}
	if best < len(chain) {
		lw.notef("%s kept as operators: the model input takes pixels normalised as %q", chain[best].Name, bestN)
	}
}
