package conformance

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// TestRefusals checks that models the native backend cannot run are
// refused when the engine is built, with a message that says why and what
// to do instead; none may get as far as Invoke.
func TestRefusals(t *testing.T) {
	root := testdataRoot(t)
	model := func(rel string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return readFixture(t, root, rel) }
	}
	// Coral's models carry a zip of labels after the FlatBuffer, which
	// both TFLite and our reader ignore; cutting into the FlatBuffer
	// itself must be refused, as TfLiteModelCreate refuses it.
	truncated := func(rel string, keep func(n int) int) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			b := readFixture(t, root, rel)
			return b[:keep(len(b))]
		}
	}
	const mobilenet = "models/coral/mobilenet_v1_0.25_128_quant.tflite"
	tests := []struct {
		name string
		data func(t *testing.T) []byte
		// want are substrings of the error message.
		want []string
		// is checks the error's type.
		is func(error) bool
	}{
		{
			name: "edgetpu mobilenet",
			data: model("models/coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite"),
			want: []string{"operator 0 is CUSTOM(edgetpu-custom-op)", "Edge TPU", `backend "edgetpu"`},
			is:   unsupportedOp(0),
		},
		{
			name: "edgetpu fizzbuzz",
			data: model("models/go-tflite/fizzbuzz_model_quant_edgetpu.tflite"),
			want: []string{"CUSTOM(edgetpu-custom-op)", `backend "edgetpu"`},
			is:   unsupportedOp(0),
		},
		{
			name: "lstm",
			data: model("models/coral/keras_lstm_mnist_ptq.tflite"),
			want: []string{"operator " + lstmIndex(t, root) + " is UNIDIRECTIONAL_SEQUENCE_LSTM", `"tflite" backend`},
			is:   unsupportedOp(-2),
		},
		{
			name: "tflm person_detect",
			data: model("models/tflm/person_detect.tflite"),
			want: []string{"invalid quantized_dimension 3", "TensorFlow Lite refuses this file too"},
			is:   isFormatError,
		},
		{
			name: "unregistered custom op",
			data: model("models/coral/model_invoking_error.tflite"),
			want: []string{"operator 0 is CUSTOM(fake-op-double)", `custom op "fake-op-double" is not a TFLite builtin`},
			is:   unsupportedOp(0),
		},
		{
			name: "jpeg",
			data: model("images/fruits360/Test/Banana/102_100.jpg"),
			want: []string{"not a TensorFlow Lite model", "this is an image, not a model"},
			is:   func(err error) bool { return errors.Is(err, tfl.ErrNotTFLite) },
		},
		{
			name: "keras h5",
			data: model("keras/go-tflite/xor_model.h5"),
			want: []string{"not a TensorFlow Lite model", "HDF5", "convert keras"},
			is:   func(err error) bool { return errors.Is(err, tfl.ErrNotTFLite) },
		},
		{
			name: "empty file",
			data: func(*testing.T) []byte { return nil },
			want: []string{"not a TensorFlow Lite model", "only 0 bytes"},
			is:   func(err error) bool { return errors.Is(err, tfl.ErrNotTFLite) },
		},
		{
			name: "truncated to 8 bytes",
			data: truncated(mobilenet, func(int) int { return 8 }),
			want: []string{"malformed model", "outside the 8-byte file"},
			is:   isFormatError,
		},
		{
			name: "truncated to half",
			data: truncated(mobilenet, func(n int) int { return n / 2 }),
			want: []string{"malformed model", "outside the file"},
			is:   isFormatError,
		},
		{
			name: "truncated by one byte",
			data: truncated("models/tflm/hello_world_int8.tflite", func(n int) int { return n - 1 }),
			want: []string{"malformed model", "past the end of the file"},
			is:   isFormatError,
		},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
			if err := os.WriteFile(path, tt.data(t), 0o600); err != nil {
				t.Fatal(err)
			}
			err := load(path)
			if err == nil {
				t.Fatal("got a working engine, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if !tt.is(err) {
				t.Errorf("error %q (%T) has the wrong type", err, errors.Unwrap(err))
			}
			if !strings.HasPrefix(err.Error(), "infer: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// load is what the agent does with a model path.
func load(path string) error {
	f, err := infer.ReadFile(path)
	if err != nil {
		return err
	}
	e, err := infer.NewEngine(f, infer.Options{Backend: infer.BackendNative})
	if err != nil {
		return err
	}
	return e.Close()
}

func readFixture(t *testing.T, root, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		testdata.Missing(t, err)
	}
	return b
}

// lstmIndex finds the LSTM operator's index in the model, so the test
// checks that the message names the right operator.
func lstmIndex(t *testing.T, root string) string {
	b, err := os.ReadFile(filepath.Join(root, "models/coral/keras_lstm_mnist_ptq.tflite"))
	if err != nil {
		return "?"
	}
	m, err := tfl.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	for i, op := range m.Subgraphs[0].Operators {
		if m.OperatorCodes[op.OpcodeIndex].Name() == "UNIDIRECTIONAL_SEQUENCE_LSTM" {
			return strconv.Itoa(i)
		}
	}
	t.Fatal("keras_lstm_mnist_ptq.tflite has no UNIDIRECTIONAL_SEQUENCE_LSTM")
	return ""
}

// unsupportedOp matches a *native.UnsupportedOpError at operator index
// (any index when index is -2).
func unsupportedOp(index int) func(error) bool {
	return func(err error) bool {
		var ue *native.UnsupportedOpError
		return errors.As(err, &ue) && (index == -2 || ue.Index == index)
	}
}

func isFormatError(err error) bool {
	var fe *tfl.FormatError
	return errors.As(err, &fe)
}
