package tfliteref

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// CRunPath returns the real TensorFlow Lite runner program,
// .tflite-ref/bin/tflite-c-run (built by `make ref`), or $TFLITE_C_RUN. It
// lets packages check models against the C library without cgo in their
// own test binaries.
func CRunPath() (string, error) {
	p := os.Getenv("TFLITE_C_RUN")
	if p == "" {
		dir, err := RefDir()
		if err != nil {
			return "", err
		}
		p = filepath.Join(dir, "bin", "tflite-c-run")
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("tfliteref: TensorFlow Lite runner not found (make ref builds it; or set TFLITE_C_RUN): %w", err)
	}
	return p, nil
}

// RunCLI runs model on inputs (raw bytes of each input tensor, in order)
// with the runner at crun and returns the raw bytes of every output.
// batch > 0 resizes the leading dimension of every input first.
func RunCLI(ctx context.Context, crun string, model []byte, inputs [][]byte, batch int) ([][]byte, error) {
	dir, err := os.MkdirTemp("", "tflite-c-run-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	mp := filepath.Join(dir, "model.tflite")
	if err := os.WriteFile(mp, model, 0o644); err != nil {
		return nil, err
	}
	args := []string{"-batch", strconv.Itoa(batch), "-out-dir", filepath.Join(dir, "out"), mp}
	for i, in := range inputs {
		p := filepath.Join(dir, fmt.Sprintf("input_%d.bin", i))
		if err := os.WriteFile(p, in, 0o644); err != nil {
			return nil, err
		}
		args = append(args, p)
	}
	args = append(args, filepath.Join(dir, "output.bin"))
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, crun, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("tfliteref: %s: %v: %s", filepath.Base(crun), err, bytes.TrimSpace(stderr.Bytes()))
	}
	var outs [][]byte
	for k := 0; ; k++ {
		b, err := os.ReadFile(filepath.Join(dir, "out", fmt.Sprintf("output_%d.bin", k)))
		if os.IsNotExist(err) {
			break
		}
		if err != nil {
			return nil, err
		}
		outs = append(outs, b)
	}
	return outs, nil
}

// Float32Bytes encodes float32 values as the raw little-endian bytes of a
// tensor, as RunCLI takes them.
func Float32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// BytesFloat32 decodes a float32 tensor's raw bytes, as RunCLI returns them.
func BytesFloat32(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}
