package verify_test

import (
	"context"
	"log"
	"os"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/internal/dataset"
	"github.com/fruitcam/fruitcam/internal/verify"
)

// Compare a float model with its int8 twin on a folder of labelled
// images (one subfolder per class), and draw the confusion matrices.
func ExampleRun() {
	var models [2]verify.Model
	for i, m := range []struct{ name, path string }{{"float", "fruits_float.tflite"}, {"quant", "fruits_int8.tflite"}} {
		f, err := infer.ReadFile(m.path)
		if err != nil {
			log.Fatal(err)
		}
		models[i] = verify.Model{Name: m.name, File: f}
	}
	set, err := dataset.Scan("fruits360/Test")
	if err != nil {
		log.Fatal(err)
	}
	r, err := verify.Run(context.Background(), models, set, verify.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if err := verify.WriteText(os.Stdout, r); err != nil {
		log.Fatal(err)
	}
	chart, err := os.Create("confusion.png")
	if err != nil {
		log.Fatal(err)
	}
	defer chart.Close()
	if err := verify.WriteChart(chart, r); err != nil {
		log.Fatal(err)
	}
}
