package quant

import (
	"math"
	"testing"
)

func TestPopulateLUT8Identity(t *testing.T) {
	// Identity with the same parameters maps every code to itself; with
	// half the output scale it doubles and clamps.
	var tab [256]uint8
	for _, signed := range []bool{false, true} {
		qmin, qmax := TypeRange(signed)
		PopulateLUT8(&tab, signed, 0.1, 3, 0.1, 3, func(x float32) float32 { return x })
		for q := qmin; q <= qmax; q++ {
			if got := tab[uint8(q)]; got != uint8(q) {
				t.Errorf("signed=%v identity: code %d -> %d", signed, q, got)
			}
		}
		PopulateLUT8(&tab, signed, 0.5, 0, 0.25, 0, func(x float32) float32 { return x })
		for q := qmin; q <= qmax; q++ {
			want := Clamp(2*q, qmin, qmax)
			if got := int32(tab[uint8(q)]); signed && int32(int8(got)) != want || !signed && got != want {
				t.Errorf("signed=%v double: code %d -> %d, want %d", signed, q, got, want)
			}
		}
	}
	// NaN and infinities saturate rather than wrap.
	PopulateLUT8(&tab, true, 1, 0, 1, 0, func(x float32) float32 {
		switch {
		case x > 0:
			return float32(math.Inf(1))
		case x < 0:
			return float32(math.NaN())
		}
		return 0
	})
	if tab[1] != 127 || int8(tab[255]) != -128 || tab[0] != 0 {
		t.Errorf("saturation: +inf -> %d, NaN -> %d, 0 -> %d", int8(tab[1]), int8(tab[255]), int8(tab[0]))
	}
}

func TestLogisticTanh32(t *testing.T) {
	if got := Logistic32(0); got != 0.5 {
		t.Errorf("Logistic32(0) = %g, want 0.5", got)
	}
	if got := Logistic32(-200); got != 0 {
		t.Errorf("Logistic32(-200) = %g, want 0", got)
	}
	if got := Logistic32(200); got != 1 {
		t.Errorf("Logistic32(200) = %g, want 1", got)
	}
	if got := Tanh32(0.5); got != float32(math.Tanh(0.5)) {
		t.Errorf("Tanh32(0.5) = %g", got)
	}
}

func TestSoftmaxTable(t *testing.T) {
	tab := NewSoftmaxTable(0.5, 2)
	if tab[255] != 1 {
		t.Errorf("table[255] = %g, want e^0 = 1", tab[255])
	}
	if want := float32(math.Exp(-1)); tab[254] != want {
		t.Errorf("table[254] = %g, want %g", tab[254], want)
	}
	// Two codes one apart at scale ln 2: probabilities 2/3 and 1/3.
	tab = NewSoftmaxTable(float32(math.Ln2), 1)
	dst := make([]uint8, 2)
	tab.SoftmaxRowUint8(dst, []uint8{10, 9}, 1.0/256)
	if dst[0] != 171 || dst[1] != 85 {
		t.Errorf("uint8 [10 9]: got %v, want [171 85]", dst)
	}
	d8 := make([]int8, 2)
	tab.SoftmaxRowInt8(d8, []int8{-128, -127}, 1.0/256, -128)
	if d8[0] != 85-128 || d8[1] != 171-128 {
		t.Errorf("int8 [-128 -127]: got %v, want [-43 43]", d8)
	}
}
