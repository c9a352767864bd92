package modelstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fruitcam/fruitcam/internal/modelstore"
)

func ExampleStore_Fetch() {
	dir, _ := os.MkdirTemp("", "modelstore")
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "fruit.tflite")
	os.WriteFile(src, []byte("model"), 0o644)

	s := &modelstore.Store{Dir: filepath.Join(dir, "models")}
	// sha256sum fruit.tflite
	const sha = "9372c470eeadd5ecd9c3c74c2b3cb633f8e2f2fad799250a0f70d652b6b825e4"
	path, err := s.Fetch(context.Background(), "file://"+src, sha)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(filepath.Base(path))
	// Output: 9372c470eeadd5ecd9c3c74c2b3cb633f8e2f2fad799250a0f70d652b6b825e4.tflite
}
