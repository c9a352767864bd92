package capture

import (
	"fmt"
	"image"
	"sync"
	"time"
)

// Frame is one captured image with where and when it was taken. A Frame
// from a Source belongs to whoever received it until Release; its Image
// (and the pixels under it) must not be used afterwards.
type Frame struct {
	Camera     string    // the Camera's Name
	Seq        uint64    // frame counter of this camera, from 1
	Item       uint64    // trigger/item id (conveyor object); the frames of one item share it
	ItemFrames int       // number of frames the item has (>= 1)
	Captured   time.Time // when the frame was taken (monotonic clock reading kept)
	// Image is the frame cropped to the camera's region of interest:
	// *YUYV, *NV12, *image.Gray, *image.RGBA (pattern), *image.YCbCr
	// (MJPEG, JPEG files) or whatever a folder's files decode to. It is
	// valid until Release.
	Image image.Image
	// Path is the file a Folder read the frame from; empty for cameras
	// and patterns.
	Path string

	slot    *slot  // pooled storage of this Frame, nil for NewFrame's
	release func() // NewFrame's hook
}

// NewFrame wraps an image that is not from this package's pools, for
// sources written elsewhere and for fakes; release (may be nil) runs once,
// on the first Release.
func NewFrame(img image.Image, release func()) *Frame {
	return &Frame{Image: img, release: release}
}

// Release gives the frame's buffer back to its source's pool. Call it
// once, when the frame is no longer needed; a second call right after is
// a no-op, but the Frame may already serve a new capture by then.
func (f *Frame) Release() {
	if f == nil {
		return
	}
	s, rel := f.slot, f.release
	f.slot, f.release, f.Image = nil, nil, nil
	if s != nil {
		s.pool.put(s)
	}
	if rel != nil {
		rel()
	}
}

// crop narrows Image to r in place (errors are unprefixed: the Camera
// names itself), allocating nothing for the image
// types a pool holds. A zero r means the whole frame.
func (f *Frame) crop(r image.Rectangle) error {
	if r == (image.Rectangle{}) {
		return nil
	}
	b := f.Image.Bounds()
	if !r.In(b) {
		return fmt.Errorf("region of interest %v does not fit in the %dx%d frame %v; fix the camera's roi or its size", r, b.Dx(), b.Dy(), b)
	}
	if r == b {
		return nil
	}
	if s := f.slot; s != nil {
		switch m := f.Image.(type) {
		case *YUYV:
			if m == &s.yuyv {
				m.crop(r)
				return nil
			}
		case *NV12:
			if m == &s.nv12 {
				m.crop(r)
				return nil
			}
		case *image.Gray:
			if m == &s.gray {
				m.Pix = m.Pix[m.PixOffset(r.Min.X, r.Min.Y):]
				m.Rect = r
				return nil
			}
		case *image.RGBA:
			if m == &s.rgba {
				m.Pix = m.Pix[m.PixOffset(r.Min.X, r.Min.Y):]
				m.Rect = r
				return nil
			}
		}
	}
	sub, ok := f.Image.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok {
		return fmt.Errorf("a %T frame cannot be cropped to a region of interest", f.Image)
	}
	f.Image = sub.SubImage(r)
	return nil
}

// slot is one pooled frame: the Frame handed out, its pixel buffer and
// one reusable image header per pixel layout, so handing a frame out
// allocates nothing.
type slot struct {
	pool  *pool
	frame Frame
	buf   []byte
	yuyv  YUYV
	nv12  NV12
	gray  image.Gray
	rgba  image.RGBA
}

// pool is a source's set of fixed-size frame buffers. Slots are made on
// demand up to max and then reused; a source whose consumer holds max
// frames gets errPoolExhausted rather than growing without bound.
type pool struct {
	size int // bytes per buffer
	max  int

	mu   sync.Mutex
	free []*slot
	made int
}

// DefaultMaxFrames bounds the frames of one source alive at once (handed
// out and not yet released).
const DefaultMaxFrames = 64

func newPool(size, max int) *pool {
	if max <= 0 {
		max = DefaultMaxFrames
	}
	return &pool{size: size, max: max, free: make([]*slot, 0, max)}
}

// get returns a free slot whose frame is zeroed and owned by the caller.
func (p *pool) get() (*slot, error) {
	p.mu.Lock()
	var s *slot
	if n := len(p.free); n > 0 {
		s = p.free[n-1]
		p.free = p.free[:n-1]
	} else if p.made < p.max {
		p.made++
	} else {
		p.mu.Unlock()
		return nil, fmt.Errorf("capture: all %d frame buffers are held by consumers: frames are not being released (every Frame needs one Release)", p.max)
	}
	p.mu.Unlock()
	if s == nil {
		s = &slot{pool: p, buf: make([]byte, p.size)}
	}
	s.frame = Frame{slot: s}
	return s, nil
}

func (p *pool) put(s *slot) {
	p.mu.Lock()
	p.free = append(p.free, s)
	p.mu.Unlock()
}

// inUse reports how many frames are out (for tests and health).
func (p *pool) inUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.made - len(p.free)
}
