package lower

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/keras"
)

// Options configures Lower.
type Options struct {
	// Description is written as the model's description, e.g.
	// "fruitcam-convert: fruits.h5". Empty writes none.
	Description string
	// EdgeTPU lowers LeakyReLU (the layer, ReLU(negative_slope=a) and the
	// leaky_relu activation) to PRELU with a constant alpha instead of
	// LEAKY_RELU, which the Edge TPU compiler does not map: the same
	// values, but the graph is not cut there. Off by default, since
	// LEAKY_RELU is what TensorFlow's converter writes and needs no alpha
	// tensor. See the package documentation.
	EdgeTPU bool
}

// Result is a lowered model.
type Result struct {
	// Model is float32 with one subgraph. Each input is [1, ...] (the
	// Keras batch, when the model fixes it) with ShapeSignature [-1, ...]
	// when the Keras batch is unknown; outputs follow the Keras outputs in
	// order.
	Model *tfl.Model
	// InputNormalize is the pixel normalisation implied by leading
	// Rescaling/Normalization layers that were folded away (unit,
	// symmetric or none), or none when a leading affine layer was kept as
	// operators (the input then takes raw pixels); "" when the model
	// starts with no such layer.
	InputNormalize preprocess.Normalize
	// Notes has one human line per rewrite ("batch_normalization folded
	// into conv2d", "dropout removed", ...).
	Notes []string
}

// Lower converts m into a float32 TFLite model that computes what Keras
// computes at inference. See the package documentation for what each layer
// becomes.
func Lower(m *keras.Model, opts Options) (*Result, error) {
	if m == nil || len(m.Layers) == 0 {
		return nil, errors.New("lower: empty Keras model")
	}
	if len(m.Inputs) == 0 || len(m.Outputs) == 0 {
		return nil, errors.New("lower: the Keras model has no inputs or no outputs")
	}
	lw := &lowerer{m: m, opts: opts, res: &Result{}, vals: map[string]*value{},
		byName: make(map[string]*keras.Layer, len(m.Layers))}
	for i, l := range m.Layers {
		if l == nil {
			return nil, fmt.Errorf("lower: layer %d is nil", i)
		}
		if _, dup := lw.byName[l.Name]; dup {
			return nil, fmt.Errorf("lower: two layers are named %q", l.Name)
		}
		lw.byName[l.Name] = l
	}
	if err := lw.analyse(); err != nil {
		return nil, err
	}
	if err := lw.inputs(); err != nil {
		return nil, err
	}
	lw.foldInputAffine()
	for _, l := range m.Layers {
		if l.Class == "InputLayer" {
			continue
		}
		if !lw.live[l.Name] {
			lw.notef("%s does not reach any model output; dropped", l.Name)
			continue
		}
		in := make([]*value, len(l.Inbound))
		for i, name := range l.Inbound {
			if in[i] = lw.vals[name]; in[i] == nil {
				return nil, &ModelError{Layer: l.Name, Class: l.Class, Err: fmt.Errorf("reads %q, which has no value (not a layer of the model, or after this one)", name)}
			}
		}
		lw.g.layer = l.Name
		v, err := lw.layer(l, in)
		if err != nil {
			return nil, err
		}
		lw.vals[l.Name] = v
	}
	var inputs, outputs []int
	for _, name := range m.Inputs {
		inputs = append(inputs, lw.vals[name].t)
	}
	for _, name := range m.Outputs {
		v := lw.vals[name]
		if v == nil {
			return nil, fmt.Errorf("lower: model output %q is not a layer of the model", name)
		}
		outputs = append(outputs, v.t)
	}
	lw.res.Model = lw.g.finish(opts.Description, inputs, outputs)
	return lw.res, nil
}

// value is the TFLite tensor holding a Keras layer's output.
type value struct {
	t     int    // tensor index
	shape []int  // per-example shape: the Keras shape without the batch
	owner string // the (non-alias) layer whose output the tensor is
	op    int    // producing operator, -1 for a model input
	// fold is set while the producing operator is a convolution or dense
	// layer whose output is still linear: a batch normalisation may then
	// be folded into its weights.
	fold *foldTarget
}

