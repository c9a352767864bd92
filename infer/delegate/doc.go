// Package delegate loads TensorFlow Lite delegates that live in shared
// libraries of their own, the Coral Edge TPU runtime (libedgetpu.so.1) above
// all, the way pycoral does: as an external delegate plugin.
//
// A plugin library exports the two functions of TFLite's external delegate
// protocol, tflite_plugin_create_delegate (keys, values, count,
// report_error) and tflite_plugin_destroy_delegate. NewExternal loads TFLite's
// external delegate library (libexternal_delegate_obj.so, shipped beside
// libtensorflowlite_c.so), which dlopens the plugin and wraps the plugin's
// delegate in a TfLiteDelegate an interpreter accepts. External satisfies
// go-tflite's delegates.Delegater, so it goes straight into
// (*tflite.InterpreterOptions).AddDelegate.
//
// Lifetime rule: create the delegate before the interpreter, and Delete it
// only after every interpreter built with it has been deleted (and after the
// interpreter options that hold it, if they outlive the interpreter).
// TFLite keeps calling into the delegate for as long as an interpreter
// exists; deleting it earlier is a use after free in C.
//
// libedgetpu only works with the TensorFlow Lite release it was built
// against (they share C structures by layout). NewEdgeTPU reads both
// versions (edgetpu_version(), TfLiteVersion()) and refuses pairs known to
// break, naming both files and the fix; version.go holds the table and its
// sources. ProbeEdgeTPU reports what was found for `agent doctor`, and
// ExplainEdgeTPUError adds the meaning and the fix to libedgetpu's known
// runtime errors.
//
// EdgeTPUOptions, FindEdgeTPULibrary, the version table and
// ExplainEdgeTPUError are plain Go and build everywhere; the loading itself
// (External, NewExternal, NewEdgeTPU, ProbeEdgeTPU) needs cgo and the build
// tag tflite, like the tflite backend of package infer. Without them
// ProbeEdgeTPU only looks for the library and returns ErrNoTFLite.
//
// Package delegatetest builds test doubles: a counting plugin, and a fake
// libedgetpu (testdata/faketpu.c) that runs an Edge TPU model's CPU twin
// and can be made to fail or stall like a USB accelerator.
package delegate
