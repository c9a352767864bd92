package tfliteref

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// WASM runs models with TensorFlow Lite compiled to WebAssembly, by
// starting Node on the shared oracle script once per run.
type WASM struct {
	Node   string // node binary
	Oracle string // tflite_oracle.js
	Dir    string // directory of tflite_web_api_cc*.{js,wasm}
	// Variant is "simd" (default, what the oracle and make bench use) or
	// "plain".
	Variant string
}

// FindWASM locates node ($PATH), the oracle ($TFLITE_ORACLE, else
// tools/tflite-ref/tflite_oracle.js in the shared directory) and the WASM
// runtime ($TFLITE_WASM_DIR, else .tflite-ref/wasm). The error says which
// piece is missing.
func FindWASM() (*WASM, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("tfliteref: wasm runtime needs node: %w", err)
	}
	w := &WASM{Node: node, Oracle: os.Getenv("TFLITE_ORACLE"), Dir: os.Getenv("TFLITE_WASM_DIR")}
	if w.Oracle == "" {
		shared, err := SharedDir()
		if err != nil {
			return nil, err
		}
		w.Oracle = filepath.Join(shared, "tools", "tflite-ref", "tflite_oracle.js")
	}
	if w.Dir == "" {
		ref, err := RefDir()
		if err != nil {
			return nil, err
		}
		w.Dir = filepath.Join(ref, "wasm")
	}
	if _, err := os.Stat(w.Oracle); err != nil {
		return nil, fmt.Errorf("tfliteref: wasm oracle script: %w", err)
	}
	if _, err := os.Stat(filepath.Join(w.Dir, "tflite_web_api_cc_simd.wasm")); err != nil {
		return nil, fmt.Errorf("tfliteref: wasm runtime (run make ref): %w", err)
	}
	return w, nil
}

// oracleOutput is the JSON line tflite_oracle.js prints.
type oracleOutput struct {
	Runtime string    `json:"runtime"`
	InferMs []float64 `json:"inferMs"`
	Inputs  []struct {
		Name     string `json:"name"`
		DataType string `json:"dataType"`
		Shape    []int  `json:"shape"`
	} `json:"inputs"`
	Outputs []struct {
		Name     string `json:"name"`
		DataType string `json:"dataType"`
		Shape    []int  `json:"shape"`
	} `json:"outputs"`
}

var wasmTypes = map[string]tfl.TensorType{
	"float32": tfl.Float32, "int32": tfl.Int32, "uint8": tfl.Uint8, "int8": tfl.Int8,
	"int16": tfl.Int16, "int64": tfl.Int64, "bool": tfl.Bool, "float64": tfl.Float64,
}

// Run runs the model file at modelPath on inputs (raw bytes per input
// tensor). Options.Batch is not supported by the oracle.
func (w *WASM) Run(ctx context.Context, modelPath string, inputs [][]byte, opts Options) (*Result, error) {
	if opts.Batch > 0 {
		return nil, errors.New("tfliteref: the wasm oracle cannot resize inputs")
	}
	tmp, err := os.MkdirTemp("", "tfliteref-wasm-")
	if err != nil {
		return nil, fmt.Errorf("tfliteref: %w", err)
	}
	defer os.RemoveAll(tmp)
	args := []string{w.Oracle, modelPath}
	for i, in := range inputs {
		p := filepath.Join(tmp, fmt.Sprintf("input_%d.bin", i))
		if err := os.WriteFile(p, in, 0o600); err != nil {
			return nil, fmt.Errorf("tfliteref: %w", err)
		}
		args = append(args, p)
	}
	outDir := filepath.Join(tmp, "out")
	variant := w.Variant
	if variant == "" {
		variant = "simd"
	}
	args = append(args, "--out", outDir, "--quiet", "--variant", variant,
		"--threads", strconv.Itoa(opts.threads()), "--repeat", strconv.Itoa(opts.repeat()))
	cmd := exec.CommandContext(ctx, w.Node, args...)
	cmd.Env = append(os.Environ(), "TFLITE_WASM_DIR="+w.Dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("tfliteref: wasm oracle on %s: %w: %s", filepath.Base(modelPath), err, lastLines(stderr.String(), 5))
	}
	var o oracleOutput
	if err := json.Unmarshal(stdout.Bytes(), &o); err != nil {
		return nil, fmt.Errorf("tfliteref: wasm oracle output: %w", err)
	}
	res := &Result{Runtime: o.Runtime}
	for _, t := range o.Inputs {
		res.Inputs = append(res.Inputs, Tensor{Name: t.Name, Type: wasmType(t.DataType), Shape: t.Shape})
	}
	for k, t := range o.Outputs {
		data, err := os.ReadFile(filepath.Join(outDir, fmt.Sprintf("output_%d.bin", k)))
		if err != nil {
			return nil, fmt.Errorf("tfliteref: wasm output %d: %w", k, err)
		}
		res.Outputs = append(res.Outputs, Tensor{Name: t.Name, Type: wasmType(t.DataType), Shape: t.Shape, Data: data})
	}
	for _, ms := range o.InferMs {
		res.Invoke = append(res.Invoke, time.Duration(ms*float64(time.Millisecond)))
	}
	return res, nil
}

func wasmType(s string) tfl.TensorType {
	if t, ok := wasmTypes[s]; ok {
		return t
	}
	return tfl.TensorType(-1)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}
