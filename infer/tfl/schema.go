package tfl

import "fmt"

// TensorType is the element type of a tensor (schema enum TensorType).
type TensorType int8

// Tensor types this project reads. Values are the schema's.
const (
	Float32 TensorType = 0
	Float16 TensorType = 1
	Int32   TensorType = 2
	Uint8   TensorType = 3
	Int64   TensorType = 4
	String  TensorType = 5
	Bool    TensorType = 6
	Int16   TensorType = 7
	Int8    TensorType = 9
	Float64 TensorType = 10
)

var tensorTypeNames = map[TensorType]string{
	0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 5: "string", 6: "bool",
	7: "int16", 8: "complex64", 9: "int8", 10: "float64", 11: "complex128", 12: "uint64",
	13: "resource", 14: "variant", 15: "uint32", 16: "uint16", 17: "int4",
}

func (t TensorType) String() string {
	if s, ok := tensorTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("tensor_type_%d", int(t))
}

// Size is the size of one element in bytes, or 0 for types without a fixed
// size (string, resource, variant, int4).
func (t TensorType) Size() int {
	switch t {
	case Uint8, Int8, Bool:
		return 1
	case Float16, Int16, 16:
		return 2
	case Float32, Int32, 15:
		return 4
	case Int64, Float64, 8, 12:
		return 8
	case 11:
		return 16
	}
	return 0
}

// BuiltinOp is a builtin operator code (schema enum BuiltinOperator).
type BuiltinOp int32

// The builtin operators the native engine knows by name in code.
const (
	OpAdd            BuiltinOp = 0
	OpAveragePool2D  BuiltinOp = 1
	OpConcatenation  BuiltinOp = 2
	OpConv2D         BuiltinOp = 3
	OpDepthwiseConv  BuiltinOp = 4
	OpDequantize     BuiltinOp = 6
	OpFullyConnected BuiltinOp = 9
	OpLogistic       BuiltinOp = 14
	OpMaxPool2D      BuiltinOp = 17
	OpMul            BuiltinOp = 18
	OpRelu           BuiltinOp = 19
	OpReluN1To1      BuiltinOp = 20
	OpRelu6          BuiltinOp = 21
	OpReshape        BuiltinOp = 22
	OpSoftmax        BuiltinOp = 25
	OpTanh           BuiltinOp = 28
	OpCustom         BuiltinOp = 32
	OpPad            BuiltinOp = 34
	OpTranspose      BuiltinOp = 39
	OpMean           BuiltinOp = 40
	OpSub            BuiltinOp = 41
	OpSqueeze        BuiltinOp = 43
	OpPrelu          BuiltinOp = 54
	OpPadV2          BuiltinOp = 60
	OpLeakyRelu      BuiltinOp = 98
	OpQuantize       BuiltinOp = 114
	OpHardSwish      BuiltinOp = 117
)

// builtinNames lists the schema's operator names by code, for messages.
var builtinNames = [...]string{
	"ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE",
	"DEQUANTIZE", "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP",
	"L2_NORMALIZATION", "L2_POOL_2D", "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION",
	"LSTM", "MAX_POOL_2D", "MUL", "RELU", "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR",
	"RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH", "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL",
	"CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD", "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER",
	"BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB", "DIV", "SQUEEZE",
	"UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP", "TOPK_V2",
	"SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM",
	"ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL",
	"SELECT", "SLICE", "SIN", "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL",
	"NOT_EQUAL", "LOG", "SUM", "SQRT", "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT",
	"REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR", "ONE_HOT", "LOGICAL_AND", "LOGICAL_NOT",
	"UNPACK", "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL", "FLOOR_MOD",
	"RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS",
	"SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK", "ELU",
	"REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF",
	"WHILE", "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2",
	"DENSIFY", "SEGMENT_SUM", "BATCH_MATMUL", "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM",
	"CALL_ONCE", "BROADCAST_TO", "RFFT2D", "CONV_3D", "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE",
	"HASHTABLE_FIND", "HASHTABLE_IMPORT", "HASHTABLE_SIZE", "REDUCE_ALL", "CONV_3D_TRANSPOSE",
	"VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL",
	"BUCKETIZE", "RANDOM_UNIFORM", "MULTINOMIAL", "GELU", "DYNAMIC_UPDATE_SLICE", "RELU_0_TO_1",
	"UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_SUM", "ATAN2",
	"UNSORTED_SEGMENT_MIN", "SIGN",
}

