package native_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/fruitcam/fruitcam/infer/conformance"
	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// TestInvokeDoesNotAllocate: after the first invocation, Invoke allocates
// nothing, on every conformance model, at one and two threads and at batch
// 1 and 4 (a conveyor calls it for every frame for months).
func TestInvokeDoesNotAllocate(t *testing.T) {
	root := testdata.Root(t)
	for _, c := range conformance.Cases {
		data, err := os.ReadFile(filepath.Join(root, c.Model))
		if err != nil {
			testdata.Missing(t, err)
		}
		m, err := tfl.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, threads := range []int{1, 2} {
			for _, batch := range []int{1, 4} {
				t.Run(fmt.Sprintf("%s/threads=%d/batch=%d", c.Name(), threads, batch), func(t *testing.T) {
					it, err := native.New(m, native.Options{Threads: threads})
					if err != nil {
						t.Fatal(err)
					}
					if batch > 1 {
						in := it.Inputs()[0]
						shape := append([]int{batch}, in.Shape[1:]...)
						if err := it.ResizeInput(0, shape); err != nil {
							t.Skipf("batch %d: %v", batch, err) // a graph that fixes its batch
						}
					}
					if err := it.Invoke(); err != nil {
						t.Fatal(err)
					}
					if n := testing.AllocsPerRun(3, func() { it.Invoke() }); n != 0 {
						t.Errorf("%v allocations per Invoke", n)
					}
				})
			}
		}
	}
}
