// Package conformance proves that the native engine computes what the real
// TensorFlow Lite runtime computes, on every real model in the shared test
// data that both can run.
//
// # Cases and inputs
//
// Cases lists the models (paths relative to the test data root,
// $FRUITCAM_TESTDATA, default ../shared/testdata beside the module root)
// and, for each, at least three inputs: photos where the input is an image
// (the Coral BMPs, two Fruits-360 JPEGs, the raw bird.rgb/sunflower.rgb),
// decoded by the standard library or our small BMP reader, nearest-resized
// in this package, normalised as the model was trained (x/127.5-1, x/255,
// raw pixels, or ImageNet mean/std for the PyTorch model, whose NCHW input
// gets the transposed image), and quantised with the input tensor's own
// scale and zero point; and seeded noise from math/rand/v2's PCG, taken
// from its Uint64 stream only, so the bytes are the same on every machine
// and Go version. Models without image inputs get hand-picked values
// (xor's truth table, fizzbuzz's binary digits, hello_world's x) and noise.
//
// # Golden files
//
// testdata/<model>.json holds, per input, its description, the SHA-256 of
// its bytes and the base64 bytes of every output from the TensorFlow Lite
// 2.9 C library (default kernels, one thread; the bars are set against
// it) and from TFLite WASM (XNNPACK; reported, not gated). Inputs are not
// stored: the tests regenerate them and insist on the recorded SHA-256,
// so a changed generator or image cannot silently void the goldens.
// Regenerate after changing Cases or the input code (needs make ref and
// node):
//
//	REF=$PWD/.tflite-ref CGO_ENABLED=1 CGO_CFLAGS=-I$REF/c/include \
//	CGO_LDFLAGS="-L$REF/c/linux_amd64 -Wl,-rpath,$REF/c/linux_amd64" \
//	go test -tags tfliteref ./infer/conformance -run TestGenerateGoldens -update
//
// # Tests
//
// go test ./infer/conformance (pure Go, offline) runs the native engine on
// every golden input and requires, against the C library:
//
//   - quantised outputs: the same top-1 and at most MaxSteps (3)
//     quantisation steps apart anywhere;
//   - float outputs: relative error at most MaxRelErr (1e-4), measured as
//     |got-want| / max(|want|, floor) with floor = 1e-3 × the tensor's
//     largest |want| (see RelErr for why), and the same top-1.
//
// Top-1 is tie-aware: a row agrees when the indices holding its maximum in
// the two outputs intersect. It logs the |Δ| histogram against both
// references and their own difference (the C library and XNNPACK differ
// by up to ~24 steps on the MobileNets, which is why only the C library
// sets the bar). It then runs all inputs of a model as one batch with two
// threads, and the first input alone with two threads: both must be
// byte-identical to batch 1, one thread. A model whose graph cannot take
// another batch size may refuse the resize; that is logged, not failed.
// With -short only the first input of each model runs, without the
// batch/thread pass (qemu runs in make arm64).
//
// TestRefusals checks the models the native backend must refuse, and the
// message: Edge TPU models, the LSTM model, TFLite Micro's person_detect,
// an unregistered custom op, images, Keras files, empty and truncated
// files.
//
// Missing test data skips the tests, except under CI=true where it fails.
//
// # Live mode
//
// make conformance runs, with the C library linked in (build tag
// tfliteref, see internal/tfliteref) and node on the path,
//
//	REF=$PWD/.tflite-ref CGO_ENABLED=1 CGO_CFLAGS=-I$REF/c/include \
//	CGO_LDFLAGS="-L$REF/c/linux_amd64 -Wl,-rpath,$REF/c/linux_amd64" \
//	TFLITE_WASM_DIR=$REF/wasm go test -tags tfliteref -count=1 -v -run Live ./infer/conformance
//
// TestLive runs both real runtimes on the same inputs now, fails when
// they no longer reproduce the golden files, applies the same checks to
// the native engine and prints the per-model table.
package conformance
