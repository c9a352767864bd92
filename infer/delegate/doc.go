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
// EdgeTPUOptions and FindEdgeTPULibrary are plain Go and build everywhere;
// the loading itself (External, NewExternal, NewEdgeTPU) needs cgo and the
// build tag tflite, like the tflite backend of package infer.
package delegate
