package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDefaultBuildIsPureGo fails if the default agent binary would pull in
// cgo or the TensorFlow Lite C bindings: boards get one static binary, and
// the C library enters only with -tags tflite.
func TestDefaultBuildIsPureGo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	cmd := exec.Command("go", "list", "-deps", ".")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	banned := []string{"runtime/cgo", "github.com/mattn/go-tflite", "github.com/fruitcam/fruitcam/internal/tfliteref"}
	for _, dep := range strings.Fields(string(out)) {
		for _, b := range banned {
			if dep == b || strings.HasPrefix(dep, b+"/") {
				t.Errorf("the default agent build depends on %s", dep)
			}
		}
	}
}
