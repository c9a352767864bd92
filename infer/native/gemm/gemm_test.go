package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/fruitcam/fruitcam/quant"
)

func TestMain(m *testing.M) {
	minWork = 1 // split even the small test matrices over threads
	os.Exit(m.Run())
}

// refInt8 is the reference loop of doc.go, applied to values in their own
// type (int8 or uint8 given as int32) with their own zero points.
func refInt8(a, b []int32, m, n, k int, aZP, bZP int32, bias []int32, r Requant) []int32 {
	out := make([]int32, m*n)
	for i := range m {
		for j := range n {
			var acc int32
			for kk := range k {
				acc += (a[i*k+kk] - aZP) * (b[j*k+kk] - bZP)
			}
			if bias != nil {
				acc += bias[j]
			}
			c := 0
			if len(r.Multiplier) > 1 {
				c = j
			}
			v := quant.MultiplyByQuantizedMultiplierHalfUp(acc, r.Multiplier[c], r.Shift[c]) + r.ZeroPoint
			out[i*n+j] = min(max(v, r.Min), r.Max)
		}
	}
	return out
}

// shapes covers odd sizes, K below and not a multiple of the k group, N
// not a multiple of the panel width, single rows and columns.
var shapes = []struct{ m, n, k int }{
	{1, 1, 1}, {1, 3, 5}, {2, 4, 4}, {3, 5, 7}, {7, 9, 3}, {5, 8, 16}, {13, 17, 33},
	{1, 1001, 64}, {33, 6, 27}, {4, 2, 1}, {64, 13, 130}, {9, 40, 100}, {6, 32, 2},
	{5, 64, 64}, {3, 48, 6}, {2, 33, 259}, {1, 160, 7}, {9, 256, 5}, {1, 512, 40}, {17, 16, 20}, {12, 48, 9},
}

// eachInt8 runs f once per quantised kernel this CPU has, with that
// kernel selected for packing.
func eachInt8(t testing.TB, f func(name string)) {
	t.Helper()
	saved := int8Impl
	defer func() { int8Impl = saved }()
	for _, k := range int8Kernels {
		int8Impl = k
		f(k.name())
	}
}

// eachF32 is eachInt8 for the float kernels.
func eachF32(t testing.TB, f func(name string)) {
	t.Helper()
	saved := f32Impl
	defer func() { f32Impl = saved }()
	for _, k := range f32Kernels {
		f32Impl = k
		f(k.name())
	}
}

func randRequant(rng *rand.Rand, n int, perChannel, u8 bool) Requant {
	nm := 1
	if perChannel {
		nm = n
	}
	r := Requant{Uint8: u8}
	for range nm {
		// Real multipliers as convolutions have: small, well below one.
		mul, shift := quant.QuantizeMultiplier(math.Exp(-rng.Float64()*8 - 2))
		r.Multiplier = append(r.Multiplier, mul)
		r.Shift = append(r.Shift, shift)
	}
	qmin, qmax := quant.TypeRange(!u8)
	r.ZeroPoint = qmin + rng.Int32N(qmax-qmin+1)
	r.Min, r.Max = qmin, qmax
	if rng.IntN(2) == 0 {
		r.Min = qmin + rng.Int32N(100)
		r.Max = qmax - rng.Int32N(100)
	}
	return r
}

// int8Case is one random quantised GEMM: values in their own type (int8
// or uint8, as int32), zero points, bias and output stage.
type int8Case struct {
	m, n, k  int
	u8       bool
	a, b     []int32
	aZP, bZP int32
	bias     []int32
	r        Requant
}

// bytesOf returns values as bytes of their type.
func bytesOf(v []int32) []byte {
	out := make([]byte, len(v))
	for i, x := range v {
		out[i] = byte(x)
	}
	return out
}

