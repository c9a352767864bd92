package main

import (
	"os"
	"testing"

	"github.com/fruitcam/fruitcam/internal/keras"
)

// TestMain lets this test binary serve as the child process that
// keras.ReadFileIsolated starts.
func TestMain(m *testing.M) {
	keras.ServeChild()
	os.Exit(m.Run())
}
