package keras

import "fmt"

// Model is a Keras model as a graph of layers.
type Model struct {
	Name    string
	Inputs  []string // names of the InputLayer layers, in model input order
	Outputs []string // names of the layers producing the model outputs, in order
	Layers  []*Layer // topological order: every layer follows its Inbound layers
	// KerasVersion is the version of Keras that saved the file ("2.4.0",
	// "3.12.0"), "" when the file does not say. Some activations
	// (hard_sigmoid) changed their formula between Keras 2 and 3.
	KerasVersion string
}

// Layer returns the layer called name, or nil.
func (m *Model) Layer(name string) *Layer {
	for _, l := range m.Layers {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// Tensor is a dense row-major float32 array in Keras layout (Dense kernels
// are [in, out], convolution kernels [kh, kw, in, out]).
type Tensor struct {
	Shape []int
	Data  []float32
}

// Layer is one Keras layer. The typed fields are filled only for the classes
// that use them; Config keeps the raw JSON configuration.
type Layer struct {
	Name    string
	Class   string
	Config  map[string]any
	Inbound []string           // names of the layers feeding this one, in argument order
	Weights map[string]*Tensor // canonical names: kernel, bias, depthwise_kernel, gamma, ...

	// InputLayer: the full shape including the batch dimension; unknown
	// dimensions are -1.
	Shape []int

	Filters         int    // Conv2D, SeparableConv2D
	Units           int    // Dense
	DepthMultiplier int    // DepthwiseConv2D, SeparableConv2D
	KernelSize      [2]int // convolutions
	Strides         [2]int // convolutions and pooling
	Dilation        [2]int // convolutions
	PoolSize        [2]int // MaxPooling2D, AveragePooling2D
	Padding         string // "valid" or "same"
	Pad             [2][2]int
	UseBias         bool
	Activation      string // fused activation; "linear" when none

	// ReLU, LeakyReLU: f(x) = x for x >= Threshold (capped at MaxValue when
	// set), Alpha*(x-Threshold) below it.
	Alpha     float64
	MaxValue  *float64
	Threshold float64

	Axis     []int   // BatchNormalization, Softmax, Concatenate, Normalization
	Epsilon  float64 // BatchNormalization
	Center   bool    // BatchNormalization has beta
	Scale    bool    // BatchNormalization has gamma
	KeepDims bool    // GlobalAveragePooling2D

	TargetShape []int // Reshape, without the batch dimension; -1 is inferred

	Rate float64 // Dropout

	RescaleScale  []float64 // Rescaling: y = x*scale + offset (one value or one per channel)
	RescaleOffset []float64

	Mean     []float64 // Normalization, when given in the config instead of weights
	Variance []float64
	Invert   bool
}

// UnsupportedLayerError reports a layer class the converter cannot handle.
type UnsupportedLayerError struct {
	Layer string
	Class string
}

func (e *UnsupportedLayerError) Error() string {
	return fmt.Sprintf("keras: layer %q has class %s, which is not supported by fruitcam's converter; "+
		"replace it or export a .tflite with TensorFlow's converter and use `convert quantize`", e.Layer, e.Class)
}
