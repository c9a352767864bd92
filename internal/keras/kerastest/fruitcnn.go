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

var fruitCNN struct {
	once sync.Once
	path string
	err  error
}

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
	fruitCNN.once.Do(func() { fruitCNN.path, fruitCNN.err = writeFruitCNN() })
	if fruitCNN.err != nil {
		testdata.Missing(t, fruitCNN.err)
	}
	return fruitCNN.path
}

func writeFruitCNN() (string, error) {
	sum := sha256.Sum256(append(fruitCNNScript, fmt.Sprint(FruitCNNSeed)...))
	dir := filepath.Join(os.TempDir(), "fruitcam-kerastest")
	path := filepath.Join(dir, "fruitcnn-"+hex.EncodeToString(sum[:6])+".h5")
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
	tmp, err := os.CreateTemp(dir, "fruitcnn-*.h5.tmp")
	if err != nil {
		return "", fmt.Errorf("kerastest: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command(py, "-", tmp.Name(), fmt.Sprint(FruitCNNSeed))
	cmd.Stdin = bytes.NewReader(fruitCNNScript)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("kerastest: fruitcnn.py: %v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	// CreateTemp made it private; the fixture is not secret.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", fmt.Errorf("kerastest: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("kerastest: %w", err)
	}
	// Copies made by earlier versions of the script are never used again.
	old, _ := filepath.Glob(filepath.Join(dir, "fruitcnn-*.h5"))
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
