package infer

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// sumEngine is an Engine whose one output byte is the sum of its input
// bytes plus add, so a test can tell which engine ran and on what inputs.
// fail (when set) is asked before every Invoke; block (when set) is waited
// on, like a USB transfer that does not come back.
type sumEngine struct {
	add    byte
	batch  int
	in     []byte
	out    []byte
	shape  []int // input shape without the batch
	calls  int
	fail   func(call int) error
	block  chan struct{}
	closed atomic.Bool
}

func newSum(add byte) *sumEngine {
	f := &sumEngine{add: add, shape: []int{4}}
	f.SetBatch(1)
	return f
}

func (f *sumEngine) Inputs() []TensorInfo {
	return []TensorInfo{{Name: "in", Type: tfl.Uint8, Shape: append([]int{f.batch}, f.shape...), Scale: 1}}
}

func (f *sumEngine) Outputs() []TensorInfo {
	return []TensorInfo{{Name: "out", Type: tfl.Uint8, Shape: []int{f.batch, 1}, Scale: 1}}
}

func (f *sumEngine) SetBatch(n int) error {
	f.batch = n
	f.in = make([]byte, n*f.shape[0])
	f.out = make([]byte, n)
	return nil
}

func (f *sumEngine) Input(int) []byte  { return f.in }
func (f *sumEngine) Output(int) []byte { return f.out }

func (f *sumEngine) Invoke() error {
	f.calls++
	if f.block != nil {
		<-f.block
	}
	if f.fail != nil {
		if err := f.fail(f.calls); err != nil {
			return err
		}
	}
	for b := range f.batch {
		s := f.add
		for _, v := range f.in[b*f.shape[0] : (b+1)*f.shape[0]] {
			s += v
		}
		f.out[b] = s
	}
	return nil
}

func (f *sumEngine) Close() error {
	f.closed.Store(true)
	return nil
}

// run writes in and invokes w, returning the output.
func runW(t *testing.T, w Engine, in ...byte) []byte {
	t.Helper()
	copy(w.Input(0), in)
	if err := w.Invoke(); err != nil {
		t.Fatalf("invoke: %v", err)
	}
	return append([]byte(nil), w.Output(0)...)
}

