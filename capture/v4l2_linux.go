//go:build linux

package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"

	"github.com/blackjack/webcam"
	"github.com/blackjack/webcam/ioctl"
	"golang.org/x/sys/unix"
)

// webcamDevice is a streaming camera through github.com/blackjack/webcam
// (v0.6.1). Its pitfalls, and what this file does about them:
//   - SetImageFormat returns the requested size, not the driver's: the
//     real format is read back with VIDIOC_G_FMT (on a second descriptor
//     of the node, since the library does not expose its own).
//   - ReadFrame gives the buffer back before the caller has read it:
//     GetFrame, copy, ReleaseFrame instead.
//   - WaitForFrame's timeout is in seconds.
//   - 256 buffers by default: SetBufferCount(Buffers) first.
//   - No pixel format constants: fourcc codes are spelled here.
type webcamDevice struct {
	cam    *webcam.Webcam
	format Format
}

func openDevice(o V4L2Options) (device, error) {
	cam, err := webcam.Open(o.Device)
	if err != nil {
		return nil, openError(o.Device, err)
	}
	ok := false
	defer func() {
		if !ok {
			cam.Close()
		}
	}()
	offered := map[uint32]string{}
	for c, desc := range cam.GetSupportedFormats() {
		offered[uint32(c)] = desc
	}
	pix, code, err := chooseFormat(offered, o.Formats)
	if err != nil {
		return nil, fmt.Errorf("%w (device %s)", err, o.Device)
	}
	var sizes []frameSize
	for _, s := range cam.GetSupportedFrameSizes(webcam.PixelFormat(code)) {
		sizes = append(sizes, frameSize{
			MinW: int(s.MinWidth), MaxW: int(s.MaxWidth), StepW: int(s.StepWidth),
			MinH: int(s.MinHeight), MaxH: int(s.MaxHeight), StepH: int(s.StepHeight),
		})
	}
	w, h := chooseSize(sizes, o.Width, o.Height)
	if _, _, _, err := cam.SetImageFormat(webcam.PixelFormat(code), uint32(w), uint32(h)); err != nil {
		return nil, fmt.Errorf("capture: %s: set format %s %dx%d: %w", o.Device, fourccString(code), w, h, err)
	}
	f, err := driverFormat(o.Device)
	if err != nil {
		return nil, err
	}
	if f.Pixel == "" {
		return nil, fmt.Errorf("capture: %s: asked for %s, the driver chose %s, which fruitcam does not read", o.Device, pix, f.FourCC)
	}
	if o.Encoding != "" {
		f.Encoding, _ = ParseEncoding(o.Encoding) // checked in defaults
	}
	if o.FPS > 0 {
		if err := cam.SetFramerate(float32(o.FPS)); err != nil {
			o.Logger.Warn("capture: driver refused the frame rate", "device", o.Device, "fps", o.FPS, "err", err)
		}
	}
	if fps, err := cam.GetFramerate(); err == nil {
		f.FPS = float64(fps)
	}
	if err := f.check(); err != nil {
		return nil, fmt.Errorf("%w (device %s)", err, o.Device)
	}
	if err := cam.SetBufferCount(uint32(o.Buffers)); err != nil {
		return nil, fmt.Errorf("capture: %s: %w", o.Device, err)
	}
	if err := cam.StartStreaming(); err != nil {
		return nil, fmt.Errorf("capture: %s: start streaming: %w", o.Device, err)
	}
	ok = true
	return &webcamDevice{cam: cam, format: f}, nil
}

func openError(dev string, err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("capture: no camera at %s (ls /dev/video* lists the video nodes): %w", dev, err)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("capture: %s: permission denied: add the user to the video group: %w", dev, err)
	}
	return fmt.Errorf("capture: open camera %s: %w", dev, err)
}

func (d *webcamDevice) Format() Format { return d.format }

func (d *webcamDevice) Dequeue() ([]byte, uint32, error) {
	data, index, err := d.cam.GetFrame()
	if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
		return nil, 0, errAgain
	}
	if err != nil {
		return nil, 0, fmt.Errorf("capture: dequeue frame: %w", err)
	}
	return data, index, nil
}

func (d *webcamDevice) Enqueue(index uint32) error {
	if err := d.cam.ReleaseFrame(index); err != nil {
		return fmt.Errorf("capture: requeue buffer %d: %w", index, err)
	}
	return nil
}

func (d *webcamDevice) Wait(t time.Duration) error {
	secs := uint32((t + time.Second - 1) / time.Second)
	err := d.cam.WaitForFrame(max(secs, 1))
	var timeout *webcam.Timeout
	if errors.As(err, &timeout) {
		return errWaitTimeout
	}
	if err != nil {
		return fmt.Errorf("capture: wait for frame: %w", err)
	}
	return nil
}

func (d *webcamDevice) Close() error { return d.cam.Close() }

// v4l2Format mirrors struct v4l2_format: a type, then a 200-byte union
// whose alignment is that of its widest member (8 on 64-bit, 4 on 32-bit
// ARM and x86, as uint64 is in Go there).
type v4l2Format struct {
	typ uint32
	fmt struct {
		pix [192]byte // struct v4l2_pix_format and the rest of raw_data
		_   uint64
	}
}

var vidiocGFmt = ioctl.IoRW('V', 4, unsafe.Sizeof(v4l2Format{}))

// driverFormat asks the driver for the current capture format.
func driverFormat(dev string) (Format, error) {
	fd, err := unix.Open(dev, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return Format{}, fmt.Errorf("capture: %s: reopen to read the format: %w", dev, err)
	}
	defer unix.Close(fd)
	var v v4l2Format
	v.typ = webcam.V4L2_BUF_TYPE_VIDEO_CAPTURE
	if err := ioctl.Ioctl(uintptr(fd), vidiocGFmt, uintptr(unsafe.Pointer(&v))); err != nil {
		return Format{}, fmt.Errorf("capture: %s: VIDIOC_G_FMT: %w", dev, err)
	}
	p := v.fmt.pix[:]
	u := func(i int) uint32 { return binary.NativeEndian.Uint32(p[4*i:]) }
	// struct v4l2_pix_format: width, height, pixelformat, field,
	// bytesperline, sizeimage, colorspace, priv, flags, ycbcr_enc,
	// quantization, xfer_func.
	code := u(2)
	return Format{
		Pixel:    pixOf(code),
		FourCC:   fourccString(code),
		Width:    int(u(0)),
		Height:   int(u(1)),
		Stride:   int(u(4)),
		Size:     int(u(5)),
		Encoding: encodingOf(u(6), u(9), u(10)),
	}, nil
}
