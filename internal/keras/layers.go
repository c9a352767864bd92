package keras

import (
	"errors"
	"fmt"
)

// activations are the activation names accepted on Activation layers and as
// fused activations; the converter maps each to TFLite ops.
var activations = map[string]bool{
	"linear": true, "relu": true, "relu6": true, "sigmoid": true, "tanh": true,
	"softmax": true, "leaky_relu": true, "hard_sigmoid": true, "hard_swish": true,
	"hard_silu": true, "swish": true, "silu": true, "elu": true,
}

// typeLayer fills the typed fields of l from l.Config, refusing classes and
// settings the converter does not handle.
func typeLayer(l *Layer) error {
	if err := typeLayerConfig(l); err != nil {
		var unsup *UnsupportedLayerError
		if errors.As(err, &unsup) {
			return err
		}
		return fmt.Errorf("keras: layer %q (%s): %w", l.Name, l.Class, err)
	}
	return nil
}

func typeLayerConfig(l *Layer) error {
	c := l.Config
	var err error
	switch l.Class {
	case "InputLayer":
		v := c["batch_input_shape"]
		if v == nil {
			v = c["batch_shape"]
		}
		if v == nil {
			return errors.New("no batch_input_shape or batch_shape")
		}
		if l.Shape, err = shapeList(v, "batch shape"); err != nil {
			return err
		}
		if len(l.Shape) < 2 {
			return fmt.Errorf("batch shape %v has no feature dimensions", l.Shape)
		}
		return nil
	case "Conv2D", "DepthwiseConv2D", "SeparableConv2D":
		return typeConv(l)
	case "Dense":
		if l.Units, err = getInt(c, "units", 0); err != nil {
			return err
		}
		if l.Units <= 0 {
			return fmt.Errorf("units %d is not positive", l.Units)
		}
		return typeBiasActivation(l)
	case "BatchNormalization":
		if l.Axis, err = getInts(c, "axis"); err != nil {
			return err
		}
		if l.Axis == nil {
			l.Axis = []int{-1}
		}
		if len(l.Axis) != 1 {
			return fmt.Errorf("axis %v: only one normalised axis is supported", l.Axis)
		}
		if l.Epsilon, err = getFloat(c, "epsilon", 1e-3); err != nil {
			return err
		}
		if l.Epsilon < 0 {
			return fmt.Errorf("epsilon %g is negative", l.Epsilon)
		}
		if l.Center, err = getBool(c, "center", true); err != nil {
			return err
		}
		l.Scale, err = getBool(c, "scale", true)
		return err
	case "Activation":
		if l.Activation, err = getString(c, "activation", ""); err != nil {
			return err
		}
		return checkActivation(l.Activation)
	case "ReLU":
		if l.Alpha, err = getFloat(c, "negative_slope", 0); err != nil {
			return err
		}
		if l.Threshold, err = getFloat(c, "threshold", 0); err != nil {
			return err
		}
		if c["max_value"] != nil {
			v, err := getFloat(c, "max_value", 0)
			if err != nil {
				return err
			}
			if v < 0 {
				return fmt.Errorf("max_value %g is negative", v)
			}
			l.MaxValue = &v
		}
		return nil
	case "LeakyReLU":
		key := "alpha" // Keras 2
		if _, ok := c["negative_slope"]; ok {
			key = "negative_slope" // Keras 3
		}
		l.Alpha, err = getFloat(c, key, 0.3)
		return err
	case "Softmax":
		if l.Axis, err = getInts(c, "axis"); err != nil {
			return err
		}
		if l.Axis == nil {
			l.Axis = []int{-1}
		}
		return nil
	case "MaxPooling2D", "AveragePooling2D":
		if err := checkChannelsLast(c); err != nil {
			return err
		}
		if l.PoolSize, err = getPair(c, "pool_size", [2]int{2, 2}, 1); err != nil {
			return err
		}
		if l.Strides, err = getPair(c, "strides", l.PoolSize, 1); err != nil {
			return err
		}
		return typePadding(l)
	case "GlobalAveragePooling2D":
		if err := checkChannelsLast(c); err != nil {
			return err
		}
		l.KeepDims, err = getBool(c, "keepdims", false)
		return err
	case "ZeroPadding2D":
		if err := checkChannelsLast(c); err != nil {
			return err
		}
		return typeZeroPadding(l)
	case "Flatten":
		return checkChannelsLast(c)
	case "Reshape":
		if l.TargetShape, err = getInts(c, "target_shape"); err != nil {
			return err
		}
		if len(l.TargetShape) == 0 {
			return errors.New("no target_shape")
		}
		unknown := 0
		for _, d := range l.TargetShape {
			if d == -1 {
				unknown++
			} else if d <= 0 {
				return fmt.Errorf("target_shape %v has invalid dimension %d", l.TargetShape, d)
			}
		}
		if unknown > 1 {
			return fmt.Errorf("target_shape %v has more than one -1", l.TargetShape)
		}
		return nil
	case "Dropout":
		l.Rate, err = getFloat(c, "rate", 0)
		return err
	case "Add", "Multiply":
		if len(l.Inbound) < 2 {
			return fmt.Errorf("has %d inputs, want at least 2", len(l.Inbound))
		}
		return nil
	case "Concatenate":
		if l.Axis, err = getInts(c, "axis"); err != nil {
			return err
		}
		if l.Axis == nil {
			l.Axis = []int{-1}
		}
		if len(l.Axis) != 1 {
			return fmt.Errorf("axis %v is not one axis", l.Axis)
		}
		if len(l.Inbound) < 2 {
			return fmt.Errorf("has %d inputs, want at least 2", len(l.Inbound))
		}
		return nil
	case "Rescaling":
		if l.RescaleScale, err = getFloats(c, "scale"); err != nil {
			return err
		}
		if l.RescaleScale == nil {
			return errors.New("no scale")
		}
		if l.RescaleOffset, err = getFloats(c, "offset"); err != nil {
			return err
		}
		if l.RescaleOffset == nil {
			l.RescaleOffset = []float64{0}
		}
		return nil
	case "Normalization":
		if l.Axis, err = getInts(c, "axis"); err != nil {
			return err
		}
		if _, ok := c["axis"]; !ok {
			l.Axis = []int{-1}
		}
		if l.Mean, err = getFloats(c, "mean"); err != nil {
			return err
		}
		if l.Variance, err = getFloats(c, "variance"); err != nil {
			return err
		}
		if (l.Mean == nil) != (l.Variance == nil) {
			return errors.New("mean and variance must be given together")
		}
		if len(l.Mean) != len(l.Variance) {
			return fmt.Errorf("mean has %d values, variance %d", len(l.Mean), len(l.Variance))
		}
		for _, v := range l.Variance {
			if v < 0 {
				return fmt.Errorf("variance %g is negative", v)
			}
		}
		l.Invert, err = getBool(c, "invert", false)
		return err
	default:
		return &UnsupportedLayerError{Layer: l.Name, Class: l.Class}
	}
}

