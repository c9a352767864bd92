package conformance

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// Norm maps an 8-bit pixel of channel c to the real value the model was
// trained on.
type Norm struct {
	Name string
	F    func(p uint8, c int) float64
}

// The normalisations the real models use.
var (
	// NormSymmetric is x/127.5-1 (TF-slim MobileNets, Coral models).
	NormSymmetric = Norm{"x/127.5-1", func(p uint8, _ int) float64 { return float64(p)/127.5 - 1 }}
	// NormUnit is x/255 (visual wake words).
	NormUnit = Norm{"x/255", func(p uint8, _ int) float64 { return float64(p) / 255 }}
	// NormNone keeps pixel values 0..255 (MLPerf Tiny ResNet-8).
	NormNone = Norm{"x", func(p uint8, _ int) float64 { return float64(p) }}
	// NormImageNet is torchvision's (x/255-mean)/std per channel, for the
	// model converted from PyTorch.
	NormImageNet = Norm{"(x/255-mean)/std ImageNet", func(p uint8, c int) float64 {
		mean := [3]float64{0.485, 0.456, 0.406}
		std := [3]float64{0.229, 0.224, 0.225}
		return (float64(p)/255 - mean[c]) / std[c]
	}}
)

// SourceKind says how an input is made.
type SourceKind int

const (
	// Image: a BMP or JPEG under the test data root, nearest-resized to
	// the input's height and width, normalised with the case's Norm and
	// quantised with the input tensor's scale and zero point.
	Image SourceKind = iota
	// RawRGB: like Image, from a raw W×H×3 RGB file.
	RawRGB
	// Values: the real values given, quantised like an image.
	Values
	// Random: seeded uniform noise. Quantised inputs draw every integer
	// of the type's range; float inputs draw reals in [Case.Lo, Case.Hi].
	Random
)

// Source is one input of a case.
type Source struct {
	Kind   SourceKind
	Path   string    // Image, RawRGB: relative to the test data root
	W, H   int       // RawRGB: the file's size
	Values []float64 // Values
	Seed   uint64    // Random
}

// Layout of an image input tensor.
type Layout int

const (
	NHWC Layout = iota
	NCHW        // channels first (models converted from PyTorch)
)

// Case is one model of the suite and the inputs it is run on.
type Case struct {
	// Model is the model file relative to the test data root.
	Model  string
	Norm   Norm
	Layout Layout
	// Lo and Hi bound random float inputs (real values).
	Lo, Hi  float64
	Sources []Source
}

// Name is the case's golden file base name: the model file's name without
// its extension (model names are unique across the test data folders).
func (c Case) Name() string { return strings.TrimSuffix(filepath.Base(c.Model), ".tflite") }

// Input is one generated input: one byte slice per input tensor.
type Input struct {
	Name   string // short, for tables: "bird.bmp", "random#1"
	Source string // how the bytes were made
	Data   [][]byte
}