// foldTarget names the weights a batch normalisation folds into.
type foldTarget struct {
	layer        string
	kernel, bias int // constant tensors
	axis         int // kernel dimension holding the output channels (first or last)
}

type lowerer struct {
	m      *keras.Model
	opts   Options
	res    *Result
	g      graph
	byName map[string]*keras.Layer
	vals   map[string]*value

	// Filled by analyse.
	live      map[string]bool                 // the layer feeds a model output
	canon     map[string]string               // layer -> the non-alias layer whose output it passes on
	uses      map[string]int                  // non-alias layer -> readers (through aliases) + output uses
	consumers map[string][]*keras.Layer       // non-alias layer -> its non-alias readers
	folded    map[string]preprocess.Normalize // leading affine layers folded into the input normalisation
}

func (lw *lowerer) notef(format string, a ...any) {
	lw.res.Notes = append(lw.res.Notes, fmt.Sprintf(format, a...))
}

// isAlias reports whether layer l computes nothing at inference, so its
// output is its input's tensor.
func isAlias(l *keras.Layer) bool {
	switch l.Class {
	case "Dropout":
		return true
	case "Activation":
		return l.Activation == "linear"
	}
	return false
}

// analyse finds the live layers, resolves aliases and counts how often
// each computed tensor is read, which decides what may be fused: a
// rewrite that changes a tensor is exact only when nothing else sees it.
func (lw *lowerer) analyse() error {
	m := lw.m
	lw.live = map[string]bool{}
	stack := slices.Clone(m.Outputs)
	for len(stack) > 0 {
		name := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if lw.live[name] {
			continue
		}
		l := lw.byName[name]
		if l == nil {
			return fmt.Errorf("lower: %q is not a layer of the model", name)
		}
		lw.live[name] = true
		stack = append(stack, l.Inbound...)
	}
	lw.canon = map[string]string{}
	lw.uses = map[string]int{}
	lw.consumers = map[string][]*keras.Layer{}
	for _, l := range m.Layers {
		if isAlias(l) && len(l.Inbound) == 1 {
			if c, ok := lw.canon[l.Inbound[0]]; ok {
				lw.canon[l.Name] = c
				continue
			}
		}
		lw.canon[l.Name] = l.Name
	}
	for _, l := range m.Layers {
		if !lw.live[l.Name] || lw.canon[l.Name] != l.Name {
			continue
		}
		for _, in := range l.Inbound {
			c := lw.canon[in]
			lw.uses[c]++
			lw.consumers[c] = append(lw.consumers[c], l)
		}
	}
	for _, out := range m.Outputs {
		lw.uses[lw.canon[out]]++
	}
	return nil
}

// inputs creates the model input tensors.
func (lw *lowerer) inputs() error {
	for i, name := range lw.m.Inputs {
		l := lw.byName[name]
		if l == nil || l.Class != "InputLayer" {
			return fmt.Errorf("lower: model input %q is not an InputLayer", name)
		}
		if len(l.Shape) < 2 {
			return &ModelError{Layer: l.Name, Class: l.Class, Err: fmt.Errorf("shape %v has no feature dimensions", l.Shape)}
		}
		for _, d := range l.Shape[1:] {
			if d <= 0 {
				return &ModelError{Layer: l.Name, Class: l.Class, Err: fmt.Errorf("input shape %v has an unknown dimension; "+
					"give the Keras Input a fixed size, e.g. Input(shape=(96, 96, 3))", l.Shape[1:])}
			}
		}
		batch, dynamic := l.Shape[0], l.Shape[0] <= 0
		if dynamic {
			batch = 1
		}
		if i == 0 {
			lw.g.batch, lw.g.dynamic = batch, dynamic
		} else if batch != lw.g.batch || dynamic != lw.g.dynamic {
			return &ModelError{Layer: l.Name, Class: l.Class, Err: fmt.Errorf("batch dimension %d differs from the first input's", l.Shape[0])}
		}
		shape := slices.Clone(l.Shape[1:])
		lw.vals[name] = &value{t: lw.g.activation(name, shape), shape: shape, owner: name, op: -1}
	}
	for _, l := range lw.m.Layers {
		if l.Class == "InputLayer" && lw.vals[l.Name] == nil {
			return &ModelError{Layer: l.Name, Class: l.Class, Err: errors.New("is an InputLayer but not a model input")}
		}
	}
	return nil
}

