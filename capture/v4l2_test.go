//go:build linux

package capture

import (
	"context"
	"image"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/blackjack/webcam"
	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/internal/testdata"
)

// The tests in this file need a real V4L2 capture device, named by
// FRUITCAM_V4L2_DEVICE; .ci/v4l2vm.sh boots a kernel with the vivid
// virtual camera under qemu and runs them there. They are skipped
// elsewhere.

func v4l2Device(t *testing.T) string {
	dev := os.Getenv("FRUITCAM_V4L2_DEVICE")
	if dev == "" {
		t.Skip("FRUITCAM_V4L2_DEVICE not set (run .ci/v4l2vm.sh for the vivid camera)")
	}
	return dev
}

// TestV4L2VividCapture negotiates 640x480 YUYV, captures 30 frames, checks
// them, crops them through a Camera, and classifies a few with the native
// engine.
func TestV4L2VividCapture(t *testing.T) {
	dev := v4l2Device(t)
	cam, err := OpenV4L2(V4L2Options{Device: dev, Formats: []string{PixYUYV}, Width: 640, Height: 480, FPS: 25})
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	f := cam.Format()
	t.Logf("negotiated %v (stride %d, %d bytes)", f, f.Stride, f.Size)
	if f.Pixel != PixYUYV || f.FourCC != "YUYV" || f.Width != 640 || f.Height != 480 || f.Stride < 1280 || f.Size < f.Stride*480 {
		t.Fatalf("format %+v, want YUYV 640x480", f)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	var frames []*Frame
	for range 30 {
		fr, err := cam.Read(ctx)
		if err != nil {
			t.Fatalf("frame %d: %v", len(frames)+1, err)
		}
		frames = append(frames, fr)
	}
	took := time.Since(start)
	h := cam.Health()
	t.Logf("30 frames in %v (%.1f fps); health %+v", took, 30/took.Seconds(), h)
	if h.Frames != 30 || h.State != Streaming {
		t.Errorf("health %+v, want 30 frames streaming", h)
	}
	var prev time.Time
	for i, fr := range frames {
		m, ok := fr.Image.(*YUYV)
		if !ok || m.Bounds() != image.Rect(0, 0, 640, 480) {
			t.Fatalf("frame %d: %T %v", i, fr.Image, fr.Image.Bounds())
		}
		if fr.Seq != uint64(i+1) || fr.Captured.Before(prev) {
			t.Errorf("frame %d: seq %d captured %v after %v", i, fr.Seq, fr.Captured, prev)
		}
		prev = fr.Captured
		// vivid's test pattern (75% colour bars) is not uniform: many
		// luma levels and strong colour differences across a row.
		levels := map[uint8]bool{}
		for i := 0; i < len(m.Pix); i += 2 {
			levels[m.Pix[i]] = true
		}
		if len(levels) < 8 {
			t.Errorf("frame %d: only %d luma levels", i, len(levels))
		}
	}
	row := make([]uint8, 3*640)
	frames[0].Image.(*YUYV).RGBRow(240, row)
	t.Logf("row 240 RGB at x=40,120,...: %v", sampleRow(row))

	// Classify three frames (two cropped by a Camera ROI) and check the
	// RowImage path gives what an RGBA copy of the same frame gives.
	model := os.Getenv("FRUITCAM_V4L2_MODEL")
	if model == "" {
		model = testdata.Path(t, "models/coral/mobilenet_v1_0.25_128_quant.tflite")
	}
	mf, err := infer.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	md, err := mf.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	e, err := infer.NewEngine(mf, infer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	opts := infer.ClassifierOptions{Graph: mf.Model}
	if labels := os.Getenv("FRUITCAM_V4L2_LABELS"); labels != "" {
		if opts.Labels, err = infer.ReadLabels(labels); err != nil {
			t.Fatal(err)
		}
	} else if labels, err := testdata.Lookup("models/coral/imagenet_labels.txt"); err == nil {
		if opts.Labels, err = infer.ReadLabels(labels); err != nil {
			t.Fatal(err)
		}
	}
	clf, err := infer.NewClassifier(e, md, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, fr := range frames {
		fr.Release()
	}
	roi := image.Rect(81, 61, 561, 421)
	c := &Camera{Name: "vivid", Source: cam, ROI: roi}
	var imgs []image.Image
	var held []*Frame
	runCtx, stop := context.WithCancel(ctx)
	err = c.Run(runCtx, func(fr *Frame) {
		held = append(held, fr)
		imgs = append(imgs, fr.Image)
		if len(held) == 2 {
			stop()
		}
	})
	stop()
	if err != nil {
		t.Fatal(err)
	}
	if imgs[0].Bounds() != roi || held[1].Item != 2 {
		t.Errorf("camera frames: bounds %v item %d", imgs[0].Bounds(), held[1].Item)
	}
	full, err := cam.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	imgs = append(imgs, full.Image)
	var copies []image.Image
	for _, m := range imgs {
		copies = append(copies, toRGBA(m))
	}
	t0 := time.Now()
	res, err := clf.Classify(imgs, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("classified %d frames in %v (emulated CPU)", len(imgs), time.Since(t0))
	ref, err := clf.Classify(copies, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		sum := float32(0)
		for _, p := range r.Scores {
			sum += p
		}
		// uint8 softmax outputs lose the many classes under 1/256: the
		// dequantised sum of 1001 ImageNet classes is ~0.9.
		t.Logf("frame %d: top %+v (sum %.3f)", i, r.Top, sum)
		if len(r.Top) != 3 || !r.Probabilities || sum < 0.8 || sum > 1.02 {
			t.Errorf("frame %d: result %+v, sum %.3f", i, r.Top, sum)
		}
		for k := range r.Scores {
			if r.Scores[k] != ref[i].Scores[k] {
				t.Fatalf("frame %d class %d: YUYV row path %v, RGBA copy %v", i, k, r.Scores[k], ref[i].Scores[k])
			}
		}
	}
	for _, fr := range held {
		fr.Release()
	}
	full.Release()
}

// TestV4L2VividDisconnect pulls the camera out with vivid's "Disconnect"
// control: the video node stops being registered, as on a USB unplug, and
// vivid registers it again when its last open file is closed. A second
// descriptor held by the test keeps the camera "unplugged" while Read
// retries with backoff; closing it plugs the camera back in, and frames
// flow again.
func TestV4L2VividDisconnect(t *testing.T) {
	dev := v4l2Device(t)
	states := make(chan Health, 16)
	cam, err := OpenV4L2(V4L2Options{Device: dev, Formats: []string{PixYUYV}, MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		OnHealth: func(h Health) { states <- h }, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	fr, err := cam.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fr.Release()

	plug, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer plug.Close()
	// VIVID_CID_DISCONNECT (vivid-ctrls.c): a button control, present
	// unless vivid was loaded with no_error_inj=1; webcam's GetControls
	// does not list buttons, so it is addressed by id.
	const vividDisconnect = 0x00f0f000 + 65
	if err := cam.dev.(*webcamDevice).cam.SetControl(webcam.ControlID(vividDisconnect), 1); err != nil {
		t.Skipf("vivid's Disconnect control: %v", err)
	}
	t.Logf("disconnected %s", dev)

	type read struct {
		f   *Frame
		err error
	}
	done := make(chan read, 1)
	go func() {
		f, err := cam.Read(ctx)
		done <- read{f, err}
	}()
	select {
	case h := <-states:
		if h.State != Reconnecting {
			t.Fatalf("first state change: %v, want reconnecting", h.State)
		}
		t.Logf("reconnecting after: %v", h.Err)
	case r := <-done:
		t.Fatalf("Read after disconnect returned %v, %v before reporting the loss", r.f, r.err)
	case <-ctx.Done():
		t.Fatal("no state change after the disconnect")
	}
	// While unplugged, reopening fails and is retried with backoff.
	deadline := time.Now().Add(20 * time.Second)
	for cam.Health().Attempts < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	h := cam.Health()
	t.Logf("unplugged: %d failed reopen attempts, last error %v", h.Attempts, h.Err)
	if h.Attempts < 3 || h.State != Reconnecting {
		t.Fatalf("health while unplugged %+v; want reconnecting with 3 or more failed attempts", h)
	}
	plug.Close() // the last file closes: vivid registers the node again
	r := <-done
	if r.err != nil {
		t.Fatalf("Read after replug: %v", r.err)
	}
	r.f.Release()
	h = cam.Health()
	t.Logf("back: %+v", h)
	if h.State != Streaming || h.Reopens != 1 || h.Attempts != 0 || h.Err != nil {
		t.Errorf("health %+v, want streaming after 1 reopen", h)
	}
	if s := <-states; s.State != Streaming {
		t.Errorf("second state change: %v, want streaming", s.State)
	}
	for range 5 {
		f, err := cam.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		f.Release()
	}
}

func sampleRow(row []uint8) [][3]uint8 {
	var out [][3]uint8
	for x := 40; x < len(row)/3; x += 80 {
		out = append(out, [3]uint8{row[3*x], row[3*x+1], row[3*x+2]})
	}
	return out
}

func toRGBA(m image.Image) *image.RGBA {
	b := m.Bounds()
	out := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.Set(x, y, m.At(x, y))
		}
	}
	return out
}
