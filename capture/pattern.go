package capture

import (
	"context"
	"fmt"
	"image"
	"io"
)

// PatternOptions configure a Pattern.
type PatternOptions struct {
	Width, Height int     // pixels; default 640x480
	Rate          float64 // frames per second; 0 is as fast as generated
	// Frames is how many frames before io.EOF; 0 is endless.
	Frames int
	// MaxFrames bounds the frames alive at once (default DefaultMaxFrames).
	MaxFrames int
}

// Pattern is a synthetic moving test pattern in RGB: eight colour bars
// (white, yellow, cyan, green, magenta, red, blue, black) scrolling left
// over a grey ramp, and a bright "item" square crossing the frame, so
// consecutive frames differ and every frame has structure. Frames are
// *image.RGBA in pooled buffers.
type Pattern struct {
	opts  PatternOptions
	pool  *pool
	clock clock
	pace  pacer
	seq   uint64
}

var patternBars = [8][3]uint8{
	{235, 235, 235}, {235, 235, 16}, {16, 235, 235}, {16, 235, 16},
	{235, 16, 235}, {235, 16, 16}, {16, 16, 235}, {16, 16, 16},
}

// NewPattern returns a pattern source.
func NewPattern(opts PatternOptions) (*Pattern, error) {
	if opts.Width == 0 && opts.Height == 0 {
		opts.Width, opts.Height = 640, 480
	}
	switch {
	case opts.Width <= 0 || opts.Height <= 0 || opts.Width > 8192 || opts.Height > 8192:
		return nil, fmt.Errorf("capture: pattern size %dx%d: use 1 to 8192 pixels per side", opts.Width, opts.Height)
	case opts.Rate < 0:
		return nil, fmt.Errorf("capture: pattern rate %g frames/s is negative; use 0 for as fast as possible", opts.Rate)
	case opts.Frames < 0:
		return nil, fmt.Errorf("capture: pattern frame count %d is negative; use 0 for endless", opts.Frames)
	}
	return &Pattern{
		opts:  opts,
		pool:  newPool(4*opts.Width*opts.Height, opts.MaxFrames),
		clock: realClock{},
		pace:  pacer{period: period(opts.Rate)},
	}, nil
}

// Read draws the next frame.
func (p *Pattern) Read(ctx context.Context) (*Frame, error) {
	if p.opts.Frames > 0 && p.seq >= uint64(p.opts.Frames) {
		return nil, io.EOF
	}
	t, err := p.pace.wait(ctx, p.clock)
	if err != nil {
		return nil, err
	}
	s, err := p.pool.get()
	if err != nil {
		return nil, err
	}
	w, h := p.opts.Width, p.opts.Height
	s.rgba = image.RGBA{Pix: s.buf, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
	drawPattern(&s.rgba, int(p.seq))
	p.seq++
	f := &s.frame
	f.Seq, f.Captured, f.Image = p.seq, t, &s.rgba
	return f, nil
}

// drawPattern paints frame n into m (origin 0,0).
func drawPattern(m *image.RGBA, n int) {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	barW := max(w/8, 1)
	shift := (n * max(w/64, 1)) % (8 * barW)
	barsH := h * 2 / 3
	side := max(min(w, h)/5, 1)
	ix := (n*max(w/32, 1))%(w+side) - side // the item enters left, leaves right
	iy := (h - side) / 2
	for y := range h {
		row := m.Pix[y*m.Stride : y*m.Stride+4*w]
		for x := range w {
			var c [3]uint8
			if y < barsH {
				c = patternBars[((x+shift)/barW)%8]
			} else {
				v := uint8(x * 255 / max(w-1, 1))
				c = [3]uint8{v, v, uint8(y * 255 / max(h-1, 1))}
			}
			if x >= ix && x < ix+side && y >= iy && y < iy+side {
				c = [3]uint8{255, 160, 0} // an orange item
			}
			d := row[4*x : 4*x+4 : 4*x+4]
			d[0], d[1], d[2], d[3] = c[0], c[1], c[2], 0xff
		}
	}
}

// Close implements Source.
func (p *Pattern) Close() error { return nil }
