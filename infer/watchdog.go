package infer

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Backend states reported by a Watchdog's Health.
const (
	StateOK       = "ok"       // the primary engine runs the model
	StateFallback = "fallback" // the primary failed; the fallback engine runs it
	StateFailed   = "failed"   // the primary failed and there is no fallback
)

// WatchdogOptions configures NewWatchdog.
type WatchdogOptions struct {
	// Name and FallbackName are the backends' names, for Health and logs.
	Name, FallbackName string
	// Timeout is how long one Invoke of the primary may take before it
	// counts as stalled (a USB accelerator that hangs). 0 disables the
	// timer: only errors count.
	Timeout time.Duration
	// Fallback builds the engine that takes over when the primary fails;
	// nil when there is none. It is called once, by NewWatchdog, so that a
	// broken fallback is found at start and the switch costs nothing.
	Fallback func() (Engine, error)
	// Reopen builds a new primary (a new delegate and interpreter), tried
	// every Retry after a failure; nil or Retry 0: the primary is never
	// tried again.
	Reopen func() (Engine, error)
	Retry  time.Duration
	// OnChange, when set, is called (on the caller's goroutine) after every
	// change of state.
	OnChange func(Health)
	Logger   *slog.Logger
}

// Health is what a Watchdog reports of its backends.
type Health struct {
	State     string    // StateOK, StateFallback or StateFailed
	Active    string    // the backend now running the model ("" when failed)
	Primary   string    // the backend the watchdog guards
	Failures  int       // times the primary failed (errors and stalls)
	Stalls    int       // of which: Invoke calls that exceeded Timeout
	Recovered int       // times a reopened primary took over again
	LastError string    // the primary's last failure
	Since     time.Time // when State last changed
}

// Watchdog is an Engine that runs a primary engine (the Edge TPU) under a
// deadline and switches to a fallback engine (the CPU model) when the
// primary returns an error or stalls, so that a USB accelerator that
// vanishes or hangs costs one frame, not the agent. While on the fallback
// it reopens the primary every Retry in the background and switches back
// once a reopened primary has run the model.
//
// The primary and the fallback must have the same inputs and outputs
// (types, shapes, quantisation): edgetpu_compiler keeps the CPU model's.
// NewWatchdog checks it.
//
// A stalled Invoke cannot be interrupted (it is inside the C library): its
// engine is abandoned to the goroutine running it, which closes it if the
// call ever returns. Like every Engine, a Watchdog is used by one
// goroutine; Health may be called from any.
type Watchdog struct {
	opts     WatchdogOptions
	primary  *runner // nil while on the fallback (or failed)
	fallback Engine
	cur      Engine // what Inputs/Input/... use now
	batch    int    // the last SetBatch (0: never set)
	timer    *time.Timer

	// The reopen goroutine: at most one, started by startRetry. It sends
	// a reopened primary on retry (capacity 1) and ends.
	retry     chan *runner
	retrying  bool // owned by the caller's goroutine
	retryStop chan struct{}
	retryDone chan struct{}

	mu     sync.Mutex
	health Health
}

// closeWait bounds how long Close waits for a reopen in progress.
const closeWait = 2 * time.Second

// runner owns an engine and calls its Invoke on its own goroutine, so that
// the caller can stop waiting.
type runner struct {
	e    Engine
	req  chan struct{}
	done chan error
	warm bool // it has answered once
}

// firstCall is how many times Timeout the first inference of an engine
// may take: an Edge TPU uploads the model's parameters to the device then
// (megabytes over USB), so the first call is slower by far.
const firstCall = 10

func newRunner(e Engine) *runner {
	r := &runner{e: e, req: make(chan struct{}), done: make(chan error, 1)}
	go r.loop()
	return r
}

func (r *runner) loop() {
	for range r.req {
		r.done <- r.e.Invoke()
	}
	// req is closed only when the engine is given up: after a stall the
	// call above returned late (or never, and this never runs).
	r.e.Close()
}

// close gives the engine up: a runner's goroutine closes it when the call
// in progress (if any) returns; an engine run on the caller's goroutine
// (no deadline) is closed now.
func (r *runner) close() {
	if r.req != nil {
		close(r.req)
		return
	}
	r.e.Close()
}

