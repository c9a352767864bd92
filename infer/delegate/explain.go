package delegate

import (
	"fmt"
	"regexp"
	"strings"
)

var packageRuntimeRE = regexp.MustCompile(`Package requires runtime version \((\d+)\), which is newer than this runtime version \((\d+)\)`)

// ExplainEdgeTPUError returns msg, the text TensorFlow Lite reported for a
// failed AllocateTensors or Invoke of an interpreter with the Edge TPU
// delegate, followed by what it means and what to do when it is one of
// libedgetpu's known failures; otherwise msg unchanged. The known ones:
//
//   - "Package requires runtime version (N), which is newer than this
//     runtime version (M)": the model was compiled for a newer libedgetpu.
//   - "Unsupported data type in custom op handler: <number>": libedgetpu
//     and libtensorflowlite_c come from different TensorFlow releases.
//   - "Encountered unresolved custom op: edgetpu-custom-op": no Edge TPU
//     delegate took the model's Edge TPU operator.
//   - USB transfer failures ("USB transfer error", "Failed to execute
//     request", "Deadline exceeded"): the accelerator went away or hung.
//   - other "Failed precondition" and "Failed to prepare for TPU" errors.
//
// A USB accelerator can also make libedgetpu abort the whole process
// ("bulk out for header failed. Abort."), which no error text reaches:
// run the agent under a supervisor that restarts it.
func ExplainEdgeTPUError(msg string) string {
	hint := edgetpuHint(msg)
	if hint == "" {
		return msg
	}
	return msg + " (" + hint + ")"
}

func edgetpuHint(msg string) string {
	lower := strings.ToLower(msg)
	has := func(s string) bool { return strings.Contains(lower, strings.ToLower(s)) }
	if m := packageRuntimeRE.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("the model was compiled for Edge TPU runtime %s but the installed libedgetpu is runtime %s: "+
			"install libedgetpu1-std 16.0 (runtime 14) from Coral's apt repository, or compile the model again with edgetpu_compiler -m %s",
			m[1], m[2], m[2])
	}
	switch {
	case has("Unsupported data type in custom op handler"):
		return "libedgetpu and libtensorflowlite_c were built from different TensorFlow releases: " +
			"Coral's libedgetpu 16.0 needs TensorFlow Lite 2.5 to 2.11, a libedgetpu built from source the release it was built against; " +
			"`agent doctor` shows both versions"
	case has("unresolved custom op") && has("edgetpu-custom-op"):
		return "no Edge TPU delegate ran the model's edgetpu-custom-op: use backend edgetpu (libedgetpu and a TPU) or the CPU .tflite the model was compiled from; " +
			"with the delegate loaded, libedgetpu does not match libtensorflowlite_c (`agent doctor` shows both versions)"
	case has("USB transfer error") || has("LibUsbData") || has("Failed to execute request") || has("Deadline exceeded"):
		return "the Edge TPU stopped answering: a USB accelerator unplugged, reset or under-powered " +
			"(dmesg shows \"USB disconnect\"; use a USB 3 port or a powered hub and the supplied cable); " +
			"replug it and check that lsusb lists 1a6e:089a or 18d1:9302"
	case has("Failed precondition"):
		return "libedgetpu refused the model or the device in its present state: check that the model was compiled for this runtime " +
			"(`agent doctor` shows the runtime version; edgetpu_compiler -m N targets an older one) and that no other process holds the TPU"
	case has("Failed to prepare for TPU"):
		return "libedgetpu could not load the model onto the Edge TPU: check the runtime version (`agent doctor`) and that no other process holds the TPU"
	}
	return ""
}
