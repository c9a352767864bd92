package board_test

import (
	"os"

	"github.com/fruitcam/fruitcam/internal/board"
)

// The checklist of a Jetson Nano with nothing attached, read from a fake
// tree. On a board, Host is board.Local().
func Example() {
	h := board.Host{Root: "testdata/jetson", GOARCH: "arm64"}
	r := board.Diagnose(board.Options{Host: h, Backends: []string{"native"}})
	r.WriteText(os.Stdout)
	// Output:
	// board
	//   ✓ model        NVIDIA Jetson Nano Developer Kit
	//   ✓ arch         linux/arm64 binary, aarch64 kernel, arm64 userland
	//   ✓ cpus         4
	//   ✓ memory       3.9 GiB, 3.0 GiB available
	//   ✓ temperature  38.5 °C (CPU-therm)
	// libraries
	//   – libtensorflowlite_c.so       not found in /usr/lib/aarch64-linux-gnu, /usr/local/lib, /usr/lib; only the tflite build uses it
	//   – libexternal_delegate_obj.so  not found in /usr/lib/aarch64-linux-gnu, /usr/local/lib, /usr/lib; only the tflite build uses it
	//   – libedgetpu.so.1              not found in /usr/lib/aarch64-linux-gnu, /usr/local/lib, /usr/lib; only the tflite build uses it
	// edgetpu
	//   – edgetpu  none found (no USB accelerator, no /dev/apex_N); only backends edgetpu and auto use one
	// cameras
	//   – video  no /dev/video* devices; only v4l2 sources use one
	//
	// all good
}
