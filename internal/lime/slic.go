package lime

import (
	"math"
)

// SLICOptions configures SLIC superpixels. The zero value picks the
// defaults noted on each field.
type SLICOptions struct {
	// Segments is the wanted number of superpixels (skimage's
	// n_segments); the grid makes about that many. 0: 50, and at most one
	// per 16 pixels, so a 20×20 model input gets 25.
	Segments int
	// Compactness trades colour similarity against closeness (skimage's
	// compactness, for CIELAB): higher makes squarer superpixels. 0: 10.
	Compactness float64
	// Iterations of assignment and update. 0: 10 (skimage's max_num_iter).
	Iterations int
}

func (o SLICOptions) withDefaults(pixels int) SLICOptions {
	if o.Segments <= 0 {
		o.Segments = min(50, max(pixels/16, 1))
	}
	o.Segments = min(o.Segments, pixels)
	if o.Compactness <= 0 {
		o.Compactness = 10
	}
	if o.Iterations <= 0 {
		o.Iterations = 10
	}
	return o
}

// SLIC segments a packed RGB image (w×h×3 bytes, row-major) into
// superpixels (Achanta et al., "SLIC Superpixels Compared to
// State-of-the-Art Superpixel Methods", TPAMI 2012, as skimage's slic
// runs it): k-means in (L*, a*, b*, x, y) with the search of each centre
// limited to a 2S×2S window, S = sqrt(pixels/segments), starting from a
// regular grid; the distance is dlab² + (ds·compactness/S)². Then every
// connected piece of a cluster becomes its own superpixel, and pieces
// under half the average size join the superpixel met before them in scan
// order (the reference implementation's enforce-connectivity step).
//
// It returns one label per pixel, numbered 0..n-1 in scan order of their
// first pixel, and n. No randomness: the same image gives the same
// segments.
func SLIC(rgb []uint8, w, h int, o SLICOptions) ([]int32, int) {
	n := w * h
	if n == 0 || len(rgb) < 3*n {
		return nil, 0
	}
	o = o.withDefaults(n)
	lab := toLab(rgb, n)

	s := math.Sqrt(float64(n) / float64(o.Segments))
	nx := max(1, int(math.Round(float64(w)/s)))
	nx = min(nx, w)
	// The rows follow from the columns, so that a thin image still gets
	// about the number asked for.
	ny := min(max(1, int(math.Round(float64(o.Segments)/float64(nx)))), h)
	k := nx * ny
	// centre j: L, a, b, x, y
	c := make([]float64, 5*k)
	for j := range ny {
		for i := range nx {
			x := int((float64(i) + 0.5) * float64(w) / float64(nx))
			y := int((float64(j) + 0.5) * float64(h) / float64(ny))
			p := y*w + x
			q := 5 * (j*nx + i)
			c[q], c[q+1], c[q+2], c[q+3], c[q+4] = lab[3*p], lab[3*p+1], lab[3*p+2], float64(x), float64(y)
		}
	}
	// The window reaches S on each side of a centre; a grid step may be a
	// little larger than S after rounding, so use the larger one.
	step := math.Max(float64(w)/float64(nx), float64(h)/float64(ny))
	win := int(math.Ceil(step))
	spatial := (o.Compactness / step) * (o.Compactness / step)

	label := make([]int32, n)
	dist := make([]float64, n)
	sums := make([]float64, 6*k)
	for range o.Iterations {
		for p := range dist {
			dist[p] = math.Inf(1)
			label[p] = -1
		}
		for j := range k {
			cl, ca, cb, cx, cy := c[5*j], c[5*j+1], c[5*j+2], c[5*j+3], c[5*j+4]
			x0, x1 := max(int(cx)-win, 0), min(int(cx)+win+1, w)
			y0, y1 := max(int(cy)-win, 0), min(int(cy)+win+1, h)
			for y := y0; y < y1; y++ {
				dy := float64(y) - cy
				for x := x0; x < x1; x++ {
					p := y*w + x
					dl, da, db := lab[3*p]-cl, lab[3*p+1]-ca, lab[3*p+2]-cb
					dx := float64(x) - cx
					d := dl*dl + da*da + db*db + (dx*dx+dy*dy)*spatial
					if d < dist[p] {
						dist[p], label[p] = d, int32(j)
					}
				}
			}
		}
		clear(sums)
		for p, l := range label {
			if l < 0 {
				continue
			}
			q := 6 * int(l)
			sums[q] += lab[3*p]
			sums[q+1] += lab[3*p+1]
			sums[q+2] += lab[3*p+2]
			sums[q+3] += float64(p % w)
			sums[q+4] += float64(p / w)
			sums[q+5]++
		}
		for j := range k {
			if cnt := sums[6*j+5]; cnt > 0 {
				for f := range 5 {
					c[5*j+f] = sums[6*j+f] / cnt
				}
			}
		}
	}
	// A pixel no window reached (possible only with odd rounding) joins
	// the nearest centre in the plane.
	for p, l := range label {
		if l >= 0 {
			continue
		}
		x, y := float64(p%w), float64(p/w)
		best, bd := 0, math.Inf(1)
		for j := range k {
			dx, dy := x-c[5*j+3], y-c[5*j+4]
			if d := dx*dx + dy*dy; d < bd {
				best, bd = j, d
			}
		}
		label[p] = int32(best)
	}
	return connect(label, w, h, max(1, n/(2*k)))
}

