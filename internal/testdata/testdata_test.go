package testdata

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDirHonoursEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvVar, dir)
	got, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	if got != dir {
		t.Errorf("Dir() = %q, want %q", got, dir)
	}
}

func TestDirDefaultBesideModule(t *testing.T) {
	t.Setenv(EnvVar, "")
	got, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(root), "shared", "testdata"); got != want {
		t.Errorf("Dir() = %q, want %q", got, want)
	}
}

func TestLookup(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvVar, dir)
	if err := os.MkdirAll(filepath.Join(dir, "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "models", "m.tflite"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Lookup("models/m.tflite")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "models", "m.tflite"); got != want {
		t.Errorf("Lookup = %q, want %q", got, want)
	}
	if _, err := Lookup("models/missing.tflite"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Lookup(missing) error = %v, want one wrapping os.ErrNotExist", err)
	}
}

func TestRequired(t *testing.T) {
	t.Setenv("CI", "true")
	if !Required() {
		t.Error("Required() = false under CI=true")
	}
	t.Setenv("CI", "")
	if Required() {
		t.Error("Required() = true without CI")
	}
}
