//go:build !(tflite && cgo)

package delegate

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestProbeEdgeTPUWithoutTFLite(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, EdgeTPULibrary)
	if err := os.WriteFile(lib, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LD_LIBRARY_PATH", dir)
	info, err := ProbeEdgeTPU("usb")
	if !errors.Is(err, ErrNoTFLite) || info.Library != lib || info.Device != "usb" || info.Delegate {
		t.Errorf("ProbeEdgeTPU = %+v, %v: want the library found and ErrNoTFLite", info, err)
	}
	if _, err := ProbeEdgeTPU("tpu"); err == nil || errors.Is(err, ErrNoTFLite) {
		t.Errorf("ProbeEdgeTPU(\"tpu\") error %v: want the selector refused", err)
	}
}