// NewWatchdog guards primary. On error primary is closed.
func NewWatchdog(primary Engine, opts WatchdogOptions) (*Watchdog, error) {
	w := &Watchdog{opts: opts, cur: primary, retry: make(chan *runner, 1)}
	if opts.Logger == nil {
		w.opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Fallback != nil {
		fb, err := opts.Fallback()
		if err != nil {
			primary.Close()
			return nil, fmt.Errorf("infer: fallback backend %s: %w", opts.FallbackName, err)
		}
		if err := sameTensors(primary, fb); err != nil {
			primary.Close()
			fb.Close()
			return nil, fmt.Errorf("infer: the fallback model (backend %s) cannot stand in for the %s model: %w", opts.FallbackName, opts.Name, err)
		}
		w.fallback = fb
	}
	if opts.Timeout > 0 {
		w.primary = newRunner(primary)
		w.timer = time.NewTimer(time.Hour)
		w.timer.Stop()
	} else {
		w.primary = &runner{e: primary}
	}
	w.health = Health{State: StateOK, Active: opts.Name, Primary: opts.Name, Since: time.Now()}
	return w, nil
}

// sameTensors checks that b can take a's inputs and gives a's outputs.
func sameTensors(a, b Engine) error {
	check := func(kind string, x, y []TensorInfo) error {
		if len(x) != len(y) {
			return fmt.Errorf("%d %ss, want %d", len(y), kind, len(x))
		}
		for i := range x {
			p, q := x[i], y[i]
			if p.Type != q.Type || !slices.Equal(p.Shape[min(1, len(p.Shape)):], q.Shape[min(1, len(q.Shape)):]) ||
				p.Scale != q.Scale || p.ZeroPoint != q.ZeroPoint {
				return fmt.Errorf("%s %d is %s, want %s", kind, i, q, p)
			}
		}
		return nil
	}
	if err := check("input", a.Inputs(), b.Inputs()); err != nil {
		return err
	}
	return check("output", a.Outputs(), b.Outputs())
}

// Health reports the watchdog's state; safe from any goroutine.
func (w *Watchdog) Health() Health {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.health
}

func (w *Watchdog) Inputs() []TensorInfo  { return w.cur.Inputs() }
func (w *Watchdog) Outputs() []TensorInfo { return w.cur.Outputs() }
func (w *Watchdog) Input(i int) []byte    { return w.cur.Input(i) }
func (w *Watchdog) Output(i int) []byte   { return w.cur.Output(i) }

// SetBatch resizes the engine in use; the other one follows when it takes
// over.
func (w *Watchdog) SetBatch(n int) error {
	if err := w.cur.SetBatch(n); err != nil {
		return err
	}
	w.batch = n
	return nil
}

// Invoke runs the model on the engine in use. When the primary fails the
// inputs already written are handed to the fallback, which runs them at
// once: the caller sees no error unless there is no fallback.
func (w *Watchdog) Invoke() error {
	if w.primary == nil {
		select {
		case r := <-w.retry:
			w.retrying = false
			w.recover(r)
		default:
		}
	}
	if w.primary == nil {
		return w.cur.Invoke()
	}
	err, stalled := w.invokePrimary()
	if err == nil {
		return nil
	}
	w.failover(err, stalled)
	if w.cur != w.fallback {
		return fmt.Errorf("infer: backend %s failed and there is no fallback: %w", w.opts.Name, err)
	}
	return w.cur.Invoke()
}

// invokePrimary runs the primary's Invoke, under the deadline when there
// is one.
func (w *Watchdog) invokePrimary() (err error, stalled bool) {
	r := w.primary
	if w.timer == nil {
		return r.e.Invoke(), false
	}
	r.req <- struct{}{}
	timeout := w.opts.Timeout
	if !r.warm {
		timeout *= firstCall
	}
	w.timer.Reset(timeout)
	select {
	case err := <-r.done:
		w.timer.Stop()
		r.warm = true
		return err, false
	case <-w.timer.C:
		return fmt.Errorf("infer: backend %s stalled: no answer within %v", w.opts.Name, timeout), true
	}
}

// failover leaves the primary after err: the inputs go to the fallback
// (if any), the primary is given up, and a reopen is scheduled.
func (w *Watchdog) failover(err error, stalled bool) {
	old := w.primary
	w.primary = nil
	w.cur = nil
	if w.fallback != nil {
		if cerr := w.handOver(old.e, w.fallback); cerr != nil {
			// The fallback is unusable too (it accepted the model at
			// start, so this is unexpected): report, keep failing.
			err = errors.Join(err, fmt.Errorf("infer: fallback backend %s: %w", w.opts.FallbackName, cerr))
			w.fallback.Close()
			w.fallback = nil
		} else {
			w.cur = w.fallback
		}
	}
	if w.cur == nil {
		// Keep the contract (inputs to write, outputs to read) with
		// buffers of our own; Invoke reports the failure.
		w.cur = newDeadEngine(old.e, w.failedErr)
	}
	// The inputs were copied: now the primary may go. A stalled engine
	// belongs to its goroutine (it may still be inside the library).
	old.close()
	w.mu.Lock()
	w.health.Failures++
	if stalled {
		w.health.Stalls++
	}
	w.health.LastError = err.Error()
	w.health.Since = time.Now()
	w.health.State, w.health.Active = StateFailed, ""
	if w.cur == w.fallback {
		w.health.State, w.health.Active = StateFallback, w.opts.FallbackName
	}
	h := w.health
	w.mu.Unlock()
	w.opts.Logger.Error("backend failed, switching", "backend", w.opts.Name, "to", h.Active, "stalled", stalled, "err", err)
	w.notify(h)
	w.startRetry()
}

// handOver resizes to to the current batch and copies the inputs from's
// caller wrote.
func (w *Watchdog) handOver(from, to Engine) error {
	if w.batch > 0 {
		if err := to.SetBatch(w.batch); err != nil {
			return err
		}
	}
	for i := range to.Inputs() {
		copy(to.Input(i), from.Input(i))
	}
	return nil
}

// recover makes a reopened primary the engine in use again.
func (w *Watchdog) recover(r *runner) {
	if err := w.handOver(w.cur, r.e); err != nil || sameTensors(w.cur, r.e) != nil {
		// Not usable after all: drop it, try again later.
		r.close()
		w.startRetry()
		return
	}
	if w.cur != w.fallback {
		w.cur.Close() // the dead engine's buffers
	}
	w.primary, w.cur = r, r.e
	w.mu.Lock()
	w.health.Recovered++
	w.health.State, w.health.Active, w.health.Since = StateOK, w.opts.Name, time.Now()
	h := w.health
	w.mu.Unlock()
	w.opts.Logger.Info("backend recovered", "backend", w.opts.Name)
	w.notify(h)
}

func (w *Watchdog) notify(h Health) {
	if w.opts.OnChange != nil {
		w.opts.OnChange(h)
	}
}

func (w *Watchdog) failedErr() error {
	return fmt.Errorf("infer: backend %s failed (%s) and there is no fallback; retrying every %v", w.opts.Name, w.Health().LastError, w.opts.Retry)
}

// startRetry starts the goroutine that reopens the primary, unless one is
// running or reopening is off.
func (w *Watchdog) startRetry() {
	if w.opts.Reopen == nil || w.opts.Retry <= 0 || w.retrying {
		return
	}
	w.retrying = true
	w.retryStop, w.retryDone = make(chan struct{}), make(chan struct{})
	go w.reopen(w.retryStop, w.retryDone)
}

// reopen tries the primary every Retry until one runs the model within
// the deadline, then offers it to Invoke. It never blocks Invoke: a reopen
// that hangs in the library just stops the retries.
func (w *Watchdog) reopen(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(w.opts.Retry)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		r, err := w.probe(stop)
		if err != nil {
			w.opts.Logger.Debug("backend still failing", "backend", w.opts.Name, "err", err)
			continue
		}
		select {
		case <-stop:
			r.close()
			return
		default:
		}
		// retry holds one: this goroutine is the only sender and ends
		// here; Invoke clears retrying when it takes r.
		w.retry <- r
		return
	}
}

