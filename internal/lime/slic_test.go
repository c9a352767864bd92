package lime

import (
	"math"
	"math/rand/v2"
	"testing"
)

// checkSegments verifies the labels are 0..n-1, each used, each
// 4-connected.
func checkSegments(t *testing.T, segs []int32, n, w, h int) {
	t.Helper()
	seen := make([]bool, n)
	for _, s := range segs {
		if s < 0 || int(s) >= n {
			t.Fatalf("label %d outside 0..%d", s, n-1)
		}
		seen[s] = true
	}
	for s, ok := range seen {
		if !ok {
			t.Errorf("label %d unused", s)
		}
	}
	// Flood each label from its first pixel; every pixel of it must be
	// reached.
	visited := make([]bool, w*h)
	started := make([]bool, n)
	for p, s := range segs {
		if started[s] {
			if !visited[p] {
				t.Fatalf("superpixel %d is not connected (pixel %d,%d)", s, p%w, p/w)
			}
			continue
		}
		started[s] = true
		stack := []int{p}
		visited[p] = true
		for len(stack) > 0 {
			q := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := q%w, q/w
			for _, nb := range [][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
				if nb[0] < 0 || nb[1] < 0 || nb[0] >= w || nb[1] >= h {
					continue
				}
				i := nb[1]*w + nb[0]
				if !visited[i] && segs[i] == s {
					visited[i] = true
					stack = append(stack, i)
				}
			}
		}
	}
}

func TestSLIC(t *testing.T) {
	tests := []struct {
		name     string
		w, h     int
		segments int
		min, max int // accepted superpixel count
	}{
		{"mobilenet size", 224, 224, 50, 35, 70},
		{"fruit cnn size default", 20, 20, 0, 15, 35},
		{"wide", 96, 32, 12, 8, 20},
		{"one column", 1, 40, 4, 1, 8},
		{"one pixel", 1, 1, 0, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rgb := smoothImage(tt.w, tt.h, 9)
			segs, n := SLIC(rgb, tt.w, tt.h, SLICOptions{Segments: tt.segments})
			if n < tt.min || n > tt.max {
				t.Errorf("%d superpixels, want %d..%d", n, tt.min, tt.max)
			}
			checkSegments(t, segs, n, tt.w, tt.h)
			again, n2 := SLIC(rgb, tt.w, tt.h, SLICOptions{Segments: tt.segments})
			if n2 != n || string(int32Bytes(again)) != string(int32Bytes(segs)) {
				t.Error("a second run differs")
			}
		})
	}
}

// TestSLICFollowsEdges: on an image of two flat colours split at a
// vertical line off the grid, no superpixel crosses the line.
func TestSLICFollowsEdges(t *testing.T) {
	w, h, split := 60, 40, 23
	rgb := make([]uint8, 3*w*h)
	for y := range h {
		for x := range w {
			p := 3 * (y*w + x)
			if x < split {
				rgb[p] = 220
			} else {
				rgb[p+2] = 200
			}
		}
	}
	segs, n := SLIC(rgb, w, h, SLICOptions{Segments: 24})
	checkSegments(t, segs, n, w, h)
	side := make(map[int32]bool)
	for p, s := range segs {
		left := p%w < split
		if l, ok := side[s]; ok && l != left {
			t.Fatalf("superpixel %d crosses the edge at x=%d", s, split)
		}
		side[s] = left
	}
}

// smoothImage is a photo-like test image: a few random low-frequency
// waves per channel plus a little noise (SLIC on pure noise fragments
// everything, as it would on any real image that noisy).
func smoothImage(w, h int, seed uint64) []uint8 {
	r := rand.New(rand.NewPCG(seed, seed))
	type wave struct{ fx, fy, ph, amp float64 }
	var waves [3][3]wave
	for c := range waves {
		for i := range waves[c] {
			waves[c][i] = wave{r.Float64() * 6 / 224, r.Float64() * 6 / 224, r.Float64() * 6, 30 + 30*r.Float64()}
		}
	}
	rgb := make([]uint8, 3*w*h)
	for y := range h {
		for x := range w {
			for c := range 3 {
				v := 128 + 8*r.NormFloat64()
				for _, wv := range waves[c] {
					v += wv.amp * math.Sin(wv.fx*float64(x)*2*math.Pi+wv.fy*float64(y)*2*math.Pi+wv.ph)
				}
				rgb[3*(y*w+x)+c] = uint8(max(0, min(255, v)))
			}
		}
	}
	return rgb
}

func int32Bytes(v []int32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = append(b, byte(x), byte(x>>8), byte(x>>16), byte(x>>24))
	}
	return b
}

func FuzzSLIC(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6}, uint8(2), uint8(1), uint8(2))
	f.Add(make([]byte, 300), uint8(10), uint8(10), uint8(0))
	f.Fuzz(func(t *testing.T, pix []byte, w, h, k uint8) {
		if int(w)*int(h)*3 > len(pix) || w == 0 || h == 0 {
			return
		}
		segs, n := SLIC(pix, int(w), int(h), SLICOptions{Segments: int(k)})
		checkSegments(t, segs, n, int(w), int(h))
	})
}
