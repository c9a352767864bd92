package inspect

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/tfl"
)

// Report is everything Inspect finds in a model. It encodes to JSON as
// is; WriteText prints it for people.
type Report struct {
	Path          string `json:"path,omitempty"`
	FileBytes     int    `json:"file_bytes"`
	SHA256        string `json:"sha256"`
	SchemaVersion uint32 `json:"schema_version"`
	Description   string `json:"description,omitempty"`
	// Inputs and Outputs are subgraph 0's, the one inference runs.
	Inputs    []TensorRef `json:"inputs"`
	Outputs   []TensorRef `json:"outputs"`
	Subgraphs []Subgraph  `json:"subgraphs"`
	// WeightsBytes is the constant data of every subgraph, each buffer
	// counted once however many tensors share it.
	WeightsBytes   int `json:"weights_bytes"`
	WeightsTensors int `json:"weights_tensors"`
	// Metadata is the fruitcam entry (infer.ReadMetadata), nil when there
	// is none; MetadataError says why a present entry could not be read.
	Metadata      *infer.Metadata `json:"metadata,omitempty"`
	MetadataError string          `json:"metadata_error,omitempty"`
	// OtherMetadata lists the other metadata entries (TFLite's own
	// min_runtime_version, TFLITE_METADATA, CONVERSION_METADATA ...).
	OtherMetadata []MetadataEntry `json:"other_metadata"`
	EdgeTPU       EdgeTPU         `json:"edgetpu"`
}

// Subgraph is one graph of the model.
type Subgraph struct {
	Index     int        `json:"index"`
	Name      string     `json:"name,omitempty"`
	Inputs    []int      `json:"inputs"`
	Outputs   []int      `json:"outputs"`
	Operators []Operator `json:"operators"`
	Tensors   []Tensor   `json:"tensors"`
}

// Operator is one node of a graph, in execution order.
type Operator struct {
	Index   int    `json:"index"`
	Op      string `json:"op"` // "CONV_2D", "CUSTOM(edgetpu-custom-op)"
	Version int32  `json:"version"`
	// Options are the operator's options in a fixed order (fused
	// activation, padding, strides ...); empty for operators without any
	// or whose options the reader does not decode.
	Options Options     `json:"options"`
	Inputs  []TensorRef `json:"inputs"`
	Outputs []TensorRef `json:"outputs"`
}

// TensorRef names a tensor where it is used. Index is -1 for an omitted
// optional operator input (a convolution without bias).
type TensorRef struct {
	Index    int    `json:"index"`
	Name     string `json:"name,omitempty"`
	Type     string `json:"type,omitempty"`
	Shape    []int  `json:"shape,omitempty"`
	Constant bool   `json:"constant,omitempty"`
	// Signature is the shape signature when it differs from Shape (-1
	// for a dynamic dimension, usually the batch).
	Signature []int  `json:"shape_signature,omitempty"`
	Quant     *Quant `json:"quantization,omitempty"`
}

// Tensor is one entry of a graph's tensor table.
type Tensor struct {
	TensorRef
	// Bytes is the size of the data: the buffer for a constant, shape ×
	// element size for an activation.
	Bytes    int  `json:"bytes"`
	Variable bool `json:"variable,omitempty"`
}

// Quant summarises a tensor's quantisation: real = scale × (q − zero point).
type Quant struct {
	// Scale and ZeroPoint are the per-tensor parameters; for a
	// per-channel tensor ZeroPoint is the channels' common zero point
	// (TFLite requires 0 for int8 weights) and ZeroPointMin/Max give the
	// range when they differ.
	Scale     float32 `json:"scale,omitempty"`
	ZeroPoint int64   `json:"zero_point"`
	// Channels > 1 means per-channel parameters along dimension Dim,
	// their scales ranging over [ScaleMin, ScaleMax].
	Channels     int     `json:"channels,omitempty"`
	Dim          int     `json:"dim,omitempty"`
	ScaleMin     float32 `json:"scale_min,omitempty"`
	ScaleMax     float32 `json:"scale_max,omitempty"`
	ZeroPointMin int64   `json:"zero_point_min,omitempty"`
	ZeroPointMax int64   `json:"zero_point_max,omitempty"`
}

// MetadataEntry is a metadata entry other than fruitcam's. Text holds the
// buffer when it is short printable text (min_runtime_version "1.14.0").
type MetadataEntry struct {
	Name  string `json:"name"`
	Bytes int    `json:"bytes"`
	Text  string `json:"text,omitempty"`
}

// ReadFile reads and inspects a .tflite file.
func ReadFile(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("inspect: %w", err)
	}
	r, err := Inspect(data)
	if err != nil {
		return nil, fmt.Errorf("inspect: %s: %w", path, err)
	}
	r.Path = path
	return r, nil
}