// connect makes every superpixel 4-connected. Each cluster's largest
// connected piece stays, as does any other piece of at least minSize
// pixels; the pixels of the smaller pieces are given to the superpixels
// around them by a breadth-first flood from the pieces kept (in scan
// order, so deterministic). Keeping each cluster's largest piece means a
// noisy image cannot collapse into a few giant superpixels, as merging
// each small piece into its neighbour in turn can. Labels are renumbered
// 0..n-1 in scan order of their first pixel.
func connect(label []int32, w, h, minSize int) ([]int32, int) {
	n := w * h
	piece := make([]int32, n)
	for i := range piece {
		piece[i] = -1
	}
	var size []int
	var cluster []int32
	stack := make([]int32, 0, 64)
	neighbours := func(q int, visit func(nb int)) {
		x, y := q%w, q/w
		if x > 0 {
			visit(q - 1)
		}
		if x < w-1 {
			visit(q + 1)
		}
		if y > 0 {
			visit(q - w)
		}
		if y < h-1 {
			visit(q + w)
		}
	}
	for p := range n {
		if piece[p] >= 0 {
			continue
		}
		id := int32(len(size))
		l := label[p]
		count := 0
		piece[p] = id
		stack = append(stack[:0], int32(p))
		for len(stack) > 0 {
			q := int(stack[len(stack)-1])
			stack = stack[:len(stack)-1]
			count++
			neighbours(q, func(nb int) {
				if piece[nb] < 0 && label[nb] == l {
					piece[nb] = id
					stack = append(stack, int32(nb))
				}
			})
		}
		size = append(size, count)
		cluster = append(cluster, l)
	}
	largest := map[int32]int32{}
	for id, c := range cluster {
		if b, ok := largest[c]; !ok || size[id] > size[b] {
			largest[c] = int32(id)
		}
	}
	keep := make([]bool, len(size))
	for id, c := range cluster {
		keep[id] = largest[c] == int32(id) || size[id] >= minSize
	}
	out := make([]int32, n)
	queue := make([]int32, 0, n)
	for p := range n {
		out[p] = -1
		if keep[piece[p]] {
			out[p] = piece[p]
			queue = append(queue, int32(p))
		}
	}
	for i := 0; i < len(queue); i++ {
		q := int(queue[i])
		neighbours(q, func(nb int) {
			if out[nb] < 0 {
				out[nb] = out[q]
				queue = append(queue, int32(nb))
			}
		})
	}
	renumber := make([]int32, len(size))
	for i := range renumber {
		renumber[i] = -1
	}
	next := int32(0)
	for p, v := range out {
		if renumber[v] < 0 {
			renumber[v] = next
			next++
		}
		out[p] = renumber[v]
	}
	return out, int(next)
}

// toLab converts packed sRGB bytes to CIELAB under D65, as skimage's
// rgb2lab: L* in [0, 100].
func toLab(rgb []uint8, n int) []float64 {
	var lin [256]float64
	for i := range lin {
		v := float64(i) / 255
		if v > 0.04045 {
			lin[i] = math.Pow((v+0.055)/1.055, 2.4)
		} else {
			lin[i] = v / 12.92
		}
	}
	f := func(t float64) float64 {
		if t > 0.008856 {
			return math.Cbrt(t)
		}
		return 7.787*t + 16.0/116
	}
	lab := make([]float64, 3*n)
	for p := range n {
		r, g, b := lin[rgb[3*p]], lin[rgb[3*p+1]], lin[rgb[3*p+2]]
		x := (0.412453*r + 0.357580*g + 0.180423*b) / 0.95047
		y := 0.212671*r + 0.715160*g + 0.072169*b
		z := (0.019334*r + 0.119193*g + 0.950227*b) / 1.08883
		fx, fy, fz := f(x), f(y), f(z)
		l := 116*fy - 16
		if y <= 0.008856 {
			l = 903.3 * y
		}
		lab[3*p], lab[3*p+1], lab[3*p+2] = l, 500*(fx-fy), 200*(fy-fz)
	}
	return lab
}
