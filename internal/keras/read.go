package keras

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
)

const (
	// maxConfigSize bounds config.json in a .keras zip.
	maxConfigSize = 64 << 20
	// maxWeightsSize bounds model.weights.h5 extracted from a .keras zip.
	maxWeightsSize = 4 << 30
	// maxWeightValues bounds one weight tensor (1 G values).
	maxWeightValues = 1 << 30
)

var (
	hdf5Magic = []byte("\x89HDF\r\n\x1a\n")
	zipMagic  = []byte("PK\x03\x04")
)

// ReadFile reads a Keras model with its weights: a Keras 2 or 3 ".h5" file
// (saved with model.save, so it holds model_config) or a Keras 3 ".keras"
// zip. The kind is told from the file's first bytes, not its name.
func ReadFile(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	f.Close()
	head = head[:n]
	var m *Model
	switch {
	case bytes.HasPrefix(head, hdf5Magic):
		m, err = recoverHDF5(path, readH5)
	case bytes.HasPrefix(head, zipMagic):
		m, err = recoverHDF5(path, readKerasZip)
	default:
		if len(head) >= 8 && string(head[4:8]) == "TFL3" {
			return nil, fmt.Errorf("keras: %s is already a TensorFlow Lite model, not a Keras one; `convert quantize` quantises a float .tflite", path)
		}
		return nil, fmt.Errorf("keras: %s is neither an HDF5 (.h5) nor a zip (.keras) file", path)
	}
	if err != nil {
		var unsup *UnsupportedLayerError
		if errors.As(err, &unsup) {
			// Keep the typed error (callers test for it) and its own
			// "keras:" prefix; name the file after it.
			return nil, fmt.Errorf("%w (in %s)", err, path)
		}
		return nil, fmt.Errorf("keras: %s: %w", path, trimPrefix(err))
	}
	return m, nil
}

// recoverHDF5 runs read, turning a panic raised inside the HDF5 library
// into an error: scigolib/hdf5 panics on some corrupt files (slice bounds,
// negative make sizes), and a corrupt file must give an error. A panic in
// this package's own code is a bug and is not hidden. Running out of memory
// is no panic and cannot be caught here; ReadFileIsolated contains that.
func recoverHDF5(path string, read func(string) (*Model, error)) (m *Model, err error) {
	defer func() {
		if r := recover(); r != nil {
			if !panickedIn(hdf5Package) {
				panic(r)
			}
			m, err = nil, fmt.Errorf("the file is corrupt: the HDF5 reader failed: %v", r)
		}
	}()
	return read(path)
}

const (
	hdf5Package = "github.com/scigolib/hdf5"
	thisPackage = "github.com/fruitcam/fruitcam/internal/keras."
)

// panickedIn tells, from within a deferred recover, whether the code that
// panicked belongs to module pkg: the innermost frame of pkg or of this
// package below the panic decides (frames of the standard library, such as
// encoding/binary called by the library, are passed over).
func panickedIn(pkg string) bool {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	afterPanic := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			afterPanic = true
		case afterPanic && strings.HasPrefix(f.Function, pkg):
			return true
		case afterPanic && strings.HasPrefix(f.Function, thisPackage):
			return false
		}
		if !more {
			return false
		}
	}
}

// trimPrefix drops a leading "keras: " so wrapped errors read once.
func trimPrefix(err error) error {
	if s, ok := strings.CutPrefix(err.Error(), "keras: "); ok {
		return errors.New(s)
	}
	return err
}

func readKerasZip(path string) (*Model, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open zip: %w", err)
	}
	defer zr.Close()
	var cfgFile, wFile, metaFile *zip.File
	for _, zf := range zr.File {
		switch zf.Name {
		case "config.json":
			cfgFile = zf
		case "model.weights.h5":
			wFile = zf
		case "metadata.json":
			metaFile = zf
		}
	}
	if cfgFile == nil {
		return nil, errors.New("no config.json in the .keras zip")
	}
	if wFile == nil {
		return nil, errors.New("no model.weights.h5 in the .keras zip")
	}
	config, err := readZipEntry(cfgFile, maxConfigSize)
	if err != nil {
		return nil, err
	}
	m, err := ParseConfig(config)
	if err != nil {
		return nil, err
	}
	if metaFile != nil {
		// metadata.json is informative only: a broken one costs the
		// version, not the model.
		if b, err := readZipEntry(metaFile, maxConfigSize); err == nil {
			var meta struct {
				KerasVersion string `json:"keras_version"`
			}
			if json.Unmarshal(b, &meta) == nil {
				m.KerasVersion = meta.KerasVersion
			}
		}
	}
	// The HDF5 reader wants a file name, so extract the weights.
	tmp, err := os.CreateTemp("", "fruitcam-keras-*.h5")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	rc, err := wFile.Open()
	if err != nil {
		tmp.Close()
		return nil, fmt.Errorf("model.weights.h5: %w", err)
	}
	n, err := io.Copy(tmp, io.LimitReader(rc, maxWeightsSize+1))
	rc.Close()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("model.weights.h5: %w", err)
	}
	if n > maxWeightsSize {
		return nil, fmt.Errorf("model.weights.h5 is larger than %d bytes", int64(maxWeightsSize))
	}
	if err := readKerasWeights(m, tmp.Name()); err != nil {
		return nil, err
	}
	return m, validateWeights(m)
}

func readZipEntry(zf *zip.File, limit int64) ([]byte, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", zf.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", zf.Name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", zf.Name, limit)
	}
	return b, nil
}
