package conformance

import (
	"testing"
)

// TestConformance runs the native engine on every case and compares it
// with the golden outputs of the TensorFlow Lite C library (the bars) and
// TFLite WASM (reported). Offline and pure Go.
func TestConformance(t *testing.T) {
	root := testdataRoot(t)
	var rows []row
	for _, c := range Cases {
		t.Run(c.Name(), func(t *testing.T) {
			fx := loadFixture(t, root, c)
			rows = append(rows, checkCase(t, fx, testing.Short()))
		})
	}
	printTable(t, rows)
}
