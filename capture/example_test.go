package capture_test

import (
	"context"
	"fmt"
	"image"

	"github.com/fruitcam/fruitcam/capture"
)

// A synthetic camera over a conveyor: a command (say, from MQTT) starts
// an item, the camera takes two frames of it, cropped to the belt.
func Example() {
	src, err := capture.NewPattern(capture.PatternOptions{Width: 320, Height: 240})
	if err != nil {
		panic(err)
	}
	defer src.Close()
	trigger := capture.NewCommand()
	cam := &capture.Camera{
		Name: "belt", Source: src, Trigger: trigger,
		Frames: 2, ROI: image.Rect(0, 40, 320, 200),
	}
	trigger.Fire()
	trigger.Fire()

	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err = cam.Run(ctx, func(f *capture.Frame) {
		defer f.Release()
		fmt.Printf("item %d frame %d of %d: %v\n", f.Item, f.Seq, f.ItemFrames, f.Image.Bounds())
		if n++; n == 4 {
			cancel()
		}
	})
	fmt.Println("run:", err)
	// Output:
	// item 1 frame 1 of 2: (0,40)-(320,200)
	// item 1 frame 2 of 2: (0,40)-(320,200)
	// item 2 frame 3 of 2: (0,40)-(320,200)
	// item 2 frame 4 of 2: (0,40)-(320,200)
	// run: <nil>
}
