package conformance

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// The bars every backend must meet against the TensorFlow Lite C library.
const (
	// MaxSteps is the largest difference allowed between quantised
	// outputs, in quantisation steps.
	MaxSteps = 3
	// MaxRelErr is the largest relative error allowed for float outputs.
	MaxRelErr = 1e-4
	// relFloor is the fraction of the output's largest magnitude below
	// which an element's error is measured against that fraction instead
	// of the element itself (see RelErr).
	relFloor = 1e-3
	// absFloor keeps the denominator positive for all-zero outputs.
	absFloor = 1e-6
)

// RelErr is |got-want| / max(|want|, floor) with
// floor = max(1e-3·max|want over the tensor|, 1e-6).
//
// Why a floor: float32 kernels that sum in a different order (blocked
// GEMM, SIMD lanes, threads) differ by a few ulps of the partial sums,
// which are as large as the tensor's biggest values, not as the element at
// hand. An element a thousand times smaller than the largest one (a
// softmax probability of 1e-7 beside one of 0.9) carries that absolute
// error too, so its plain relative error says nothing about correctness.
// Below the floor the comparison becomes absolute: 1e-4 × 1e-3 × max, a
// tenth of a millionth of the tensor's range, still far tighter than
// any real bug.
func RelErr(got, want float32, floor float64) float64 {
	return math.Abs(float64(got)-float64(want)) / max(math.Abs(float64(want)), floor)
}

// Diff summarises how outputs differ from a reference, accumulated over
// inputs with Add.
type Diff struct {
	Float    bool
	Elements int
	// Quantised (and other integer) outputs: MaxSteps is the largest
	// |got-want|; Hist counts |Δ| = 0, 1, 2, 3 and > 3.
	MaxSteps int
	// Float outputs: MaxRel is the largest RelErr; Hist counts relative
	// errors ≤ 1e-7, ≤ 1e-6, ≤ 1e-5, ≤ 1e-4 and > 1e-4.
	MaxRel float64
	Hist   [5]int
	// Rows is the number of rows (last dimension = classes) compared,
	// Top1 how many of them agree on the top class.
	Rows, Top1 int
}

// Add accumulates o into d.
func (d *Diff) Add(o Diff) {
	d.Float = d.Float || o.Float
	d.Elements += o.Elements
	d.MaxSteps = max(d.MaxSteps, o.MaxSteps)
	d.MaxRel = max(d.MaxRel, o.MaxRel)
	for i := range d.Hist {
		d.Hist[i] += o.Hist[i]
	}
	d.Rows += o.Rows
	d.Top1 += o.Top1
}

// OK reports whether d meets the bars.
func (d Diff) OK() bool {
	if d.Float {
		return d.MaxRel <= MaxRelErr && d.Top1 == d.Rows
	}
	return d.MaxSteps <= MaxSteps && d.Top1 == d.Rows
}

// Max is the headline number: max |Δ| in steps, or max relative error.
func (d Diff) Max() string {
	if d.Float {
		return fmt.Sprintf("%.1e", d.MaxRel)
	}
	return fmt.Sprintf("%d", d.MaxSteps)
}

// Histogram prints Hist with its bucket names.
func (d Diff) Histogram() string {
	names := [5]string{"0", "1", "2", "3", ">3"}
	if d.Float {
		names = [5]string{"≤1e-7", "≤1e-6", "≤1e-5", "≤1e-4", ">1e-4"}
	}
	var b strings.Builder
	for i, n := range d.Hist {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%d", names[i], n)
	}
	return b.String()
}

// Compare compares one output tensor's bytes with the reference's.
// Top-1 is taken per row of the last dimension and is tie-aware: a row
// agrees when the sets of indices holding the row's maximum intersect, so
// that two classes tied in one runtime and one step apart in the other do
// not count as a disagreement, while a real swap does.
func Compare(typ tfl.TensorType, shape []int, got, want []byte) (Diff, error) {
	if len(got) != len(want) {
		return Diff{}, fmt.Errorf("conformance: output has %d bytes, reference %d", len(got), len(want))
	}
	g, err := decode(typ, got)
	if err != nil {
		return Diff{}, err
	}
	w, _ := decode(typ, want)
	d := Diff{Float: typ == tfl.Float32, Elements: len(w)}
	if d.Float {
		var peak float64
		for _, v := range w {
			peak = max(peak, math.Abs(v))
		}
		floor := max(relFloor*peak, absFloor)
		for i := range w {
			r := RelErr(float32(g[i]), float32(w[i]), floor)
			if math.IsNaN(g[i]) != math.IsNaN(w[i]) {
				r = math.Inf(1)
			}
			d.MaxRel = max(d.MaxRel, r)
			switch {
			case r <= 1e-7:
				d.Hist[0]++
			case r <= 1e-6:
				d.Hist[1]++
			case r <= 1e-5:
				d.Hist[2]++
			case r <= 1e-4:
				d.Hist[3]++
			default:
				d.Hist[4]++
			}
		}
	} else {
		for i := range w {
			s := int(math.Abs(g[i] - w[i]))
			d.MaxSteps = max(d.MaxSteps, s)
			d.Hist[min(s, 4)]++
		}
	}
	cols := 1
	if len(shape) > 0 {
		cols = shape[len(shape)-1]
	}
	if cols > 0 && len(w)%cols == 0 {
		for r := 0; r < len(w); r += cols {
			d.Rows++
			if topTied(g[r:r+cols], w[r:r+cols]) {
				d.Top1++
			}
		}
	}
	return d, nil
}

func topTied(g, w []float64) bool {
	gm, wm := math.Inf(-1), math.Inf(-1)
	for i := range g {
		gm, wm = max(gm, g[i]), max(wm, w[i])
	}
	for i := range g {
		if g[i] == gm && w[i] == wm {
			return true
		}
	}
	return false
}

// decode reads little-endian tensor bytes as float64 values.
func decode(typ tfl.TensorType, b []byte) ([]float64, error) {
	size := typ.Size()
	if size == 0 || len(b)%size != 0 {
		return nil, fmt.Errorf("conformance: %d bytes of %s", len(b), typ)
	}
	out := make([]float64, len(b)/size)
	for i := range out {
		switch typ {
		case tfl.Float32:
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
		case tfl.Uint8:
			out[i] = float64(b[i])
		case tfl.Int8:
			out[i] = float64(int8(b[i]))
		case tfl.Int16:
			out[i] = float64(int16(binary.LittleEndian.Uint16(b[2*i:])))
		case tfl.Int32:
			out[i] = float64(int32(binary.LittleEndian.Uint32(b[4*i:])))
		default:
			return nil, fmt.Errorf("conformance: outputs of type %s are not compared", typ)
		}
	}
	return out, nil
}