func TestWatchdogErrorSwitchesToFallback(t *testing.T) {
	tpu, cpu := newSum(100), newSum(0)
	tpu.fail = func(call int) error {
		if call >= 3 {
			return errors.New("USB transfer error 2 [LibUsbDataOutCallback]")
		}
		return nil
	}
	var changes []Health
	w, err := NewWatchdog(tpu, WatchdogOptions{
		Name: "edgetpu", FallbackName: "native", Timeout: time.Minute,
		Fallback: func() (Engine, error) { return cpu, nil },
		OnChange: func(h Health) { changes = append(changes, h) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if got := runW(t, w, 1, 2, 3, 4); got[0] != 110 {
		t.Fatalf("first output %d, want 110 from the primary", got[0])
	}
	runW(t, w, 0, 0, 0, 0)
	// The third call fails on the primary: the fallback runs the same
	// inputs, the caller sees no error.
	if got := runW(t, w, 5, 5, 5, 5); got[0] != 20 {
		t.Fatalf("output after the failure %d, want 20 from the fallback", got[0])
	}
	if got := runW(t, w, 1, 1, 1, 1); got[0] != 4 {
		t.Fatalf("next output %d, want 4 from the fallback", got[0])
	}
	h := w.Health()
	if h.State != StateFallback || h.Active != "native" || h.Failures != 1 || h.Stalls != 0 || !strings.Contains(h.LastError, "USB transfer") {
		t.Errorf("health %+v", h)
	}
	if len(changes) != 1 || changes[0].State != StateFallback {
		t.Errorf("changes %+v, want one switch to fallback", changes)
	}
	if !waitFor(tpu.closed.Load) {
		t.Error("the failed primary was not closed")
	}
}

func TestWatchdogStallSwitchesToFallback(t *testing.T) {
	tpu, cpu := newSum(100), newSum(0)
	w, err := NewWatchdog(tpu, WatchdogOptions{
		Name: "edgetpu", FallbackName: "tflite", Timeout: 50 * time.Millisecond,
		Fallback: func() (Engine, error) { return cpu, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.SetBatch(2); err != nil {
		t.Fatal(err)
	}
	tpu.block = make(chan struct{})
	start := time.Now()
	got := runW(t, w, 1, 1, 1, 1, 2, 2, 2, 2)
	if got[0] != 4 || got[1] != 8 {
		t.Fatalf("outputs %v after the stall, want [4 8] from the fallback at batch 2", got)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("switched after %v, before the deadline", d)
	}
	if h := w.Health(); h.State != StateFallback || h.Stalls != 1 || h.Failures != 1 || !strings.Contains(h.LastError, "stalled") {
		t.Errorf("health %+v", h)
	}
	if tpu.closed.Load() {
		t.Fatal("the stalled engine was closed while its call was still running")
	}
	close(tpu.block) // the hung call returns at last: its goroutine closes it
	if !waitFor(tpu.closed.Load) {
		t.Error("the stalled engine was not closed after its call returned")
	}
}

// TestWatchdogFirstCallIsSlow: the first inference may take firstCall
// times the deadline (an Edge TPU uploads the model then); later ones not.
func TestWatchdogFirstCallIsSlow(t *testing.T) {
	tpu, cpu := newSum(100), newSum(0)
	slow := 150 * time.Millisecond
	tpu.fail = func(int) error { time.Sleep(slow); return nil }
	w, err := NewWatchdog(tpu, WatchdogOptions{
		Name: "edgetpu", FallbackName: "native", Timeout: 50 * time.Millisecond,
		Fallback: func() (Engine, error) { return cpu, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if got := runW(t, w, 1, 0, 0, 0); got[0] != 101 {
		t.Fatalf("first output %d, want 101 from the primary despite %v > the deadline", got[0], slow)
	}
	if got := runW(t, w, 1, 0, 0, 0); got[0] != 1 {
		t.Fatalf("second output %d, want 1 from the fallback", got[0])
	}
	if h := w.Health(); h.Stalls != 1 {
		t.Errorf("health %+v", h)
	}
}

func TestWatchdogWithoutFallback(t *testing.T) {
	tpu := newSum(100)
	tpu.fail = func(int) error { return errors.New("device gone") }
	w, err := NewWatchdog(tpu, WatchdogOptions{Name: "edgetpu"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	copy(w.Input(0), []byte{1, 2, 3, 4})
	if err := w.Invoke(); err == nil || !strings.Contains(err.Error(), "no fallback") {
		t.Fatalf("invoke error %v, want one saying there is no fallback", err)
	}
	// Inputs stay writable, invokes keep failing with the cause.
	if len(w.Input(0)) != 4 || len(w.Output(0)) != 1 {
		t.Fatalf("buffers %d/%d bytes after the failure", len(w.Input(0)), len(w.Output(0)))
	}
	if err := w.Invoke(); err == nil || !strings.Contains(err.Error(), "device gone") {
		t.Fatalf("second invoke error %v, want the cause", err)
	}
	if h := w.Health(); h.State != StateFailed || h.Active != "" {
		t.Errorf("health %+v", h)
	}
}

func TestWatchdogRecovers(t *testing.T) {
	tpu, cpu := newSum(100), newSum(0)
	tpu.fail = func(int) error { return errors.New("device gone") }
	var mu sync.Mutex
	reopens, ready := 0, false
	w, err := NewWatchdog(tpu, WatchdogOptions{
		Name: "edgetpu", FallbackName: "native", Timeout: time.Minute, Retry: 10 * time.Millisecond,
		Fallback: func() (Engine, error) { return cpu, nil },
		Reopen: func() (Engine, error) {
			mu.Lock()
			defer mu.Unlock()
			reopens++
			if !ready {
				return nil, errors.New("no Edge TPU found")
			}
			return newSum(200), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if got := runW(t, w, 1, 0, 0, 0); got[0] != 1 {
		t.Fatalf("output %d, want 1 from the fallback", got[0])
	}
	if !waitFor(func() bool { mu.Lock(); defer mu.Unlock(); return reopens >= 2 }) {
		t.Fatal("the primary was not retried")
	}
	mu.Lock()
	ready = true
	mu.Unlock()
	// The next invokes go to the fallback until the reopened primary is
	// offered, then to it, with the inputs already written.
	if !waitFor(func() bool { return runW(t, w, 1, 0, 0, 0)[0] == 201 }) {
		t.Fatal("never back on the primary")
	}
	if h := w.Health(); h.State != StateOK || h.Active != "edgetpu" || h.Recovered != 1 || h.Failures != 1 {
		t.Errorf("health %+v", h)
	}
}

func TestWatchdogRefusesMismatchedFallback(t *testing.T) {
	tpu, cpu := newSum(0), newSum(0)
	cpu.shape = []int{5}
	cpu.SetBatch(1)
	_, err := NewWatchdog(tpu, WatchdogOptions{
		Name: "edgetpu", FallbackName: "native",
		Fallback: func() (Engine, error) { return cpu, nil },
	})
	if err == nil || !strings.Contains(err.Error(), "cannot stand in") {
		t.Fatalf("error %v, want a tensor mismatch", err)
	}
	if !tpu.closed.Load() || !cpu.closed.Load() {
		t.Error("engines left open after the refusal")
	}
}

func TestWatchdogCloseDoesNotHang(t *testing.T) {
	tpu, cpu := newSum(0), newSum(0)
	tpu.block = make(chan struct{}) // never released
	hang := make(chan struct{})
	defer close(hang)
	w, err := NewWatchdog(tpu, WatchdogOptions{
		Name: "edgetpu", FallbackName: "native", Timeout: 20 * time.Millisecond, Retry: time.Millisecond,
		Fallback: func() (Engine, error) { return cpu, nil },
		Reopen:   func() (Engine, error) { <-hang; return nil, errors.New("closed") },
	})
	if err != nil {
		t.Fatal(err)
	}
	runW(t, w, 1, 2, 3, 4)
	time.Sleep(20 * time.Millisecond) // the reopen is now hanging
	start := time.Now()
	w.Close()
	if d := time.Since(start); d > closeWait+time.Second {
		t.Errorf("Close took %v", d)
	}
	if !cpu.closed.Load() {
		t.Error("fallback not closed")
	}
}

func TestWatchdogSteadyStateDoesNotAllocate(t *testing.T) {
	w, err := NewWatchdog(newSum(0), WatchdogOptions{Name: "edgetpu", Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if n := testing.AllocsPerRun(100, func() { w.Invoke() }); n != 0 {
		t.Errorf("%v allocations per Invoke", n)
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}
