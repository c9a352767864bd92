package kerastest

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/fruitcam/fruitcam/internal/testdata"
)

// FruitCNNLabels are the fruit CNN's 16 classes in output order: the
// sorted class folder names, as Keras' flow_from_directory numbers them.
var FruitCNNLabels = []string{
	"Apricot", "Avocado", "Banana", "Clementine", "Cocos", "Kiwi", "Lemon", "Limes",
	"Mandarine", "Orange", "Peach", "Pineapple", "Plum", "Pomegranate", "Raspberry", "Strawberry",
}

// FruitCNNSeed is the seed fruitcnn.py draws the fixture's weights from.
const FruitCNNSeed = 20

//go:embed fruitcnn.py
var fruitCNNScript []byte

// fixture is one file fruitcnn.py writes, made once per test process.
type fixture struct {
	format string // fruitcnn.py's FORMAT argument
	prefix string // file name prefix in the cache directory
	ext    string // file name extension
	once   sync.Once
	path   string
	err    error
}

var (
	fruitCNNKeras2   = &fixture{format: "keras2-h5", prefix: "fruitcnn-k2-", ext: ".h5"}
	fruitCNNKeras3   = &fixture{format: "keras3", prefix: "fruitcnn-k3-", ext: ".keras"}
	fruitCNNKeras3H5 = &fixture{format: "keras3-h5", prefix: "fruitcnn-k3-", ext: ".h5"}
)

// FruitCNN returns the path of the fruit CNN fixture: a 20x20x3 Keras 2.4
// Sequential model saved as .h5, with seeded random weights. It skips the
// test when python3 with h5py and numpy is missing, and fails it under
// CI=true.
//
// The file is written once per test process. It lives in the system temp
// directory under a name derived from the script's hash, written through a
// temporary file and renamed, so concurrent test binaries share one copy
// and no stale file survives a change to the script. Outside CI an
// existing copy is reused without running Python; under CI=true it is
// always regenerated, so CI proves the script runs.
func FruitCNN(t testing.TB) string {
	t.Helper()
	return fruitCNNKeras2.get(t)
}

// FruitCNNKeras3 returns the path of the same fruit CNN, with the same
// weights, as Keras 3 saves it: format "keras" is model.save("fruits.keras")
// (a zip of config.json, metadata.json and model.weights.h5), format "h5"
// is model.save("fruits.h5") (Keras 3's legacy HDF5 format). Only the input
// layer's name differs from FruitCNN's model ("input_layer", where Keras 2
// said "conv2d_input"), as it does between real Keras 2 and 3 files.
// Caching, skipping and CI behave as for FruitCNN.
func FruitCNNKeras3(t testing.TB, format string) string {
	t.Helper()
	switch format {
	case "keras":
		return fruitCNNKeras3.get(t)
	case "h5":
		return fruitCNNKeras3H5.get(t)
	}
	t.Fatalf("kerastest: FruitCNNKeras3 format %q: want \"keras\" or \"h5\"", format)
	return ""
}

func (f *fixture) get(t testing.TB) string {
	t.Helper()
	f.once.Do(func() { f.path, f.err = f.write() })
	if f.err != nil {
		testdata.Missing(t, f.err)
	}
	return f.path
}

func (f *fixture) write() (string, error) {
	sum := sha256.Sum256(append(fruitCNNScript, fmt.Sprint(FruitCNNSeed, " ", f.format)...))
	dir := filepath.Join(os.TempDir(), "fruitcam-kerastest")
	path := filepath.Join(dir, f.prefix+hex.EncodeToString(sum[:6])+f.ext)
	if _, err := os.Stat(path); err == nil && !testdata.Required() {
		return path, nil
	}
	py, err := python()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("kerastest: %w", err)
	}
	tmp, err := os.CreateTemp(dir, f.prefix+"*"+f.ext+".tmp")
	if err != nil {
		return "", fmt.Errorf("kerastest: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command(py, "-", tmp.Name(), fmt.Sprint(FruitCNNSeed), f.format)
	cmd.Stdin = bytes.NewReader(fruitCNNScript)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("kerastest: fruitcnn.py %s: %v: %s", f.format, err, bytes.TrimSpace(stderr.Bytes()))
	}
	// CreateTemp made it private; the fixture is not secret.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", fmt.Errorf("kerastest: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("kerastest: %w", err)
	}
	// Copies made by earlier versions of the script are never used again.
	old, _ := filepath.Glob(filepath.Join(dir, f.prefix+"*"+f.ext))
	for _, p := range old {
		if p != path {
			os.Remove(p)
		}
	}
	return path, nil
}

// python finds an interpreter that has h5py and numpy. The first python3
// on PATH may be a virtualenv or pyenv without them while Debian's
// /usr/bin/python3 has python3-h5py, so both are tried.
func python() (string, error) {
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import h5py, numpy").Run() == nil {
			return py, nil
		}
	}
	return "", fmt.Errorf("kerastest: python3 with h5py and numpy not found (apt-get install python3-h5py): %w", os.ErrNotExist)
}
