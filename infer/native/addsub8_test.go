package native

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/fruitcam/fruitcam/quant"
)

// randAddParams draws 8-bit ADD/SUB parameters: random scales (sometimes
// powers of two, whose multipliers meet exact rounding ties), zero points
// anywhere in the type's range, and an activation clamp.
func randAddParams(rng *rand.Rand, signed bool) quant.AddParams {
	qmin, qmax := quant.TypeRange(signed)
	zp := func() int32 { return qmin + rng.Int32N(qmax-qmin+1) }
	scale := func() float32 {
		if rng.IntN(3) == 0 {
			return 1 / float32(int(1)<<rng.IntN(8))
		}
		return 0.001 + rng.Float32()*0.2
	}
	for {
		lo, hi := qmin, qmax
		if rng.IntN(3) == 0 {
			lo = zp()
		}
		if rng.IntN(3) == 0 {
			hi = zp()
		}
		if lo > hi {
			continue
		}
		p, err := quant.NewAddParams(scale(), zp(), scale(), zp(), scale(), zp(), lo, hi)
		if err == nil {
			return p
		}
	}
}

// TestAddSub8AllPairs checks the table loop and the SIMD kernels against
// quant.AddParams on every pair of input bytes, in random order so that
// neighbouring lanes hold unrelated values.
func TestAddSub8AllPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(70, 71))
	defer func() { addKernelSIMD, addKernelWide = true, true }()
	for i := range 24 {
		signed, sub := i%2 == 1, i%4 >= 2
		p := randAddParams(rng, signed)
		q := newAddSub8(p, signed, sub)
		x, y := make([]byte, 65536), make([]byte, 65536)
		want := make([]byte, 65536)
		perm := rng.Perm(65536)
		for a := range 256 {
			for b := range 256 {
				o := perm[a<<8|b]
				x[o], y[o] = byte(a), byte(b)
				va, vb := int32(a), int32(b)
				if signed {
					va, vb = int32(int8(a)), int32(int8(b))
				}
				r := p.Add(va, vb)
				if sub {
					r = p.Sub(va, vb)
				}
				want[o] = byte(r)
			}
		}
		for _, path := range addPaths {
			addKernelSIMD, addKernelWide = path.simd, path.wide
			name := fmt.Sprintf("#%d signed=%v sub=%v %s", i, signed, sub, path.name)
			got := make([]byte, len(want))
			// Rows of random length exercise the tails.
			for lo := 0; lo < len(want); {
				hi := min(len(want), lo+1+rng.IntN(200))
				if signed {
					addSubRow(q, view[int8](got[lo:hi]), view[int8](x[lo:hi]), view[int8](y[lo:hi]), 1, 1)
				} else {
					addSubRow(q, got[lo:hi], x[lo:hi], y[lo:hi], 1, 1)
				}
				lo = hi
			}
			if o := firstDiff(got, want); o < len(want) {
				t.Fatalf("%s: %d ± %d = %d, want %d", name, x[o], y[o], got[o], want[o])
			}
		}
	}
}

// addPaths are the 8-bit ADD/SUB loops; on CPUs without one of them the
// next narrower runs.
var addPaths = []struct {
	name       string
	simd, wide bool
}{{"table", false, false}, {"simd", true, false}, {"simdwide", true, true}}

// TestAddSub8Strides covers broadcast rows (a stride of 0).
func TestAddSub8Strides(t *testing.T) {
	rng := rand.New(rand.NewPCG(72, 73))
	p := randAddParams(rng, false)
	q := newAddSub8(p, false, false)
	x := []byte{7}
	y := make([]byte, 50)
	for i := range y {
		y[i] = byte(rng.IntN(256))
	}
	got := make([]byte, 50)
	addSubRow(q, got, x, y, 0, 1)
	for i, v := range got {
		if want := byte(p.Add(7, int32(y[i]))); v != want {
			t.Fatalf("element %d: got %d, want %d", i, v, want)
		}
	}
}

// BenchmarkAddSub8 times MobileNet v2's largest residual ADD: the
// reference per-element computation, the table loop and the SIMD kernels.
func BenchmarkAddSub8(b *testing.B) {
	rng := rand.New(rand.NewPCG(74, 75))
	p := randAddParams(rng, false)
	q := newAddSub8(p, false, false)
	n := 56 * 56 * 24
	x, y, d := make([]byte, n), make([]byte, n), make([]byte, n)
	for i := range x {
		x[i], y[i] = byte(rng.IntN(256)), byte(rng.IntN(256))
	}
	defer func() { addKernelSIMD, addKernelWide = true, true }()
	b.Run("reference", func(b *testing.B) {
		for b.Loop() {
			for i := range d {
				d[i] = byte(p.Add(int32(x[i]), int32(y[i])))
			}
		}
	})
	for _, path := range addPaths {
		b.Run(path.name, func(b *testing.B) {
			addKernelSIMD, addKernelWide = path.simd, path.wide
			for b.Loop() {
				addSubRow(q, d, x, y, 1, 1)
			}
		})
	}
}
