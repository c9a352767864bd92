package conformance

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fruitcam/fruitcam/internal/tfliteref"
)

// TestdataRoot is the shared test data directory: $FRUITCAM_TESTDATA, else
// ../shared/testdata beside the module root. It returns an error wrapping
// os.ErrNotExist when the directory is not there.
func TestdataRoot() (string, error) {
	dir := os.Getenv("FRUITCAM_TESTDATA")
	if dir == "" {
		root, err := tfliteref.ModuleRoot()
		if err != nil {
			return "", fmt.Errorf("conformance: %w", err)
		}
		dir = filepath.Join(filepath.Dir(root), "shared", "testdata")
	}
	if _, err := os.Stat(filepath.Join(dir, "models")); err != nil {
		return dir, fmt.Errorf("conformance: test data not found at %s (set FRUITCAM_TESTDATA): %w", dir, err)
	}
	return dir, nil
}

// MissingFixture tells a test what to do about a fixture that is not on
// this machine: skip it, except under CI=true where a missing fixture means
// the suite did not run, which must fail.
func MissingFixture(err error) (fail bool, msg string) {
	fail = os.Getenv("CI") == "true"
	if errors.Is(err, os.ErrNotExist) {
		return fail, err.Error()
	}
	return true, err.Error()
}
