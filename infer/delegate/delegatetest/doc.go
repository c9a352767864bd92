// Package delegatetest builds the C test doubles of package delegate for
// tests that need a TensorFlow Lite delegate plugin without the hardware:
// BuildPlugin compiles a plugin, FakeTPU a stand-in for the Coral Edge TPU
// runtime (libedgetpu.so.1) that runs an Edge TPU model's CPU twin and can
// be told to fail or stall (see ../testdata/faketpu.c for its protocol).
//
// Everything here needs cgo and the build tag tflite, and a C compiler at
// test time: $CC (so the arm64 tests under qemu build arm64 plugins with
// CC=aarch64-linux-gnu-gcc), else gcc. A missing compiler skips the test,
// or fails it under CI=true.
//
// Typical use, with the fake put where delegate.FindEdgeTPULibrary looks
// first (it reads LD_LIBRARY_PATH at call time; the dynamic loader itself
// is not involved):
//
//	dir := delegatetest.FakeTPU(t)
//	control := delegatetest.Use(t, dir, cpuModelPath)
//	d, err := delegate.NewEdgeTPU("usb")
//	...
//	delegatetest.SetControl(t, control, delegatetest.Stall)
package delegatetest
