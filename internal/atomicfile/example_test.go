package atomicfile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/fruitcam/fruitcam/internal/atomicfile"
)

func ExampleWriteFile() {
	dir, _ := os.MkdirTemp("", "atomicfile")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "last-config.json")
	if err := atomicfile.WriteFile(path, []byte(`{"version":17}`+"\n"), 0o600); err != nil {
		fmt.Println(err)
		return
	}
	b, _ := os.ReadFile(path)
	fmt.Print(string(b))
	// Output: {"version":17}
}
