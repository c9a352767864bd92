package capture

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"
)

// V4L2Options configure a Video4Linux2 camera. Every duration has its
// unit in the type; zero values take the defaults named.
type V4L2Options struct {
	// Device is the video node (default /dev/video0).
	Device string
	// Formats is the pixel format preference (default DefaultFormats):
	// the first one the camera offers is used.
	Formats []string
	// Width and Height are the wanted frame size (default 640x480); the
	// camera's nearest size is taken and reported in Format.
	Width, Height int
	// FPS is the wanted frame rate; 0 leaves the driver's.
	FPS float64
	// Buffers is how many driver buffers to queue (default 4): few keep
	// latency low; the newest frame is always the one returned.
	Buffers int
	// Timeout is how long Read waits for a frame before it takes the
	// camera for stalled and reopens it (default 5s; V4L2 waits are in
	// whole seconds in github.com/blackjack/webcam, so it is rounded up).
	Timeout time.Duration
	// Encoding overrides the Y'CbCr encoding the driver reports for
	// YUYV and NV12 ("" trusts the driver); see ParseEncoding.
	Encoding string
	// MinBackoff and MaxBackoff bound the wait between reopen attempts
	// after the camera disappears: it starts at MinBackoff (default
	// 250ms) and doubles up to MaxBackoff (default 30s).
	MinBackoff, MaxBackoff time.Duration
	// MaxFrames bounds the frames alive at once (default
	// DefaultMaxFrames).
	MaxFrames int
	// OnHealth, when set, is called with the new Health whenever the
	// camera's state changes. It runs on Read's goroutine: it must not
	// block or call back into the V4L2.
	OnHealth func(Health)
	// Logger receives state changes; nil discards.
	Logger *slog.Logger
}