// layer lowers one live, non-input layer.
func (lw *lowerer) layer(l *keras.Layer, in []*value) (*value, error) {
	if !slices.Contains(SupportedClasses, l.Class) || l.Class == "InputLayer" {
		return nil, &UnsupportedError{Layer: l.Name, Class: l.Class, What: "layer class " + l.Class,
			Fix: "replace it with supported layers (" + strings.Join(SupportedClasses[1:], ", ") +
				"), or convert with TensorFlow's converter and use `convert quantize`"}
	}
	want := 1
	switch l.Class {
	case "Add", "Multiply", "Concatenate":
		want = -1
	}
	if want == 1 && len(in) != 1 {
		return nil, &ModelError{Layer: l.Name, Class: l.Class, Err: fmt.Errorf("has %d inputs, want 1", len(in))}
	}
	if want == -1 && len(in) < 2 {
		return nil, &ModelError{Layer: l.Name, Class: l.Class, Err: fmt.Errorf("has %d inputs, want at least 2", len(in))}
	}
	if err := checkTyped(l); err != nil {
		return nil, err
	}
	if n, ok := lw.folded[l.Name]; ok {
		lw.notef("%s folded into the input normalisation (%s)", l.Name, n)
		return in[0], nil
	}
	switch l.Class {
	case "Conv2D":
		return lw.conv2D(l, in[0])
	case "DepthwiseConv2D":
		return lw.depthwise(l, in[0])
	case "SeparableConv2D":
		return lw.separable(l, in[0])
	case "Dense":
		return lw.dense(l, in[0])
	case "BatchNormalization":
		return lw.batchNorm(l, in[0])
	case "Activation":
		if l.Activation == "linear" {
			lw.notef("%s (linear activation) removed", l.Name)
			return in[0], nil
		}
		return lw.activation(l, l.Activation, in[0], l.Name)
	case "ReLU":
		return lw.reluLayer(l, in[0])
	case "LeakyReLU":
		return lw.leakyRelu(l, in[0], l.Alpha, l.Name), nil
	case "Softmax":
		if len(l.Axis) != 1 || (l.Axis[0] != -1 && l.Axis[0] != len(in[0].shape)) {
			return nil, &UnsupportedError{Layer: l.Name, Class: l.Class, What: fmt.Sprintf("softmax over axis %v", l.Axis),
				Fix: "TensorFlow Lite's SOFTMAX normalises the last axis only; move the axis last (Permute) or use axis=-1"}
		}
		return lw.activation(l, "softmax", in[0], l.Name)
	case "MaxPooling2D":
		return lw.pool(l, in[0], tfl.OpMaxPool2D)
	case "AveragePooling2D":
		return lw.pool(l, in[0], tfl.OpAveragePool2D)
	case "GlobalAveragePooling2D":
		return lw.globalAverage(l, in[0])
	case "ZeroPadding2D":
		return lw.zeroPad(l, in[0])
	case "Flatten":
		return lw.flatten(l, in[0])
	case "Reshape":
		return lw.reshape(l, in[0])
	case "Dropout":
		lw.notef("%s removed (dropout is the identity at inference)", l.Name)
		return in[0], nil
	case "Add":
		return lw.elementwise(l, in, tfl.OpAdd)
	case "Multiply":
		return lw.elementwise(l, in, tfl.OpMul)
	case "Concatenate":
		return lw.concatenate(l, in)
	case "Rescaling", "Normalization":
		return lw.affineLayer(l, in[0])
	}
	panic("lower: SupportedClasses lists " + l.Class + " but nothing lowers it")
}

