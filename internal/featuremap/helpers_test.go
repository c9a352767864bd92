package featuremap_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/testdata"
	"github.com/fruitcam/fruitcam/internal/testmodels"
)

// firstImage returns the first file, by name, of a test-data folder.
func firstImage(t testing.TB, dir string) string {
	t.Helper()
	d := testdata.Path(t, dir)
	entries, err := os.ReadDir(d)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		t.Fatalf("%s holds no image", d)
	}
	slices.Sort(names)
	return filepath.Join(d, names[0])
}

// fruitCNN returns the workshop's fruit CNN in float32 and int8
// (testmodels.FruitCNN), read back from the files a user would have.
func fruitCNN(tb testing.TB) (flt, q8 *infer.File) {
	tb.Helper()
	f, q := testmodels.FruitCNN(tb)
	return reparse(tb, f, "fruits.tflite"), reparse(tb, q, "fruits_int8.tflite")
}

// reparse writes m and reads it back.
func reparse(tb testing.TB, m *tfl.Model, name string) *infer.File {
	tb.Helper()
	f, err := infer.ReadFile(testmodels.Write(tb, m, name))
	if err != nil {
		tb.Fatal(err)
	}
	return f
}