// gemm packs the case's weights for the selected kernel and sets it up.
func (c *int8Case) gemm(t testing.TB) *Int8 {
	t.Helper()
	var w *Int8Weights
	if c.u8 {
		w = PackUint8(bytesOf(c.b), c.n, c.k, c.bZP)
	} else {
		bi := make([]int8, len(c.b))
		for i, v := range c.b {
			bi[i] = int8(v)
		}
		w = PackInt8(bi, c.n, c.k, c.bZP)
	}
	g, err := NewInt8(w, c.aZP, c.u8, c.bias, c.r)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// check runs g with several thread counts and compares every output with
// the reference loop.
func (c *int8Case) check(t *testing.T, g *Int8, label string) {
	t.Helper()
	want := refInt8(c.a, c.b, c.m, c.n, c.k, c.aZP, c.bZP, c.bias, c.r)
	a := bytesOf(c.a)
	for _, threads := range []int{1, 2, 3} {
		got := make([]byte, c.m*c.n)
		g.Run(threads, got, c.n, a, c.k, c.m)
		for i := range want {
			gv := int32(int8(got[i]))
			if c.u8 {
				gv = int32(got[i])
			}
			if gv != want[i] {
				t.Fatalf("%s %s threads %d: C[%d][%d] = %d, want %d", g.Kernel(), label, threads, i/c.n, i%c.n, gv, want[i])
			}
		}
	}
}

func TestInt8MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range shapes {
		for _, tc := range []struct {
			name            string
			u8, perCh, bias bool
		}{
			{"int8/per-tensor", false, false, true},
			{"int8/per-channel", false, true, true},
			{"int8/no-bias", false, true, false},
			{"uint8", true, false, true},
			{"uint8/no-bias", true, false, false},
		} {
			qmin, qmax := quant.TypeRange(!tc.u8)
			rnd := func(cnt int) []int32 {
				v := make([]int32, cnt)
				for i := range v {
					v[i] = qmin + rng.Int32N(qmax-qmin+1)
				}
				return v
			}
			c := int8Case{m: s.m, n: s.n, k: s.k, u8: tc.u8}
			c.a, c.b = rnd(s.m*s.k), rnd(s.n*s.k)
			c.aZP = qmin + rng.Int32N(qmax-qmin+1)
			if tc.u8 || rng.IntN(2) == 0 {
				c.bZP = qmin + rng.Int32N(qmax-qmin+1)
			}
			if tc.bias {
				c.bias = make([]int32, s.n)
				for i := range c.bias {
					c.bias[i] = rng.Int32N(20001) - 10000
				}
			}
			c.r = randRequant(rng, s.n, tc.perCh, tc.u8)
			eachInt8(t, func(string) { c.check(t, c.gemm(t), fmt.Sprint(s, tc.name)) })
		}
	}
}

// TestInt8Extremes fills inputs and weights with the extreme values of
// their types (where products, pair sums and the 21-bit lanes are at their
// limits), with zero points at both ends, long K and the full range of
// multipliers and shifts, so that the output stage's wrapping left shift
// and 64-bit rounding are exercised too.
func TestInt8Extremes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, u8 := range []bool{false, true} {
		qmin, qmax := quant.TypeRange(!u8)
		for _, k := range []int{1, 3, 4, 63, 64, 65, 255, 1000} {
			for _, zp := range [][2]int32{{qmin, qmin}, {qmax, qmax}, {qmin, qmax}, {0, 0}} {
				m, n := 5, 35
				c := int8Case{m: m, n: n, k: k, u8: u8, aZP: zp[0], bZP: zp[1]}
				if !u8 && rng.IntN(2) == 0 {
					c.bZP = 0
				}
				pick := func() int32 {
					if rng.IntN(2) == 0 {
						return qmin
					}
					return qmax
				}
				for range m * k {
					c.a = append(c.a, pick())
				}
				for range n * k {
					c.b = append(c.b, pick())
				}
				c.bias = make([]int32, n)
				for i := range c.bias {
					c.bias[i] = int32(rng.Uint32())
				}
				c.r = Requant{ZeroPoint: pick(), Min: qmin, Max: qmax, Uint8: u8}
				for range n {
					c.r.Multiplier = append(c.r.Multiplier, int32(rng.Uint32()>>1))
					c.r.Shift = append(c.r.Shift, rng.IntN(62)-31)
				}
				c.r.Multiplier[0], c.r.Shift[0] = 1<<31-1, 30
				c.r.Multiplier[1], c.r.Shift[1] = 1<<30, -31
				c.r.Multiplier[2] = 0
				eachInt8(t, func(string) { c.check(t, c.gemm(t), fmt.Sprintf("u8=%v k=%d zp=%v", u8, k, zp)) })
			}
		}
	}
}

// TestInt8Strides runs rows with lda > K and ldc > N (im2col blocks and
// output windows) and checks that nothing outside the window is written.
func TestInt8Strides(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	m, n, k, lda, ldc := 5, 19, 7, 11, 23
	a := make([]byte, m*lda)
	b := make([]int8, n*k)
	for i := range a {
		a[i] = byte(rng.IntN(256))
	}
	for i := range b {
		b[i] = int8(rng.IntN(256))
	}
	r := Requant{Multiplier: []int32{1 << 30}, Shift: []int{-6}, Min: -128, Max: 127}
	eachInt8(t, func(name string) {
		g, err := NewInt8(PackInt8(b, n, k, 0), 3, false, nil, r)
		if err != nil {
			t.Fatal(err)
		}
		dst := make([]byte, m*ldc)
		for i := range dst {
			dst[i] = 99
		}
		g.Compute(dst, ldc, a, lda, m)
		for i := range m {
			for j := range ldc {
				got := int8(dst[i*ldc+j])
				if j >= n {
					if got != 99 {
						t.Fatalf("%s: C[%d][%d] (outside N) = %d, want untouched 99", name, i, j, got)
					}
					continue
				}
				var acc int32
				for kk := range k {
					acc += (int32(int8(a[i*lda+kk])) - 3) * int32(b[j*k+kk])
				}
				want := min(max(quant.MultiplyByQuantizedMultiplierHalfUp(acc, 1<<30, -6), -128), 127)
				if int32(got) != want {
					t.Fatalf("%s: C[%d][%d] = %d, want %d", name, i, j, got, want)
				}
			}
		}
	})
}

