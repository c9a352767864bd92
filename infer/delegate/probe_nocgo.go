//go:build !(tflite && cgo)

package delegate

// ProbeEdgeTPU reports what it can without cgo: where libedgetpu.so.1 is.
// The error is the library's absence, or else ErrNoTFLite.
func ProbeEdgeTPU(device string) (EdgeTPUInfo, error) {
	info := EdgeTPUInfo{Device: device}
	if _, err := EdgeTPUOptions(device); err != nil {
		return info, err
	}
	lib, err := FindEdgeTPULibrary()
	if err != nil {
		return info, err
	}
	info.Library = lib
	return info, ErrNoTFLite
}
