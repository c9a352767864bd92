package capture

import (
	"context"
	"errors"
	"image"
	"strings"
	"testing"
	"time"
)

// yuyvFormat is a 64x48 YUYV format with padded lines.
var yuyvFormat = Format{Pixel: PixYUYV, FourCC: "YUYV", Width: 64, Height: 48, Stride: 160}

// frameBytes makes n distinct frames of f: byte 0 of frame k is k+1.
func frameBytes(f Format, n int) [][]byte {
	out := make([][]byte, n)
	for k := range out {
		b := make([]byte, f.frameBytes())
		for i := range b {
			b[i] = byte(i*7 + k)
		}
		b[0] = byte(k + 1)
		out[k] = b
	}
	return out
}

func openFake(t *testing.T, opts V4L2Options, devs ...*fakeDevice) (*V4L2, *fakeClock, *int) {
	t.Helper()
	c := newFakeClock()
	opened := 0
	open := func(V4L2Options) (device, error) {
		i := opened
		opened++
		if i >= len(devs) || devs[i] == nil {
			return nil, errUnplugged
		}
		devs[i].clock = c
		return devs[i], nil
	}
	v, err := openV4L2(opts, open, c)
	if err != nil {
		t.Fatal(err)
	}
	return v, c, &opened
}

func newFakeDevice(f Format, n int) *fakeDevice {
	return &fakeDevice{format: f, frames: frameBytes(f, n), period: 40 * time.Millisecond}
}

func TestV4L2NewestFrame(t *testing.T) {
	dev := newFakeDevice(yuyvFormat, 8)
	dev.ready = 3 // three buffers filled while nobody read
	v, _, _ := openFake(t, V4L2Options{}, dev)
	f, err := v.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := f.Image.(*YUYV)
	if got, want := m.Pix[0], byte(3); got != want {
		t.Errorf("first byte: got %d, want %d (the newest of three ready frames)", got, want)
	}
	if m.Bounds() != image.Rect(0, 0, 64, 48) || m.Stride != 160 {
		t.Errorf("image %v stride %d; want 64x48 stride 160", m.Bounds(), m.Stride)
	}
	h := v.Health()
	if h.Dropped != 2 || h.Frames != 1 || f.Seq != 1 {
		t.Errorf("health %+v seq %d; want 2 dropped, 1 frame, seq 1", h, f.Seq)
	}
	if dev.out != 0 {
		t.Errorf("%d driver buffers not given back", dev.out)
	}
	f.Release()
	// Next read waits for a new frame.
	f, err = v.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Image.(*YUYV).Pix[0]; got != 4 {
		t.Errorf("second read: frame %d, want 4", got)
	}
	f.Release()
}