func TestFloat32MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, s := range shapes {
		m, n, k := s.m, s.n, s.k
		a, b, bias := make([]float32, m*k), make([]float32, n*k), make([]float32, n)
		for i := range a {
			a[i] = rng.Float32()*2 - 1
		}
		for i := range b {
			b[i] = rng.Float32()*2 - 1
		}
		for i := range bias {
			bias[i] = rng.Float32() - 0.5
		}
		lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
		if rng.IntN(2) == 0 {
			lo, hi = 0, 6
		}
		checkFloat32(t, fmt.Sprint(s), a, b, bias, m, n, k, lo, hi)
	}
}

// TestFloat32SpecialValues puts NaN, infinities and signed zeros in the
// inputs, weights and bias, with clamp bounds at zero, where Go's min and
// max have their own rules.
func TestFloat32SpecialValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	nz := float32(math.Copysign(0, -1))
	special := []float32{0, nz, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1, -1, 1e-30}
	// Nine rows: groups of four, then one (the one-row kernels), and eight
	// and one for the last, partial column (the eight-row kernels).
	m, n, k := 9, 165, 3
	for _, bounds := range [][2]float32{{float32(math.Inf(-1)), float32(math.Inf(1))}, {0, 6}, {nz, 0}, {0, 0}, {nz, nz}, {-1, 1}} {
		for range 4 {
			a, b, bias := make([]float32, m*k), make([]float32, n*k), make([]float32, n)
			for i := range a {
				a[i] = special[rng.IntN(len(special))]
			}
			for i := range b {
				b[i] = special[rng.IntN(len(special))]
			}
			for i := range bias {
				bias[i] = special[rng.IntN(len(special))]
			}
			checkFloat32(t, fmt.Sprint(bounds), a, b, bias, m, n, k, bounds[0], bounds[1])
		}
	}
}

// checkFloat32 runs every float kernel and compares the bits of each output
// with the reference loop (any NaN matches any NaN).
func checkFloat32(t *testing.T, label string, a, b, bias []float32, m, n, k int, lo, hi float32) {
	t.Helper()
	want := make([]float32, m*n)
	for i := range m {
		for j := range n {
			var acc float32
			for kk := range k {
				acc += a[i*k+kk] * b[j*k+kk]
			}
			want[i*n+j] = min(max(acc+bias[j], lo), hi)
		}
	}
	eachF32(t, func(name string) {
		g, err := NewFloat32(PackFloat32(b, n, k), bias, lo, hi)
		if err != nil {
			t.Fatal(err)
		}
		for _, threads := range []int{1, 2} {
			got := make([]float32, m*n)
			g.Run(threads, got, n, a, k, m)
			for i, w := range want {
				gb, wb := math.Float32bits(got[i]), math.Float32bits(w)
				if gb != wb && !(w != w && got[i] != got[i]) {
					t.Fatalf("%s %s threads %d: C[%d][%d] = %g (%#x), want %g (%#x)", name, label, threads, i/n, i%n, got[i], gb, w, wb)
				}
			}
		}
	})
}

func TestNewInt8RejectsBadParameters(t *testing.T) {
	w := PackInt8(make([]int8, 6), 2, 3, 0)
	ok := Requant{Multiplier: []int32{1 << 30}, Shift: []int{-1}, Min: -128, Max: 127}
	for _, tc := range []struct {
		name string
		zp   int32
		u8   bool
		bias []int32
		r    Requant
	}{
		{"bias length", 0, false, []int32{1}, ok},
		{"multiplier count", 0, false, nil, Requant{Multiplier: []int32{1, 2, 3}, Shift: []int{0, 0, 0}, Min: -128, Max: 127}},
		{"shift count", 0, false, nil, Requant{Multiplier: []int32{1}, Shift: nil, Min: -128, Max: 127}},
		{"clamp outside int8", 0, false, nil, Requant{Multiplier: []int32{1}, Shift: []int{0}, Min: -128, Max: 200}},
		{"clamp inverted", 0, false, nil, Requant{Multiplier: []int32{1}, Shift: []int{0}, Min: 5, Max: 4}},
		{"uint8 zero point", 0, false, nil, Requant{Multiplier: []int32{1}, Shift: []int{0}, ZeroPoint: 300, Min: 0, Max: 255, Uint8: true}},
		{"input zero point", 200, false, nil, ok},
		{"input uint8 zero point", -1, true, nil, ok},
		{"shift", 0, false, nil, Requant{Multiplier: []int32{1}, Shift: []int{40}, Min: -128, Max: 127}},
	} {
		if _, err := NewInt8(w, tc.zp, tc.u8, tc.bias, tc.r); err == nil {
			t.Errorf("%s: got no error", tc.name)
		}
	}
}

