package tfliteref

import (
	"context"
	"os"
	"testing"

	"github.com/fruitcam/fruitcam/internal/testdata"
)

func TestRunCLI(t *testing.T) {
	crun, err := CRunPath()
	if err != nil {
		testdata.Missing(t, err)
	}
	model, err := os.ReadFile(testdata.Path(t, "models/tflm/hello_world_int8.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	outs, err := RunCLI(context.Background(), crun, model, [][]byte{{0}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 1 || len(outs[0]) != 1 {
		t.Fatalf("outputs %v, want one of one byte", outs)
	}
	if _, err := RunCLI(context.Background(), crun, []byte("not a model"), [][]byte{{0}}, 0); err == nil {
		t.Fatal("a broken model ran")
	}
}