// SHA256 hashes the input tensors' bytes, concatenated in input order.
func (in Input) SHA256() string {
	h := sha256.New()
	for _, d := range in.Data {
		h.Write(d)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// MakeInputs builds every input of c for model m, reading image files under
// root. Every step is deterministic, so the bytes (and their SHA-256 in the
// golden file) are the same on every machine and Go version.
func (c Case) MakeInputs(root string, m *tfl.Model) ([]Input, error) {
	sg := &m.Subgraphs[0]
	var out []Input
	for k, s := range c.Sources {
		var in Input
		for i, ti := range sg.Inputs {
			t := &sg.Tensors[ti]
			data, name, src, err := c.makeTensor(root, s, t, uint64(i))
			if err != nil {
				return nil, fmt.Errorf("conformance: %s input %d (%s): %w", c.Name(), k, s.describe(), err)
			}
			in.Data = append(in.Data, data)
			in.Name, in.Source = name, src
		}
		out = append(out, in)
	}
	return out, nil
}

func (s Source) describe() string {
	switch s.Kind {
	case Image, RawRGB:
		return s.Path
	case Values:
		return fmt.Sprintf("values %v", s.Values)
	}
	return fmt.Sprintf("random seed %d", s.Seed)
}

func (c Case) makeTensor(root string, s Source, t *tfl.Tensor, tensorIndex uint64) (data []byte, name, src string, err error) {
	n := tfl.NumElements(t.Shape)
	switch s.Kind {
	case Random:
		data, src, err := c.random(s.Seed, tensorIndex, t)
		return data, fmt.Sprintf("random#%d", s.Seed), src, err
	case Values:
		if len(s.Values) != n {
			return nil, "", "", fmt.Errorf("%d values for a tensor of %d elements", len(s.Values), n)
		}
		data, err := encode(s.Values, t)
		return data, fmt.Sprintf("%v", s.Values), fmt.Sprintf("values %v, quantised with the input's scale and zero point", s.Values), err
	}
	// Image and RawRGB.
	if len(t.Shape) != 4 {
		return nil, "", "", fmt.Errorf("image input needs a rank-4 tensor, have %v", t.Shape)
	}
	h, w, ch := t.Shape[1], t.Shape[2], t.Shape[3]
	if c.Layout == NCHW {
		ch, h, w = t.Shape[1], t.Shape[2], t.Shape[3]
	}
	if ch != 3 {
		return nil, "", "", fmt.Errorf("image input needs 3 channels, have shape %v", t.Shape)
	}
	raw, err := os.ReadFile(filepath.Join(root, s.Path))
	if err != nil {
		return nil, "", "", err
	}
	var img *rgb
	if s.Kind == RawRGB {
		if len(raw) != 3*s.W*s.H {
			return nil, "", "", fmt.Errorf("%d bytes, want %dx%dx3", len(raw), s.W, s.H)
		}
		img = &rgb{w: s.W, h: s.H, pix: raw}
	} else if img, err = decodeImage(raw); err != nil {
		return nil, "", "", err
	}
	img = resizeNearest(img, w, h)
	vals := make([]float64, 0, n)
	if c.Layout == NCHW {
		for ci := range 3 {
			for i := range w * h {
				vals = append(vals, c.Norm.F(img.pix[3*i+ci], ci))
			}
		}
	} else {
		for i, p := range img.pix {
			vals = append(vals, c.Norm.F(p, i%3))
		}
	}
	// Batch dimensions above 1 repeat the image.
	for len(vals) < n {
		vals = append(vals, vals[:3*w*h]...)
	}
	data, err = encode(vals, t)
	layout := "NHWC"
	if c.Layout == NCHW {
		layout = "NCHW (transposed)"
	}
	src = fmt.Sprintf("%s, nearest resize to %dx%d, %s, %s, %s", s.Path, w, h, layout, c.Norm.Name, quantNote(t))
	return data, filepath.Base(s.Path), src, err
}

func quantNote(t *tfl.Tensor) string {
	if t.Quant == nil || t.Type == tfl.Float32 {
		return "float32"
	}
	return fmt.Sprintf("%s round(x/%g)%+d", t.Type, t.Quant.Scale[0], t.Quant.ZeroPoint[0])
}

// encode writes real values as the tensor's type: float32 as is, integers
// quantised q = clamp(round(x/scale) + zero_point).
func encode(vals []float64, t *tfl.Tensor) ([]byte, error) {
	switch t.Type {
	case tfl.Float32:
		out := make([]byte, 4*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(float32(v)))
		}
		return out, nil
	case tfl.Uint8, tfl.Int8:
		if t.Quant == nil || len(t.Quant.Scale) != 1 || t.Quant.Scale[0] == 0 {
			return nil, fmt.Errorf("%s input without per-tensor quantisation", t.Type)
		}
		lo, hi := intRange(t.Type)
		scale, zp := float64(t.Quant.Scale[0]), float64(t.Quant.ZeroPoint[0])
		out := make([]byte, len(vals))
		for i, v := range vals {
			q := min(max(math.Round(v/scale)+zp, lo), hi)
			out[i] = byte(int8(int(q))) // two's complement for int8
			if t.Type == tfl.Uint8 {
				out[i] = byte(int(q))
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("input type %s is not generated", t.Type)
}

func intRange(t tfl.TensorType) (lo, hi float64) {
	if t == tfl.Int8 {
		return -128, 127
	}
	return 0, 255
}

// random draws from PCG seeded with (seed, tensor index). Values come from
// the generator's Uint64 stream only, never from rand.Rand helpers, whose
// algorithms Go does not promise to keep: the PCG stream is specified.
func (c Case) random(seed, tensorIndex uint64, t *tfl.Tensor) ([]byte, string, error) {
	pcg := rand.NewPCG(seed, 0x6672756974636d+tensorIndex)
	n := tfl.NumElements(t.Shape)
	switch t.Type {
	case tfl.Uint8, tfl.Int8:
		out := make([]byte, n)
		for i := range out {
			out[i] = byte(pcg.Uint64() >> 56)
		}
		return out, fmt.Sprintf("PCG(%d, %#x) uniform %s, every value of the type", seed, 0x6672756974636d+tensorIndex, t.Type), nil
	case tfl.Float32:
		if c.Hi <= c.Lo {
			return nil, "", fmt.Errorf("case has no random range for float inputs")
		}
		vals := make([]float64, n)
		for i := range vals {
			vals[i] = c.Lo + (c.Hi-c.Lo)*float64(pcg.Uint64()>>11)/(1<<53)
		}
		out, err := encode(vals, t)
		return out, fmt.Sprintf("PCG(%d, %#x) uniform float32 in [%g, %g)", seed, 0x6672756974636d+tensorIndex, c.Lo, c.Hi), err
	}
	return nil, "", fmt.Errorf("input type %s is not generated", t.Type)
}
