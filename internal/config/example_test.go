package config_test

import (
	"errors"
	"fmt"

	"github.com/fruitcam/fruitcam/internal/config"
)

func ExampleParse() {
	data := []byte(`version: 1
model:
  path: mobilenet_v2.tflite
infer:
  batch: {size: -1, timeuot: 20ms}
cameras:
  - name: belt
    source: {type: folder, path: "images/*.jpg", rate: 4}
`)
	_, err := config.Parse(data, "demo.yaml")
	fmt.Println(err)

	// Each problem is a *config.Error with its line and key.
	var es config.Errors
	if errors.As(err, &es) {
		fmt.Println(es[0].Line, es[0].Key)
	}
	// Output:
	// demo.yaml:5: infer.batch.timeuot: unknown key (did you mean timeout?)
	// demo.yaml:5: infer.batch.size: -1 is not positive
	// 5 infer.batch.timeuot
}

func ExampleDefault() {
	c := config.Default()
	c.Model.Path = "/var/lib/fruitcam/models/fruits.tflite"
	cam := config.DefaultCamera()
	cam.Name = "cam0"
	cam.Source.Type = config.SourceV4L2
	c.Cameras = append(c.Cameras, cam)
	fmt.Println(c.Validate())

	c.Infer.Batch.Size = 0
	fmt.Println(c.Validate())
	// Output:
	// <nil>
	// config: infer.batch.size: 0 is not positive
}