func TestRunDoesNotAllocate(t *testing.T) {
	// K and N not multiples of the kernels' widths: the tail paths too.
	m, n, k := 9, 35, 13
	eachInt8(t, func(name string) {
		g, err := NewInt8(PackInt8(make([]int8, n*k), n, k, 1), 2, false, nil,
			Requant{Multiplier: []int32{1 << 30}, Shift: []int{-3}, Min: -128, Max: 127})
		if err != nil {
			t.Fatal(err)
		}
		a, dst := make([]byte, m*k), make([]byte, m*n)
		if got := testing.AllocsPerRun(10, func() { g.Run(1, dst, n, a, k, m) }); got != 0 {
			t.Errorf("%s: Int8.Run allocates %v times, want 0", name, got)
		}
	})
	eachF32(t, func(name string) {
		f, err := NewFloat32(PackFloat32(make([]float32, n*k), n, k), nil, -1, 1)
		if err != nil {
			t.Fatal(err)
		}
		af, df := make([]float32, m*k), make([]float32, m*n)
		if got := testing.AllocsPerRun(10, func() { f.Run(1, df, n, af, k, m) }); got != 0 {
			t.Errorf("%s: Float32.Run allocates %v times, want 0", name, got)
		}
	})
}

// benchShapes are GEMMs of MobileNet v2 (M = output pixels, N output
// channels, K = input channels) and its classifier.
var benchShapes = []struct{ m, n, k int }{
	{12544, 96, 16}, {3136, 24, 144}, {784, 192, 32}, {196, 384, 64}, {49, 960, 160}, {49, 1280, 320}, {1, 1001, 1280},
}

func BenchmarkInt8(b *testing.B) {
	defer func(w int) { minWork = w }(minWork)
	minWork = 1 << 18 // as in production
	for _, s := range benchShapes {
		eachInt8(b, func(name string) {
			c := int8Case{m: s.m, n: s.n, k: s.k, u8: true, aZP: 3, bZP: 120,
				a: make([]int32, s.m*s.k), b: make([]int32, s.n*s.k),
				r: Requant{Multiplier: []int32{1 << 30}, Shift: []int{-8}, Min: 0, Max: 255, Uint8: true}}
			g := c.gemm(b)
			a, dst := make([]byte, s.m*s.k), make([]byte, s.m*s.n)
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%dx%dx%d/%s/threads=%d", s.m, s.n, s.k, name, threads), func(b *testing.B) {
					b.SetBytes(int64(s.m * s.n * s.k)) // MB/s reads as millions of multiply-adds per second
					for b.Loop() {
						g.Run(threads, dst, s.n, a, s.k, s.m)
					}
				})
			}
		})
	}
}

func BenchmarkFloat32(b *testing.B) {
	for _, s := range benchShapes[1:4] {
		eachF32(b, func(name string) {
			g, err := NewFloat32(PackFloat32(make([]float32, s.n*s.k), s.n, s.k), nil, 0, 6)
			if err != nil {
				b.Fatal(err)
			}
			a, dst := make([]float32, s.m*s.k), make([]float32, s.m*s.n)
			b.Run(fmt.Sprintf("%dx%dx%d/%s", s.m, s.n, s.k, name), func(b *testing.B) {
				b.SetBytes(int64(s.m * s.n * s.k))
				for b.Loop() {
					g.Run(1, dst, s.n, a, s.k, s.m)
				}
			})
		})
	}
}

func TestSumBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{0, 1, 7, 8, 31, 32, 33, 64, 100, 1023, 1024, 1025, 5000} {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(rng.IntN(256))
		}
		if n > 40 {
			for i := range p[:40] {
				p[i] = 255 // the largest lane sums
			}
		}
		for _, x := range []byte{0, 0x80, 0xff} {
			var want uint32
			for _, v := range p {
				want += uint32(v ^ x)
			}
			if got := sumBytes(p, x); got != want {
				t.Errorf("sumBytes(%d bytes, %#x) = %d, want %d", n, x, got, want)
			}
		}
	}
}
