package quant

import (
	"math"
	"testing"
)

func TestChooseAffine(t *testing.T) {
	tests := []struct {
		name       string
		min, max   float32
		qmin, qmax int32
		want       AffineParams
	}{
		// Parameters TensorFlow's converter wrote into
		// models/mlperf_tiny/{vww_96,pretrainedResnet}_quant files, from the
		// min/max it stored beside them: ours must be the same floats.
		{"tf relu output", 0, 3.817346, -128, 127, AffineParams{0.014969985, -128}},
		{"tf signed", -4.9552383, 6.4589257, -128, 127, AffineParams{0.044761427, -17}},
		{"tf logits", -1.8021262, 1.9301095, -128, 127, AffineParams{0.014636219, -5}},
		{"tf raw pixels", 0, 255, -128, 127, AffineParams{1, -128}},
		{"unit pixels int8", 0, 1, -128, 127, AffineParams{float32(1) / 255, -128}},
		{"unit pixels uint8", 0, 1, 0, 255, AffineParams{float32(1) / 255, 0}},
		{"all positive widens to 0", 2, 5, -128, 127, AffineParams{float32(5) / 255, -128}},
		{"all negative widens to 0", -5, -2, -128, 127, AffineParams{float32(5) / 255, 127}},
		{"exactly zero", 0, 0, -128, 127, AffineParams{float32(1) / 255, -128}},
		{"single positive value", 3, 3, -128, 127, AffineParams{float32(3) / 255, -128}},
		{"single negative value", -3, -3, -128, 127, AffineParams{float32(3) / 255, 127}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ChooseAffine(tc.min, tc.max, tc.qmin, tc.qmax)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("ChooseAffine(%g, %g) = %+v, want %+v", tc.min, tc.max, got, tc.want)
			}
		})
	}
}

// TestChooseAffineProperties checks, over many ranges, what the
// quantisation specification asks of activation parameters: real 0 is
// exactly a code, and the nudged range still covers the requested one to
// within half a step at each end (the nudge moves it by less than that).
func TestChooseAffineProperties(t *testing.T) {
	bounds := []float32{-1000, -7.3, -1, -0.2, -1e-4, 0, 1e-6, 0.5, 1, 6, 255, 3e4}
	for _, lo := range bounds {
		for _, hi := range bounds {
			if lo > hi {
				continue
			}
			for _, q := range [][2]int32{{-128, 127}, {0, 255}} {
				p, err := ChooseAffine(lo, hi, q[0], q[1])
				if err != nil {
					t.Fatalf("ChooseAffine(%g, %g): %v", lo, hi, err)
				}
				if p.ZeroPoint < q[0] || p.ZeroPoint > q[1] {
					t.Fatalf("[%g, %g]: zero point %d outside [%d, %d]", lo, hi, p.ZeroPoint, q[0], q[1])
				}
				if got := p.Dequantize(p.ZeroPoint); got != 0 {
					t.Errorf("[%g, %g]: zero point dequantises to %g, want 0", lo, hi, got)
				}
				if got := p.Quantize(0, q[0], q[1]); got != p.ZeroPoint {
					t.Errorf("[%g, %g]: 0 quantises to %d, want %d", lo, hi, got, p.ZeroPoint)
				}
				nlo, nhi := p.Range(q[0], q[1])
				wlo, whi := min(lo, 0), max(hi, 0)
				if wlo == 0 && whi == 0 {
					whi = 1
				}
				slack := 0.5*p.Scale + 1e-6*max(whi-wlo, 1)
				if nlo > wlo+slack || nhi < whi-slack {
					t.Errorf("[%g, %g]: nudged range [%g, %g] leaves out more than half a step (%g)", lo, hi, nlo, nhi, p.Scale)
				}
			}
		}
	}
}

func TestChooseAffineErrors(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	tests := []struct {
		name       string
		min, max   float32
		qmin, qmax int32
	}{
		{"nan min", nan, 1, -128, 127},
		{"nan max", 0, nan, -128, 127},
		{"infinite", 0, inf, -128, 127},
		{"min above max", 2, 1, -128, 127},
		{"empty integer range", 0, 1, 5, 5},
		{"overflowing width", -3e38, 3e38, -128, 127},
	}
	for _, tc := range tests {
		if p, err := ChooseAffine(tc.min, tc.max, tc.qmin, tc.qmax); err == nil {
			t.Errorf("%s: ChooseAffine(%g, %g) = %+v, want an error", tc.name, tc.min, tc.max, p)
		}
	}
}

func TestMinMax(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	tests := []struct {
		in     []float32
		lo, hi float32
		ok     bool
	}{
		{[]float32{3, -1, 2}, -1, 3, true},
		{[]float32{nan, 5, -inf, inf, 4}, 4, 5, true},
		{[]float32{-math.MaxFloat32, math.MaxFloat32}, -math.MaxFloat32, math.MaxFloat32, true},
		{[]float32{nan, inf}, 0, 0, false},
		{nil, 0, 0, false},
	}
	for _, tc := range tests {
		lo, hi, ok := MinMax(tc.in)
		if lo != tc.lo || hi != tc.hi || ok != tc.ok {
			t.Errorf("MinMax(%v) = %g, %g, %v; want %g, %g, %v", tc.in, lo, hi, ok, tc.lo, tc.hi, tc.ok)
		}
	}
}