func (o BuiltinOp) String() string {
	if o >= 0 && int(o) < len(builtinNames) {
		return builtinNames[o]
	}
	return fmt.Sprintf("BUILTIN_%d", int32(o))
}

// Padding is the schema enum Padding.
type Padding uint8

const (
	PaddingSame  Padding = 0
	PaddingValid Padding = 1
)

func (p Padding) String() string {
	switch p {
	case PaddingSame:
		return "SAME"
	case PaddingValid:
		return "VALID"
	}
	return fmt.Sprintf("padding_%d", uint8(p))
}

// Activation is a fused activation function (schema enum ActivationFunctionType).
type Activation uint8

const (
	ActNone      Activation = 0
	ActRelu      Activation = 1
	ActReluN1To1 Activation = 2
	ActRelu6     Activation = 3
	ActTanh      Activation = 4
	ActSignBit   Activation = 5
)

func (a Activation) String() string {
	switch a {
	case ActNone:
		return "NONE"
	case ActRelu:
		return "RELU"
	case ActReluN1To1:
		return "RELU_N1_TO_1"
	case ActRelu6:
		return "RELU6"
	case ActTanh:
		return "TANH"
	case ActSignBit:
		return "SIGN_BIT"
	}
	return fmt.Sprintf("activation_%d", uint8(a))
}

// Model is a decoded and validated .tflite file. Slices of constant data
// point into the file's bytes; they must not be modified.
type Model struct {
	Version       uint32
	Description   string
	OperatorCodes []OperatorCode
	Subgraphs     []Subgraph
	// Buffers holds each buffer's bytes; nil for empty buffers (buffer 0
	// is always empty by convention).
	Buffers  [][]byte
	Metadata []Metadata
}

// Buffer returns the bytes of buffer i, nil when it is empty or absent.
func (m *Model) Buffer(i int) []byte {
	if i < 0 || i >= len(m.Buffers) {
		return nil
	}
	return m.Buffers[i]
}

// OperatorCode is one entry of the model's operator code table.
type OperatorCode struct {
	Builtin BuiltinOp
	Custom  string // for CUSTOM ops, e.g. "edgetpu-custom-op"
	Version int32
}

// Name is the operator's name as TFLite prints it.
func (c OperatorCode) Name() string {
	if c.Builtin == OpCustom {
		return "CUSTOM(" + c.Custom + ")"
	}
	return c.Builtin.String()
}

// Metadata is a named buffer (schema table Metadata).
type Metadata struct {
	Name   string
	Buffer int
}

// Subgraph is a graph of operators over tensors. Inference runs subgraph 0.
type Subgraph struct {
	Name      string
	Tensors   []Tensor
	Inputs    []int
	Outputs   []int
	Operators []Operator
}

// Tensor describes one tensor of a subgraph.
type Tensor struct {
	Name  string
	Type  TensorType
	Shape []int
	// ShapeSignature has -1 for dynamic dimensions (usually the batch);
	// nil when the file has none.
	ShapeSignature []int
	Buffer         int
	Quant          *Quantization // nil when not quantised
	IsVariable     bool
}

// Quantization holds affine quantisation parameters: real = Scale*(q-ZeroPoint).
// Len(Scale) > 1 means per-channel along dimension Dim.
type Quantization struct {
	Min, Max  []float32
	Scale     []float32
	ZeroPoint []int64
	Dim       int
}

// PerChannel reports whether the parameters vary along Dim.
func (q *Quantization) PerChannel() bool { return q != nil && len(q.Scale) > 1 }

// Operator is one node of a subgraph. Inputs may hold -1 for an omitted
// optional input (a convolution without bias, say).
type Operator struct {
	OpcodeIndex int
	Inputs      []int
	Outputs     []int
	// Options is one of the *XxxOptions types of this package, or nil for
	// operators whose options the engine does not read.
	Options       any
	CustomOptions []byte
}

// NumElements is the product of the dimensions of shape.
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
