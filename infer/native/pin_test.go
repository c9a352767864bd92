package native_test

import (
	"bytes"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/fruitcam/fruitcam/infer/native"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// TestPinTensors checks that a pinned intermediate tensor holds, after
// Invoke, the same bytes as with KeepTensors (every activation alive), that
// pinning a few tensors costs less arena than keeping all of them, and that
// Kept refuses tensors whose memory was reused.
func TestPinTensors(t *testing.T) {
	data, err := os.ReadFile(testdata.Path(t, "models/coral/mobilenet_v1_0.25_128_quant.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := tfl.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	sg := &m.Subgraphs[0]
	// Early, middle and late activations: operator outputs.
	ops := sg.Operators
	pins := []int{ops[0].Outputs[0], ops[len(ops)/2].Outputs[0], ops[len(ops)-3].Outputs[0], sg.Inputs[0]}
	keep, err := native.New(m, native.Options{KeepTensors: true})
	if err != nil {
		t.Fatal(err)
	}
	pin, err := native.New(m, native.Options{PinTensors: pins})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := native.New(m, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	in := make([]byte, len(keep.Inputs()[0].Data))
	for i := range in {
		in[i] = byte(rng.UintN(256))
	}
	for _, it := range []*native.Interpreter{keep, pin} {
		copy(it.Inputs()[0].Data, in)
		if err := it.Invoke(); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range pins {
		got, ok := pin.Kept(i)
		if !ok {
			t.Fatalf("Kept(%d) = false for a pinned tensor", i)
		}
		want, _ := keep.Kept(i)
		if !bytes.Equal(got.Data, want.Data) {
			t.Errorf("pinned tensor %d (%s) differs from the kept one", i, got.Name)
		}
	}
	if got, _ := pin.Kept(sg.Inputs[0]); !bytes.Equal(got.Data, in) {
		t.Errorf("the pinned input changed during Invoke")
	}
	if _, ok := plain.Kept(sg.Inputs[0]); ok {
		t.Errorf("Kept(input) = true without a pin: its memory is reused after its last reader")
	}
	if _, ok := pin.Kept(ops[1].Outputs[0]); ok {
		t.Errorf("Kept(%d) = true for a tensor that was not pinned", ops[1].Outputs[0])
	}
	if _, ok := pin.Kept(sg.Outputs[0]); !ok {
		t.Errorf("Kept(output) = false")
	}
	if p, k, z := pin.ArenaBytes(), keep.ArenaBytes(), plain.ArenaBytes(); p >= k || p < z {
		t.Errorf("arena: pinned %d bytes, all kept %d, none %d: want none <= pinned < all", p, k, z)
	} else {
		t.Logf("arena: none kept %d KiB, 4 pinned %d KiB, all kept %d KiB", z>>10, p>>10, k>>10)
	}
	if _, err := native.New(m, native.Options{PinTensors: []int{len(sg.Tensors)}}); err == nil {
		t.Errorf("pinning tensor %d of %d: no error", len(sg.Tensors), len(sg.Tensors))
	}
	allocs := testing.AllocsPerRun(5, func() { _ = pin.Invoke() })
	if allocs != 0 {
		t.Errorf("Invoke with pinned tensors allocates %v times", allocs)
	}
}
