package inspect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// Option is one operator option, its value as printed.
type Option struct {
	Name, Value string
}

// Options keeps the options in the order they read best (padding,
// stride, dilation, activation); it encodes to a JSON object in that
// order.
type Options []Option

// MarshalJSON writes {"padding":"SAME","stride":"2x2",...}.
func (o Options) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, opt := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(opt.Name)
		v, _ := json.Marshal(opt.Value)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads what MarshalJSON writes, keeping the file's order.
func (o *Options) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("inspect: options: want a JSON object")
	}
	*o = Options{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return fmt.Errorf("inspect: options: %w", err)
		}
		var v string
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("inspect: options: %w", err)
		}
		*o = append(*o, Option{Name: k.(string), Value: v})
	}
	_, err := dec.Token()
	return err
}

// String prints the options as "name=value" pairs separated by spaces.
func (o Options) String() string {
	parts := make([]string, len(o))
	for i, opt := range o {
		parts[i] = opt.Name + "=" + opt.Value
	}
	return strings.Join(parts, " ")
}

// hw prints a height×width pair. TFLite's option tables store width
// first; printing H×W everywhere keeps one order ("stride=2x1" is always
// two rows by one column).
func hw(h, w int) string { return strconv.Itoa(h) + "x" + strconv.Itoa(w) }

func describeOptions(op *tfl.Operator) Options {
	var o Options
	add := func(name, value string) { o = append(o, Option{name, value}) }
	switch v := op.Options.(type) {
	case *tfl.Conv2DOptions:
		add("padding", v.Padding.String())
		add("stride", hw(v.StrideH, v.StrideW))
		add("dilation", hw(v.DilationH, v.DilationW))
		add("activation", v.Activation.String())
	case *tfl.DepthwiseConv2DOptions:
		add("padding", v.Padding.String())
		add("stride", hw(v.StrideH, v.StrideW))
		add("dilation", hw(v.DilationH, v.DilationW))
		add("multiplier", strconv.Itoa(v.DepthMultiplier))
		add("activation", v.Activation.String())
	case *tfl.Pool2DOptions:
		add("filter", hw(v.FilterHeight, v.FilterWidth))
		add("padding", v.Padding.String())
		add("stride", hw(v.StrideH, v.StrideW))
		add("activation", v.Activation.String())
	case *tfl.FullyConnectedOptions:
		add("activation", v.Activation.String())
		if v.WeightsFormat != 0 {
			add("weights_format", strconv.Itoa(int(v.WeightsFormat)))
		}
		if v.KeepNumDims {
			add("keep_num_dims", "true")
		}
		if v.AsymmetricQuantizeInputs {
			add("asymmetric_quantize_inputs", "true")
		}
	case *tfl.SoftmaxOptions:
		add("beta", strconv.FormatFloat(float64(v.Beta), 'g', -1, 32))
	case *tfl.ConcatenationOptions:
		add("axis", strconv.Itoa(v.Axis))
		add("activation", v.Activation.String())
	case *tfl.ActivationOptions:
		add("activation", v.Activation.String())
	case *tfl.ReshapeOptions:
		if v.NewShape != nil {
			add("new_shape", dims(v.NewShape))
		}
	case *tfl.ReducerOptions:
		add("keep_dims", strconv.FormatBool(v.KeepDims))
	case *tfl.SqueezeOptions:
		add("squeeze_dims", dims(v.SqueezeDims))
	case *tfl.LeakyReluOptions:
		add("alpha", strconv.FormatFloat(float64(v.Alpha), 'g', -1, 32))
	}
	if len(op.CustomOptions) > 0 {
		add("custom_options", strconv.Itoa(len(op.CustomOptions))+" bytes")
	}
	return o
}

// dims prints a shape as [1,96,96,3].
func dims(d []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range d {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(v))
	}
	b.WriteByte(']')
	return b.String()
}