func (o *V4L2Options) defaults() error {
	if o.Device == "" {
		o.Device = "/dev/video0"
	}
	if len(o.Formats) == 0 {
		o.Formats = DefaultFormats
	}
	for i, f := range o.Formats {
		o.Formats[i] = strings.ToLower(f)
	}
	if err := checkFormats(o.Formats); err != nil {
		return err
	}
	if o.Width == 0 && o.Height == 0 {
		o.Width, o.Height = 640, 480
	}
	if o.Width <= 0 || o.Height <= 0 {
		return fmt.Errorf("capture: camera size %dx%d: give both width and height", o.Width, o.Height)
	}
	if o.FPS < 0 {
		return fmt.Errorf("capture: camera fps %g is negative; use 0 for the driver's rate", o.FPS)
	}
	if o.Buffers == 0 {
		o.Buffers = 4
	}
	if o.Buffers < 2 || o.Buffers > 32 {
		return fmt.Errorf("capture: %d camera buffers: use 2 to 32", o.Buffers)
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.Timeout < 0 || o.MinBackoff < 0 || o.MaxBackoff < o.MinBackoff {
		return fmt.Errorf("capture: camera timeout %v, backoff %v..%v: durations must be positive and min <= max", o.Timeout, o.MinBackoff, o.MaxBackoff)
	}
	if o.Encoding != "" {
		if _, err := ParseEncoding(o.Encoding); err != nil {
			return err
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// State is a camera's condition.
type State int

const (
	// Streaming: frames are flowing.
	Streaming State = iota
	// Reconnecting: the camera failed or disappeared; Read is trying to
	// reopen it with backoff.
	Reconnecting
	// Closed: Close was called.
	Closed
)

func (s State) String() string {
	switch s {
	case Streaming:
		return "streaming"
	case Reconnecting:
		return "reconnecting"
	case Closed:
		return "closed"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Health is a camera's state and counters, for stats and logs.
type Health struct {
	Device   string
	State    State
	Since    time.Time // when State began
	Format   Format    // negotiated format (of the last successful open)
	Err      error     // what made the camera reconnect; nil while streaming
	Attempts int       // failed reopen attempts since the last success
	Reopens  int       // successful reopens since OpenV4L2
	Frames   uint64    // frames returned
	Dropped  uint64    // older frames skipped to return the newest
	Bad      uint64    // frames discarded as short or undecodable
}

// V4L2 is a camera through Video4Linux2 (github.com/blackjack/webcam).
//
// Read returns the newest frame: buffers that filled while nobody read
// are given straight back to the driver (counted in Health.Dropped), so a
// triggered camera never hands out a stale frame. When the device fails
// or disappears, Read closes it and reopens it with exponential backoff
// until ctx ends; Health (and OnHealth) tell the state meanwhile. Read
// notices a cancelled ctx within a second (blackjack/webcam waits in
// whole seconds). Read and Close belong to one goroutine; Health may be
// called from any.
type V4L2 struct {
	opts  V4L2Options
	open  func(V4L2Options) (device, error)
	clock clock

	dev     device
	format  Format
	pool    *pool
	backoff time.Duration

	mu     sync.Mutex
	health Health
}

// device is one open, streaming capture device; v4l2_linux.go has the
// webcam one, tests a fake.
type device interface {
	Format() Format
	// Dequeue takes a filled buffer without waiting: errAgain when none
	// is ready. The bytes stay valid until Enqueue(index).
	Dequeue() (data []byte, index uint32, err error)
	Enqueue(index uint32) error
	// Wait blocks until a buffer is ready or d passes (errWaitTimeout).
	Wait(d time.Duration) error
	Close() error
}

var (
	errAgain       = errors.New("no frame ready")
	errWaitTimeout = errors.New("wait timed out")
)

// OpenV4L2 opens and configures the camera and starts streaming. A camera
// that cannot be opened now is an error; one that goes away later is
// reopened by Read.
func OpenV4L2(opts V4L2Options) (*V4L2, error) {
	return openV4L2(opts, openDevice, realClock{})
}

func openV4L2(opts V4L2Options, open func(V4L2Options) (device, error), c clock) (*V4L2, error) {
	opts.Formats = append([]string(nil), opts.Formats...)
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	v := &V4L2{opts: opts, open: open, clock: c, backoff: opts.MinBackoff}
	dev, err := open(opts)
	if err != nil {
		return nil, err
	}
	v.attach(dev)
	v.health = Health{Device: opts.Device, State: Streaming, Since: c.Now(), Format: v.format}
	opts.Logger.Info("capture: camera streaming", "device", opts.Device, "format", v.format.String())
	return v, nil
}

func (v *V4L2) attach(dev device) {
	v.dev = dev
	f := dev.Format()
	if v.pool == nil || v.format.frameBytes() != f.frameBytes() {
		v.pool = newPool(f.frameBytes(), v.opts.MaxFrames)
	}
	v.format = f
}

// Format is the format the driver chose at the last open.
func (v *V4L2) Format() Format { return v.format }

// Health returns the camera's state and counters. Safe for concurrent
// use.
func (v *V4L2) Health() Health {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.health
}

func (v *V4L2) setState(s State, err error) {
	v.mu.Lock()
	h := &v.health
	changed := h.State != s
	if h.State != s {
		h.Since = v.clock.Now()
	}
	h.State, h.Err = s, err
	if s == Streaming {
		h.Format, h.Attempts = v.format, 0
	}
	snap := *h
	v.mu.Unlock()
	if changed && v.opts.OnHealth != nil {
		v.opts.OnHealth(snap)
	}
}

func (v *V4L2) count(fn func(h *Health)) {
	v.mu.Lock()
	fn(&v.health)
	v.mu.Unlock()
}

// Read implements Source.
func (v *V4L2) Read(ctx context.Context) (*Frame, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if v.dev == nil {
			if err := v.reopen(ctx); err != nil {
				return nil, err
			}
		}
		f, err := v.read(ctx)
		switch {
		case err == nil:
			return f, nil
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.Is(err, errShortFrame), errors.Is(err, errBadFrame):
			v.count(func(h *Health) { h.Bad++ })
			v.opts.Logger.Warn("capture: frame dropped", "device", v.opts.Device, "err", err)
		case errors.Is(err, errPoolExhausted):
			return nil, err
		default:
			v.fail(err)
		}
	}
}

var (
	errBadFrame      = errors.New("bad frame")
	errPoolExhausted = errors.New("frame pool exhausted")
)

// fail closes a device that errored and starts reconnecting.
func (v *V4L2) fail(err error) {
	if v.dev != nil {
		v.dev.Close()
		v.dev = nil
	}
	v.backoff = v.opts.MinBackoff
	v.opts.Logger.Warn("capture: camera lost, reopening", "device", v.opts.Device, "err", err)
	v.setState(Reconnecting, err)
}

// reopen tries to open the device until it works or ctx ends, waiting
// v.backoff between attempts, doubled each time up to MaxBackoff.
func (v *V4L2) reopen(ctx context.Context) error {
	if v.Health().State == Closed {
		return fmt.Errorf("capture: camera %s is closed", v.opts.Device)
	}
	for {
		dev, err := v.open(v.opts)
		if err == nil {
			v.attach(dev)
			v.backoff = v.opts.MinBackoff
			v.count(func(h *Health) { h.Reopens++ })
			v.opts.Logger.Info("capture: camera back", "device", v.opts.Device, "format", v.format.String())
			v.setState(Streaming, nil)
			return nil
		}
		v.count(func(h *Health) { h.Attempts++; h.Err = err })
		if err := v.clock.Sleep(ctx, v.backoff); err != nil {
			return err
		}
		v.backoff = min(2*v.backoff, v.opts.MaxBackoff)
	}
}

// read returns the newest frame of the open device.
func (v *V4L2) read(ctx context.Context) (*Frame, error) {
	dev := v.dev
	var (
		data  []byte
		index uint32
		have  bool
	)
	deadline := v.clock.Now().Add(v.opts.Timeout)
	for {
		d, i, err := dev.Dequeue()
		if err == nil {
			if have {
				if err := dev.Enqueue(index); err != nil {
					return nil, err
				}
				v.count(func(h *Health) { h.Dropped++ })
			}
			data, index, have = d, i, true
			continue
		}
		if have {
			break // the newest frame; an error will recur on the next read
		}
		if !errors.Is(err, errAgain) {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		left := deadline.Sub(v.clock.Now())
		if left <= 0 {
			return nil, fmt.Errorf("capture: %s sent no frame for %v", v.opts.Device, v.opts.Timeout)
		}
		if err := dev.Wait(min(left, time.Second)); err != nil && !errors.Is(err, errWaitTimeout) {
			return nil, err
		}
	}
	captured := v.clock.Now()
	s, err := v.pool.get()
	if err != nil {
		dev.Enqueue(index)
		return nil, fmt.Errorf("%w: %w", errPoolExhausted, err)
	}
	err = v.format.fill(s, data)
	if qerr := dev.Enqueue(index); qerr != nil {
		s.pool.put(s)
		return nil, qerr
	}
	if err != nil {
		s.pool.put(s)
		if errors.Is(err, errShortFrame) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", errBadFrame, err)
	}
	f := &s.frame
	v.mu.Lock()
	v.health.Frames++
	f.Seq = v.health.Frames
	v.mu.Unlock()
	f.Captured = captured
	return f, nil
}

// Close stops streaming and closes the device.
func (v *V4L2) Close() error {
	v.setState(Closed, nil)
	if v.dev == nil {
		return nil
	}
	err := v.dev.Close()
	v.dev = nil
	return err
}

// frameSize is one entry of the driver's size list (VIDIOC_ENUM_FRAMESIZES):
// discrete when the steps are zero, else a range.
type frameSize struct {
	MinW, MaxW, StepW int
	MinH, MaxH, StepH int
}

// chooseFormat returns the first preferred format among the driver's
// codes, or an error that lists what the camera offers.
func chooseFormat(offered map[uint32]string, prefs []string) (string, uint32, error) {
	for _, p := range prefs {
		for _, c := range pixFourCCs[p] {
			if _, ok := offered[c]; ok {
				return p, c, nil
			}
		}
	}
	var have []string
	for c, desc := range offered {
		have = append(have, fmt.Sprintf("%s (%s)", fourccString(c), desc))
	}
	sort.Strings(have)
	if len(have) == 0 {
		have = []string{"nothing"}
	}
	return "", 0, fmt.Errorf("capture: the camera offers none of %s; it offers %s", strings.Join(prefs, ", "), strings.Join(have, ", "))
}

// chooseSize picks the size nearest the wanted one (least |dw|+|dh|, the
// larger on a tie); a camera that lists no sizes gets the request as is.
func chooseSize(sizes []frameSize, w, h int) (int, int) {
	bestW, bestH, best := w, h, -1
	for _, s := range sizes {
		cw, ch := fit(w, s.MinW, s.MaxW, s.StepW), fit(h, s.MinH, s.MaxH, s.StepH)
		d := abs(cw-w) + abs(ch-h)
		if best < 0 || d < best || (d == best && cw*ch > bestW*bestH) {
			bestW, bestH, best = cw, ch, d
		}
	}
	return bestW, bestH
}

// fit clamps v into [lo, hi] on the grid lo + k*step; a discrete entry
// (no step) is its one size.
func fit(v, lo, hi, step int) int {
	if step <= 0 || hi <= lo {
		return hi
	}
	v = min(max(v, lo), hi)
	r := lo + (v-lo+step/2)/step*step
	if r > hi {
		r -= step
	}
	return r
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// encodingOf maps V4L2's colorimetry fields (videodev2.h enum
// v4l2_colorspace, v4l2_ycbcr_encoding, v4l2_quantization) to ours,
// applying the V4L2_MAP_YCBCR_ENC_DEFAULT and
// V4L2_MAP_QUANTIZATION_DEFAULT rules for zero fields.
func encodingOf(colorspace, ycbcrEnc, quantization uint32) ColorEncoding {
	const (
		csREC709 = 3
		csJPEG   = 7
		csDCIP3  = 12
		enc709   = 2
		encXV709 = 4
		qFull    = 1
	)
	is709 := ycbcrEnc == enc709 || ycbcrEnc == encXV709 ||
		(ycbcrEnc == 0 && (colorspace == csREC709 || colorspace == csDCIP3))
	full := quantization == qFull || (quantization == 0 && colorspace == csJPEG)
	switch {
	case is709 && full:
		return BT709Full
	case is709:
		return BT709Limited
	case full:
		return BT601Full
	}
	return BT601Limited
}
