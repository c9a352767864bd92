package gemm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fruitcam/fruitcam/quant"
)

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
	{1, 1001, 64}, {33, 6, 27}, {4, 2, 1}, {64, 13, 130},
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
			m, n, k := s.m, s.n, s.k
			qmin, qmax := quant.TypeRange(!tc.u8)
			rnd := func(cnt int) []int32 {
				v := make([]int32, cnt)
				for i := range v {
					v[i] = qmin + rng.Int32N(qmax-qmin+1)
				}
				return v
			}
			a, b := rnd(m*k), rnd(n*k)
			aZP := qmin + rng.Int32N(qmax-qmin+1)
			bZP := int32(0)
			if tc.u8 || rng.IntN(2) == 0 {
				bZP = qmin + rng.Int32N(qmax-qmin+1)
			}
			var bias []int32
			if tc.bias {
				bias = make([]int32, n)
				for i := range bias {
					bias[i] = rng.Int32N(20001) - 10000
				}
			}
			r := randRequant(rng, n, tc.perCh, tc.u8)
			want := refInt8(a, b, m, n, k, aZP, bZP, bias, r)

			var w *Int8Weights
			ain := make([]int8, m*k)
			if tc.u8 {
				bu, au := make([]uint8, len(b)), make([]uint8, len(a))
				for i, v := range b {
					bu[i] = uint8(v)
				}
				for i, v := range a {
					au[i] = uint8(v)
				}
				w = PackUint8(bu, n, k, bZP)
				FlipSign(ain, au)
			} else {
				bi := make([]int8, len(b))
				for i, v := range b {
					bi[i] = int8(v)
				}
				for i, v := range a {
					ain[i] = int8(v)
				}
				w = PackInt8(bi, n, k, bZP)
			}
			g, err := NewInt8(w, aZP, tc.u8, bias, r)
			if err != nil {
				t.Fatal(err)
			}
			for _, threads := range []int{1, 2, 3} {
				got := make([]int8, m*n)
				g.Run(threads, got, n, ain, k, m)
				for i := range want {
					gv := int32(got[i])
					if tc.u8 {
						gv = int32(uint8(got[i]))
					}
					if gv != want[i] {
						t.Fatalf("%v %s threads %d: C[%d][%d] = %d, want %d", s, tc.name, threads, i/n, i%n, gv, want[i])
					}
				}
			}
		}
	}
}

// TestInt8Strides runs rows with lda > K and ldc > N (im2col blocks and
// output windows) and checks that nothing outside the window is written.
func TestInt8Strides(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	m, n, k, lda, ldc := 5, 6, 7, 11, 9
	a := make([]int8, m*lda)
	b := make([]int8, n*k)
	for i := range a {
		a[i] = int8(rng.IntN(256))
	}
	for i := range b {
		b[i] = int8(rng.IntN(256))
	}
	r := Requant{Multiplier: []int32{1 << 30}, Shift: []int{-6}, Min: -128, Max: 127}
	g, err := NewInt8(PackInt8(b, n, k, 0), 3, false, nil, r)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]int8, m*ldc)
	for i := range dst {
		dst[i] = 99
	}
	g.Compute(dst, ldc, a, lda, m)
	for i := range m {
		for j := range ldc {
			got := dst[i*ldc+j]
			if j >= n {
				if got != 99 {
					t.Fatalf("C[%d][%d] (outside N) = %d, want untouched 99", i, j, got)
				}
				continue
			}
			var acc int32
			for kk := range k {
				acc += (int32(a[i*lda+kk]) - 3) * int32(b[j*k+kk])
			}
			want := min(max(quant.MultiplyByQuantizedMultiplierHalfUp(acc, 1<<30, -6), -128), 127)
			if int32(got) != want {
				t.Fatalf("C[%d][%d] = %d, want %d", i, j, got, want)
			}
		}
	}
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
		g, err := NewFloat32(PackFloat32(b, n, k), bias, lo, hi)
		if err != nil {
			t.Fatal(err)
		}
		for _, threads := range []int{1, 2} {
			got := make([]float32, m*n)
			g.Run(threads, got, n, a, k, m)
			for i := range m {
				for j := range n {
					var acc float32
					for kk := range k {
						acc += a[i*k+kk] * b[j*k+kk]
					}
					want := min(max(acc+bias[j], lo), hi)
					// Same summation order as the reference: exact.
					if got[i*n+j] != want {
						t.Fatalf("%v threads %d: C[%d][%d] = %g, want %g", s, threads, i, j, got[i*n+j], want)
					}
				}
			}
		}
	}
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
	m, n, k := 8, 10, 12
	g, err := NewInt8(PackInt8(make([]int8, n*k), n, k, 1), 2, false, nil,
		Requant{Multiplier: []int32{1 << 30}, Shift: []int{-3}, Min: -128, Max: 127})
	if err != nil {
		t.Fatal(err)
	}
	a, dst := make([]int8, m*k), make([]int8, m*n)
	if got := testing.AllocsPerRun(10, func() { g.Run(1, dst, n, a, k, m) }); got != 0 {
		t.Errorf("Int8.Run allocates %v times, want 0", got)
	}
	f, err := NewFloat32(PackFloat32(make([]float32, n*k), n, k), nil, -1, 1)
	if err != nil {
		t.Fatal(err)
	}
	af, df := make([]float32, m*k), make([]float32, m*n)
	if got := testing.AllocsPerRun(10, func() { f.Run(1, df, n, af, k, m) }); got != 0 {
		t.Errorf("Float32.Run allocates %v times, want 0", got)
	}
}