// TestV4L2SteadyStateAllocs: reading, cropping and releasing a raw
// camera frame allocates nothing once the pool is warm.
func TestV4L2SteadyStateAllocs(t *testing.T) {
	for _, f := range []Format{
		yuyvFormat,
		{Pixel: PixNV12, FourCC: "NV12", Width: 64, Height: 48, Stride: 64},
		{Pixel: PixGrey, FourCC: "GREY", Width: 64, Height: 48, Stride: 64},
	} {
		v, _, _ := openFake(t, V4L2Options{}, newFakeDevice(f, 3))
		ctx := context.Background()
		roi := image.Rect(3, 5, 41, 44)
		allocs := testing.AllocsPerRun(200, func() {
			fr, err := v.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := fr.crop(roi); err != nil {
				t.Fatal(err)
			}
			if fr.Image.Bounds() != roi {
				t.Fatalf("cropped to %v, want %v", fr.Image.Bounds(), roi)
			}
			fr.Release()
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per frame, want 0", f.FourCC, allocs)
		}
		if n := v.pool.made; n != 1 {
			t.Errorf("%s: pool made %d buffers for one frame at a time, want 1", f.FourCC, n)
		}
	}
}

func TestV4L2PoolReuseAndLimit(t *testing.T) {
	v, _, _ := openFake(t, V4L2Options{MaxFrames: 2}, newFakeDevice(yuyvFormat, 4))
	ctx := context.Background()
	a, err := v.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := v.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Read(ctx); err == nil || !strings.Contains(err.Error(), "Release") {
		t.Fatalf("third frame with two held: got %v, want a pool exhausted error naming Release", err)
	}
	bufA := &a.Image.(*YUYV).Pix[0]
	a.Release()
	a.Release() // harmless right after
	c, err := v.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if &c.Image.(*YUYV).Pix[0] != bufA {
		t.Error("a released buffer was not reused")
	}
	if got := v.pool.inUse(); got != 2 {
		t.Errorf("in use: got %d, want 2", got)
	}
	b.Release()
	c.Release()
	if got := v.pool.inUse(); got != 0 {
		t.Errorf("in use after releasing all: got %d, want 0", got)
	}
}

func TestV4L2ShortFrameDropped(t *testing.T) {
	dev := newFakeDevice(yuyvFormat, 3)
	dev.frames[0] = dev.frames[0][:100] // truncated by the driver
	v, _, _ := openFake(t, V4L2Options{}, dev)
	f, err := v.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Image.(*YUYV).Pix[0]; got != 2 {
		t.Errorf("got frame %d, want 2 (the short frame 1 dropped)", got)
	}
	if h := v.Health(); h.Bad != 1 || h.State != Streaming || h.Reopens != 0 {
		t.Errorf("health %+v; want 1 bad frame, still streaming, no reopen", h)
	}
	f.Release()
}

// TestV4L2Reopen: the camera disappears after two frames; Read closes it,
// retries with doubling backoff capped at MaxBackoff, and continues with
// the new device, reporting the states.
func TestV4L2Reopen(t *testing.T) {
	dev1 := newFakeDevice(yuyvFormat, 4)
	dev1.failAt = 2
	dev2 := newFakeDevice(yuyvFormat, 4)
	var states []State
	opts := V4L2Options{MinBackoff: 250 * time.Millisecond, MaxBackoff: time.Second,
		OnHealth: func(h Health) { states = append(states, h.State) }}
	// Opens: 1 ok, then 4 failures, then dev2.
	v, c, opened := openFake(t, opts, dev1, nil, nil, nil, nil, dev2)
	ctx := context.Background()
	for range 2 {
		f, err := v.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		f.Release()
	}
	f, err := v.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.Release()
	if !dev1.closed {
		t.Error("the failed device was not closed")
	}
	if *opened != 6 {
		t.Errorf("opened %d times, want 6", *opened)
	}
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, time.Second}
	if got := c.slept(); !equalDurations(got, want) {
		t.Errorf("backoff sleeps %v, want %v", got, want)
	}
	h := v.Health()
	if h.State != Streaming || h.Reopens != 1 || h.Attempts != 0 || h.Err != nil || h.Frames != 3 {
		t.Errorf("health %+v; want streaming, 1 reopen, counters reset", h)
	}
	if len(states) != 2 || states[0] != Reconnecting || states[1] != Streaming {
		t.Errorf("OnHealth states %v, want [reconnecting streaming]", states)
	}
	if err := v.Close(); err != nil || !dev2.closed || v.Health().State != Closed {
		t.Errorf("Close: %v, device closed %v, state %v", err, dev2.closed, v.Health().State)
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestV4L2StallReopens: a camera that sends nothing for Timeout is taken
// for stalled and reopened.
func TestV4L2StallReopens(t *testing.T) {
	dev1 := newFakeDevice(yuyvFormat, 2)
	dev1.stalled = true
	dev2 := newFakeDevice(yuyvFormat, 2)
	v, c, _ := openFake(t, V4L2Options{Timeout: 3 * time.Second}, dev1, dev2)
	start := c.Now()
	f, err := v.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f.Release()
	if waited := f.Captured.Sub(start); waited < 3*time.Second || waited > 4*time.Second {
		t.Errorf("frame after %v, want just over the 3s timeout", waited)
	}
	if !dev1.closed || v.Health().Reopens != 1 {
		t.Errorf("stalled device closed %v, reopens %d", dev1.closed, v.Health().Reopens)
	}
}

func TestV4L2CancelWhileReconnecting(t *testing.T) {
	dev := newFakeDevice(yuyvFormat, 2)
	dev.failAt = 1
	v, _, _ := openFake(t, V4L2Options{}, dev)
	ctx, cancel := context.WithCancel(context.Background())
	f, err := v.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.Release()
	v.opts.OnHealth = func(h Health) {
		if h.State == Reconnecting {
			cancel()
		}
	}
	if _, err := v.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if v.Health().State != Reconnecting {
		t.Errorf("state %v, want reconnecting", v.Health().State)
	}
}

func TestV4L2OptionErrors(t *testing.T) {
	for _, o := range []V4L2Options{
		{Formats: []string{"rgb24"}},
		{Width: 640},
		{FPS: -1},
		{Buffers: 1},
		{Buffers: 64},
		{Timeout: -time.Second},
		{MinBackoff: time.Minute, MaxBackoff: time.Second},
		{Encoding: "srgb"},
	} {
		if _, err := openV4L2(o, func(V4L2Options) (device, error) { return nil, errors.New("not reached") }, newFakeClock()); err == nil || !strings.HasPrefix(err.Error(), "capture: ") {
			t.Errorf("%+v: got %v, want a capture: error", o, err)
		}
	}
	o := V4L2Options{Formats: []string{"MJPEG", "yuyv"}}
	if err := o.defaults(); err != nil || o.Formats[0] != PixMJPEG || o.Width != 640 || o.Buffers != 4 || o.Timeout != 5*time.Second {
		t.Errorf("defaults: %v %+v", err, o)
	}
}

func TestChooseFormat(t *testing.T) {
	offered := map[uint32]string{fourcc("MJPG"): "Motion-JPEG", fourcc("NV12"): "Y/UV 4:2:0", fourcc("RGB3"): "24-bit RGB"}
	for _, c := range []struct {
		prefs []string
		want  string
		code  string
	}{
		{DefaultFormats, PixMJPEG, "MJPG"},
		{[]string{PixNV12, PixMJPEG}, PixNV12, "NV12"},
		{[]string{PixGrey, PixNV12}, PixNV12, "NV12"},
	} {
		got, code, err := chooseFormat(offered, c.prefs)
		if err != nil || got != c.want || code != fourcc(c.code) {
			t.Errorf("%v: got %s %s %v, want %s %s", c.prefs, got, fourccString(code), err, c.want, c.code)
		}
	}
	_, _, err := chooseFormat(offered, []string{PixYUYV, PixGrey})
	if err == nil || !strings.Contains(err.Error(), "RGB3 (24-bit RGB)") {
		t.Errorf("no match: got %v, want an error listing the offered formats", err)
	}
	if got, _, _ := chooseFormat(map[uint32]string{fourcc("JPEG"): "JFIF JPEG"}, DefaultFormats); got != PixMJPEG {
		t.Errorf("JPEG fourcc: got %q, want mjpeg", got)
	}
}

func TestChooseSize(t *testing.T) {
	discrete := []frameSize{{MinW: 320, MaxW: 320, MinH: 240, MaxH: 240}, {MinW: 640, MaxW: 640, MinH: 480, MaxH: 480}, {MinW: 1280, MaxW: 1280, MinH: 720, MaxH: 720}}
	stepwise := []frameSize{{MinW: 16, MaxW: 1920, StepW: 16, MinH: 16, MaxH: 1080, StepH: 8}}
	for _, c := range []struct {
		sizes        []frameSize
		w, h         int
		wantW, wantH int
	}{
		{discrete, 640, 480, 640, 480},
		{discrete, 600, 400, 640, 480},
		{discrete, 1000, 600, 1280, 720},
		{discrete, 4000, 3000, 1280, 720},
		{stepwise, 641, 479, 640, 480},
		{stepwise, 5000, 5000, 1920, 1080},
		{stepwise, 1, 1, 16, 16},
		{nil, 800, 600, 800, 600},
	} {
		w, h := chooseSize(c.sizes, c.w, c.h)
		if w != c.wantW || h != c.wantH {
			t.Errorf("chooseSize(%dx%d): got %dx%d, want %dx%d", c.w, c.h, w, h, c.wantW, c.wantH)
		}
	}
}

func TestEncodingOf(t *testing.T) {
	for _, c := range []struct {
		cs, enc, q uint32
		want       ColorEncoding
	}{
		{0, 0, 0, BT601Limited},
		{1, 0, 0, BT601Limited}, // SMPTE170M: vivid's SD webcam
		{8, 0, 0, BT601Limited}, // sRGB: UVC webcams
		{7, 0, 0, BT601Full},    // JPEG
		{3, 0, 0, BT709Limited}, // Rec. 709
		{3, 0, 1, BT709Full},
		{8, 2, 2, BT709Limited},
		{7, 1, 2, BT601Limited},
	} {
		if got := encodingOf(c.cs, c.enc, c.q); got != c.want {
			t.Errorf("encodingOf(colorspace %d, enc %d, quant %d): got %v, want %v", c.cs, c.enc, c.q, got, c.want)
		}
	}
}

func TestFormatCheck(t *testing.T) {
	for _, c := range []struct {
		f          Format
		wantStride int
		wantBytes  int
		ok         bool
	}{
		{Format{Pixel: PixYUYV, Width: 640, Height: 480}, 1280, 1280 * 480, true},
		{Format{Pixel: PixYUYV, Width: 5, Height: 2}, 12, 24, true},
		{Format{Pixel: PixNV12, Width: 5, Height: 3}, 6, 6 * 5, true},
		{Format{Pixel: PixGrey, Width: 7, Height: 2, Stride: 8}, 8, 16, true},
		{Format{Pixel: PixYUYV, Width: 640, Height: 480, Stride: 640}, 0, 0, false},
		{Format{Pixel: PixGrey, Width: 0, Height: 2}, 0, 0, false},
		{Format{Pixel: "rgb", Width: 2, Height: 2}, 0, 0, false},
	} {
		f := c.f
		err := f.check()
		if (err == nil) != c.ok {
			t.Errorf("%+v: check: %v", c.f, err)
			continue
		}
		if c.ok && (f.Stride != c.wantStride || f.frameBytes() != c.wantBytes) {
			t.Errorf("%+v: stride %d, %d bytes; want %d, %d", c.f, f.Stride, f.frameBytes(), c.wantStride, c.wantBytes)
		}
	}
}
