package kerastest

import (
	"archive/zip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// EditKerasConfig copies the Keras 3 ".keras" file src into a new file in
// t.TempDir() (same base name) whose config.json is the original passed
// through edit; every other entry is copied byte for byte, in its order.
// It is how tests make the variants Keras would have written for a changed
// model (renamed layers, a layer class the converter refuses) without
// TensorFlow: the weights file does not name layers, so it stays valid.
func EditKerasConfig(t testing.TB, src string, edit func(config map[string]any)) string {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatalf("kerastest: %v", err)
	}
	defer zr.Close()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	out, err := os.Create(dst)
	if err != nil {
		t.Fatalf("kerastest: %v", err)
	}
	defer out.Close()
	zw := zip.NewWriter(out)
	edited := false
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatalf("kerastest: %s: %v", zf.Name, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("kerastest: %s: %v", zf.Name, err)
		}
		if zf.Name == "config.json" {
			var config map[string]any
			if err := json.Unmarshal(data, &config); err != nil {
				t.Fatalf("kerastest: %s config.json: %v", src, err)
			}
			edit(config)
			if data, err = json.Marshal(config); err != nil {
				t.Fatalf("kerastest: %v", err)
			}
			edited = true
		}
		// Stored, as Keras writes them.
		w, err := zw.CreateHeader(&zip.FileHeader{Name: zf.Name, Method: zip.Store, Modified: zf.Modified})
		if err != nil {
			t.Fatalf("kerastest: %v", err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatalf("kerastest: %v", err)
		}
	}
	if !edited {
		t.Fatalf("kerastest: %s has no config.json", src)
	}
	if err := zw.Close(); err != nil {
		t.Fatalf("kerastest: %v", err)
	}
	if err := out.Close(); err != nil {
		t.Fatalf("kerastest: %v", err)
	}
	return dst
}

// SequentialLayers returns the layer list of a Sequential model's config
// (config["config"]["layers"]), each entry a {"class_name", "config", ...}
// object, for EditKerasConfig callbacks. It fails the test when config is
// not a Sequential model's.
func SequentialLayers(t testing.TB, config map[string]any) []any {
	t.Helper()
	inner, _ := config["config"].(map[string]any)
	layers, _ := inner["layers"].([]any)
	if config["class_name"] != "Sequential" || layers == nil {
		t.Fatalf("kerastest: config is not a Sequential model with layers")
	}
	return layers
}