// SupportedClasses lists the Keras layer classes Lower handles.
var SupportedClasses = []string{"InputLayer", "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Dense",
	"BatchNormalization", "Activation", "ReLU", "LeakyReLU", "Softmax", "MaxPooling2D", "AveragePooling2D",
	"GlobalAveragePooling2D", "ZeroPadding2D", "Flatten", "Reshape", "Dropout", "Add", "Multiply",
	"Concatenate", "Rescaling", "Normalization"}

// unary emits a one-input operator whose output has the input's shape.
func (lw *lowerer) unary(code tfl.BuiltinOp, in *value, name, owner string, opts any) *value {
	t := lw.g.activation(name, in.shape)
	i := lw.g.addOp(code, []int{in.t}, []int{t}, opts)
	return &value{t: t, shape: slices.Clone(in.shape), owner: owner, op: i}
}

// binaryConst emits x <op> c for a constant c broadcast along the last
// axis (c has one value or one per channel).
func (lw *lowerer) binaryConst(code tfl.BuiltinOp, in *value, c []float32, cname, name, owner string) *value {
	ct := lw.g.constF(cname, []int{len(c)}, c)
	t := lw.g.activation(name, in.shape)
	i := lw.g.addOp(code, []int{in.t, ct}, []int{t}, &tfl.ActivationOptions{})
	return &value{t: t, shape: slices.Clone(in.shape), owner: owner, op: i}
}

// exclusive reports whether v's tensor is seen by nothing but the layer
// being lowered, so that rewriting it in place (fusing an activation,
// folding a batch normalisation) changes no other result.
func (lw *lowerer) exclusive(v *value) bool {
	return v.op >= 0 && lw.uses[v.owner] == 1
}

// fusable reports whether an activation may be fused into v's producer.
func (lw *lowerer) fusable(v *value) bool {
	if !lw.exclusive(v) {
		return false
	}
	a, ok := lw.g.fused(v.op)
	return ok && a == tfl.ActNone
}

// rename gives v's tensor to layer l: v's producer now computes l's output.
func (lw *lowerer) rename(v *value, l string) *value {
	lw.g.tensors[v.t].name = l
	return &value{t: v.t, shape: v.shape, owner: l, op: v.op, fold: v.fold}
}

func shapeError(l *keras.Layer, format string, a ...any) error {
	return &ModelError{Layer: l.Name, Class: l.Class, Err: fmt.Errorf(format, a...)}
}

func numElements(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// checkTyped refuses typed fields internal/keras would never produce, so
// that a hand-built or corrupted graph gets an error, not a panic.
func checkTyped(l *keras.Layer) error {
	bad := func(format string, a ...any) error {
		return &ModelError{Layer: l.Name, Class: l.Class, Err: fmt.Errorf(format, a...)}
	}
	switch l.Class {
	case "BatchNormalization", "Concatenate":
		if len(l.Axis) != 1 {
			return bad("axis %v is not one axis", l.Axis)
		}
	case "Conv2D", "SeparableConv2D":
		if l.Filters <= 0 {
			return bad("filters %d is not positive", l.Filters)
		}
	case "Dense":
		if l.Units <= 0 {
			return bad("units %d is not positive", l.Units)
		}
	}
	if (l.Class == "DepthwiseConv2D" || l.Class == "SeparableConv2D") && l.DepthMultiplier <= 0 {
		return bad("depth_multiplier %d is not positive", l.DepthMultiplier)
	}
	for _, p := range [][2]int{l.Pad[0], l.Pad[1]} {
		if p[0] < 0 || p[1] < 0 || p[0] > 1<<16 || p[1] > 1<<16 {
			return bad("padding %v is out of range", l.Pad)
		}
	}
	return nil
}