// Inspect parses a .tflite file's bytes and reports on it. Parse errors
// are tfl's (*tfl.FormatError, *tfl.UnsupportedError, tfl.ErrNotTFLite).
func Inspect(data []byte) (*Report, error) {
	m, err := tfl.Parse(data)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	r := Describe(m)
	r.FileBytes = len(data)
	r.SHA256 = hex.EncodeToString(sum[:])
	return r, nil
}

// Describe reports on a parsed model (file fields left empty).
func Describe(m *tfl.Model) *Report {
	r := &Report{SchemaVersion: m.Version, Description: m.Description}
	seen := map[int]bool{}
	for si := range m.Subgraphs {
		sg := &m.Subgraphs[si]
		g := Subgraph{Index: si, Name: sg.Name, Inputs: sg.Inputs, Outputs: sg.Outputs}
		for ti := range sg.Tensors {
			t := &sg.Tensors[ti]
			ref := tensorRef(m, sg, ti)
			n := tfl.NumElements(t.Shape) * t.Type.Size()
			if data := m.Buffer(t.Buffer); len(data) > 0 {
				n = len(data)
				if !seen[t.Buffer] {
					seen[t.Buffer] = true
					r.WeightsBytes += n
					r.WeightsTensors++
				}
			}
			g.Tensors = append(g.Tensors, Tensor{TensorRef: ref, Bytes: n, Variable: t.IsVariable})
		}
		for oi := range sg.Operators {
			op := &sg.Operators[oi]
			code := m.OperatorCodes[op.OpcodeIndex]
			o := Operator{Index: oi, Op: code.Name(), Version: code.Version, Options: describeOptions(op)}
			for _, ti := range op.Inputs {
				o.Inputs = append(o.Inputs, tensorRef(m, sg, ti))
			}
			for _, ti := range op.Outputs {
				o.Outputs = append(o.Outputs, tensorRef(m, sg, ti))
			}
			g.Operators = append(g.Operators, o)
		}
		r.Subgraphs = append(r.Subgraphs, g)
	}
	if len(m.Subgraphs) > 0 {
		sg := &m.Subgraphs[0]
		for _, ti := range sg.Inputs {
			r.Inputs = append(r.Inputs, tensorRef(m, sg, ti))
		}
		for _, ti := range sg.Outputs {
			r.Outputs = append(r.Outputs, tensorRef(m, sg, ti))
		}
	}
	md, err := infer.ReadMetadata(m)
	if err != nil {
		r.MetadataError = err.Error()
	}
	r.Metadata = md
	r.OtherMetadata = []MetadataEntry{}
	for _, e := range m.Metadata {
		if e.Name == infer.MetadataName {
			continue
		}
		buf := m.Buffer(e.Buffer)
		r.OtherMetadata = append(r.OtherMetadata, MetadataEntry{Name: e.Name, Bytes: len(buf), Text: shortText(buf)})
	}
	r.EdgeTPU = CheckEdgeTPU(m)
	return r
}

// tensorRef describes tensor ti of sg; -1 is an omitted input.
func tensorRef(m *tfl.Model, sg *tfl.Subgraph, ti int) TensorRef {
	if ti < 0 {
		return TensorRef{Index: -1}
	}
	t := &sg.Tensors[ti]
	ref := TensorRef{
		Index: ti, Name: t.Name, Type: t.Type.String(), Shape: nonNil(t.Shape),
		Constant: len(m.Buffer(t.Buffer)) > 0, Quant: describeQuant(t.Quant),
	}
	if t.ShapeSignature != nil && !slices.Equal(t.ShapeSignature, t.Shape) {
		ref.Signature = t.ShapeSignature
	}
	return ref
}

func nonNil(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}

func describeQuant(q *tfl.Quantization) *Quant {
	if q == nil || len(q.Scale) == 0 {
		return nil
	}
	if len(q.Scale) == 1 {
		return &Quant{Scale: q.Scale[0], ZeroPoint: q.ZeroPoint[0]}
	}
	out := &Quant{Channels: len(q.Scale), Dim: q.Dim, ScaleMin: slices.Min(q.Scale), ScaleMax: slices.Max(q.Scale)}
	lo, hi := slices.Min(q.ZeroPoint), slices.Max(q.ZeroPoint)
	if lo == hi {
		out.ZeroPoint = lo
	} else {
		out.ZeroPointMin, out.ZeroPointMax = lo, hi
	}
	return out
}

// shortText returns buf as text when it is a short printable string (a
// version number), "" for binary data such as a nested FlatBuffer.
func shortText(buf []byte) string {
	s := strings.TrimRight(string(buf), "\x00")
	if s == "" || len(s) > 64 || !utf8.ValidString(s) {
		return ""
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return ""
		}
	}
	return s
}