// probe opens a new primary and runs it once on zero inputs.
func (w *Watchdog) probe(stop chan struct{}) (*runner, error) {
	e, err := w.opts.Reopen()
	if err != nil {
		return nil, err
	}
	if w.timer == nil {
		if err := e.Invoke(); err != nil {
			e.Close()
			return nil, err
		}
		return &runner{e: e}, nil
	}
	r := newRunner(e)
	r.req <- struct{}{}
	timeout := w.opts.Timeout * firstCall
	if timeout <= 0 {
		timeout = time.Minute
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err = <-r.done:
	case <-t.C:
		err = fmt.Errorf("stalled on its first inference")
	case <-stop:
		err = errors.New("stopped")
	}
	if err != nil {
		r.close()
		return nil, err
	}
	r.warm = true
	return r, nil
}

// Close stops the retries and closes every engine not abandoned to a
// stalled call. A reopen hanging in the library is waited for
// closeWait at most.
func (w *Watchdog) Close() error {
	if w.retryStop != nil {
		close(w.retryStop)
		select {
		case <-w.retryDone:
		case <-time.After(closeWait):
		}
		w.retryStop = nil
	}
	select {
	case r := <-w.retry:
		r.close()
	default:
	}
	if w.primary != nil {
		w.primary.close()
		w.primary = nil
	} else if w.cur != w.fallback {
		w.cur.Close()
	}
	if w.fallback != nil {
		w.fallback.Close()
		w.fallback = nil
	}
	w.cur = nil
	return nil
}

// deadEngine stands in when the primary failed without a fallback: it
// keeps the tensors' descriptions and buffers of its own, so callers can
// go on writing inputs, and Invoke reports why nothing runs.
type deadEngine struct {
	ins, outs []TensorInfo
	in, out   [][]byte
	err       func() error
}

func newDeadEngine(e Engine, err func() error) *deadEngine {
	d := &deadEngine{ins: slices.Clone(e.Inputs()), outs: slices.Clone(e.Outputs()), err: err}
	for _, t := range d.ins {
		d.in = append(d.in, make([]byte, t.Bytes()))
	}
	for _, t := range d.outs {
		d.out = append(d.out, make([]byte, t.Bytes()))
	}
	return d
}

func (d *deadEngine) Inputs() []TensorInfo  { return d.ins }
func (d *deadEngine) Outputs() []TensorInfo { return d.outs }
func (d *deadEngine) Input(i int) []byte    { return d.in[i] }
func (d *deadEngine) Output(i int) []byte   { return d.out[i] }
func (d *deadEngine) Invoke() error         { return d.err() }
func (d *deadEngine) Close() error          { return nil }

func (d *deadEngine) SetBatch(n int) error {
	return fmt.Errorf("infer: set batch %d: %w", n, d.err())
}
