package dataset_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/fruitcam/fruitcam/internal/dataset"
)

func Example() {
	dir, _ := os.MkdirTemp("", "fruits")
	defer os.RemoveAll(dir)
	for _, f := range []string{"Lemon/1.jpg", "Banana/1.jpg", "Banana/2.png"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755)
		os.WriteFile(filepath.Join(dir, f), nil, 0o644)
	}
	set, err := dataset.Scan(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(set.Classes, len(set.Items), len(set.Sample(2).Items))
	// Output: [Banana Lemon] 3 2
}
