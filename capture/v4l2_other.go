//go:build !linux

package capture

import (
	"fmt"
	"runtime"
)

func openDevice(o V4L2Options) (device, error) {
	return nil, fmt.Errorf("capture: V4L2 needs Linux (this is %s); use a folder or pattern source here", runtime.GOOS)
}
