package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// GoldenDir is where golden files live, relative to this package.
const GoldenDir = "testdata"

// Golden is the content of testdata/<case>.json: what the real runtimes
// produced for every input of one case. Inputs are not stored: they are
// regenerated from the test data and checked against SHA256.
type Golden struct {
	// Model is the model file relative to the test data root.
	Model       string `json:"model"`
	ModelSHA256 string `json:"model_sha256"`
	// Runtimes describes the references: key "c" (TensorFlow Lite C
	// library, default kernels, 1 thread) and "wasm" (TFLite WASM, XNNPACK).
	Runtimes map[string]string `json:"runtimes"`
	Outputs  []TensorDesc      `json:"outputs"`
	Inputs   []GoldenInput     `json:"inputs"`
}

// TensorDesc describes an output tensor as the C library reported it.
type TensorDesc struct {
	Name      string  `json:"name"`
	Type      string  `json:"type"`
	Shape     []int   `json:"shape"`
	Scale     float32 `json:"scale,omitempty"`
	ZeroPoint int32   `json:"zero_point,omitempty"`
}

// TensorType parses Type back.
func (d TensorDesc) TensorType() (tfl.TensorType, error) {
	for _, t := range []tfl.TensorType{tfl.Float32, tfl.Uint8, tfl.Int8, tfl.Int16, tfl.Int32} {
		if t.String() == d.Type {
			return t, nil
		}
	}
	return 0, fmt.Errorf("conformance: output %q has type %q, which the suite does not compare", d.Name, d.Type)
}

// GoldenInput is one input and the outputs the references gave for it.
// encoding/json writes the output bytes as base64.
type GoldenInput struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	SHA256 string `json:"sha256"`
	// C and WASM hold one byte slice per output tensor.
	C    [][]byte `json:"c"`
	WASM [][]byte `json:"wasm,omitempty"`
}

// GoldenPath is the golden file of case c.
func GoldenPath(c Case) string { return filepath.Join(GoldenDir, c.Name()+".json") }

// ReadGolden loads the golden file of c.
func ReadGolden(c Case) (*Golden, error) {
	data, err := os.ReadFile(GoldenPath(c))
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	g := &Golden{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(g); err != nil {
		return nil, fmt.Errorf("conformance: %s: %w", GoldenPath(c), err)
	}
	for i, in := range g.Inputs {
		if len(in.C) != len(g.Outputs) || in.WASM != nil && len(in.WASM) != len(g.Outputs) {
			return nil, fmt.Errorf("conformance: %s: input %d has outputs for %d/%d tensors, want %d", GoldenPath(c), i, len(in.C), len(in.WASM), len(g.Outputs))
		}
	}
	return g, nil
}

// WriteGolden writes g as c's golden file, indented so diffs are readable.
func WriteGolden(c Case, g *Golden) error {
	data, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return fmt.Errorf("conformance: %w", err)
	}
	if err := os.WriteFile(GoldenPath(c), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("conformance: %w", err)
	}
	return nil
}