func typeConv(l *Layer) error {
	c := l.Config
	var err error
	if err := checkChannelsLast(c); err != nil {
		return err
	}
	if l.KernelSize, err = getPair(c, "kernel_size", [2]int{}, 1); err != nil {
		return err
	}
	if _, ok := c["kernel_size"]; !ok {
		return errors.New("no kernel_size")
	}
	if l.Strides, err = getPair(c, "strides", [2]int{1, 1}, 1); err != nil {
		return err
	}
	if l.Dilation, err = getPair(c, "dilation_rate", [2]int{1, 1}, 1); err != nil {
		return err
	}
	if groups, err := getInt(c, "groups", 1); err != nil {
		return err
	} else if groups != 1 {
		return fmt.Errorf("groups %d: grouped convolution is not supported", groups)
	}
	if l.Class != "Conv2D" {
		if l.DepthMultiplier, err = getInt(c, "depth_multiplier", 1); err != nil {
			return err
		}
		if l.DepthMultiplier <= 0 {
			return fmt.Errorf("depth_multiplier %d is not positive", l.DepthMultiplier)
		}
	}
	if l.Class != "DepthwiseConv2D" {
		if l.Filters, err = getInt(c, "filters", 0); err != nil {
			return err
		}
		if l.Filters <= 0 {
			return fmt.Errorf("filters %d is not positive", l.Filters)
		}
	}
	if err := typePadding(l); err != nil {
		return err
	}
	return typeBiasActivation(l)
}

func typePadding(l *Layer) error {
	var err error
	if l.Padding, err = getString(l.Config, "padding", "valid"); err != nil {
		return err
	}
	l.Padding = lower(l.Padding)
	if l.Padding != "valid" && l.Padding != "same" {
		return fmt.Errorf("padding %q is not valid or same", l.Padding)
	}
	return nil
}

func typeBiasActivation(l *Layer) error {
	var err error
	if l.UseBias, err = getBool(l.Config, "use_bias", true); err != nil {
		return err
	}
	if l.Activation, err = getString(l.Config, "activation", "linear"); err != nil {
		return err
	}
	return checkActivation(l.Activation)
}

func checkActivation(a string) error {
	if a == "" {
		return errors.New("no activation")
	}
	if !activations[a] {
		return fmt.Errorf("activation %q is not supported by fruitcam's converter", a)
	}
	return nil
}

func checkChannelsLast(c map[string]any) error {
	f, err := getString(c, "data_format", "channels_last")
	if err != nil {
		return err
	}
	if f != "channels_last" {
		return fmt.Errorf("data_format %q: only channels_last is supported", f)
	}
	return nil
}

// typeZeroPadding accepts padding as n, [h, w] or [[top, bottom], [left, right]].
func typeZeroPadding(l *Layer) error {
	v, ok := l.Config["padding"]
	if !ok || v == nil {
		l.Pad = [2][2]int{{1, 1}, {1, 1}}
		return nil
	}
	if list, ok := v.([]any); ok && len(list) == 2 {
		if _, nested := list[0].([]any); nested {
			for i := range 2 {
				p, err := getPair(map[string]any{"padding": list[i]}, "padding", [2]int{}, 0)
				if err != nil {
					return err
				}
				l.Pad[i] = p
			}
			return nil
		}
	}
	p, err := getPair(l.Config, "padding", [2]int{}, 0)
	if err != nil {
		return err
	}
	l.Pad = [2][2]int{{p[0], p[0]}, {p[1], p[1]}}
	return nil
}
