package testdata

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// EnvVar names the environment variable that overrides the fixture root.
const EnvVar = "FRUITCAM_TESTDATA"

// Dir returns the fixture root: $FRUITCAM_TESTDATA, else
// ../shared/testdata relative to the module root. It does not check that
// the directory exists; Path does.
func Dir() (string, error) {
	if dir := os.Getenv(EnvVar); dir != "" {
		return dir, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(root), "shared", "testdata"), nil
}

// ModuleRoot walks up from the working directory (tests run in their
// package directory) to the directory holding go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("testdata: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testdata: no go.mod above the working directory; set " + EnvVar)
		}
		dir = parent
	}
}

// Lookup returns the absolute path of the fixture rel (slash-separated,
// relative to the root), or an error wrapping os.ErrNotExist when it is
// not on this machine.
func Lookup(rel string) (string, error) {
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("testdata: fixture %s not found under %s (set %s): %w", rel, dir, EnvVar, err)
	}
	return p, nil
}

// Required reports whether missing fixtures must fail tests: CI=true.
func Required() bool { return os.Getenv("CI") == "true" }

// Path returns the path of the fixture rel, skipping the test when it is
// missing, or failing it under CI=true.
func Path(t testing.TB, rel string) string {
	t.Helper()
	p, err := Lookup(rel)
	if err != nil {
		if Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return p
}

// Root returns the fixture root, skipping the test when it is missing,
// or failing it under CI=true.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := Dir()
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "models"))
	}
	if err != nil {
		Missing(t, fmt.Errorf("testdata: fixtures not found at %s (set %s): %w", dir, EnvVar, err))
	}
	return dir
}

// Missing ends a test whose fixture could not be read: a skip on a
// developer machine without the test data, a failure under CI=true (a
// suite that did not run must not pass) or for any error other than a
// missing file.
func Missing(t testing.TB, err error) {
	t.Helper()
	if Required() || !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	t.Skip(err)
}
