package quant

import "fmt"

// AddParams are the fixed-point parameters of a quantised ADD or SUB, set up
// as TFLite's kernels/add.cc and sub.cc Prepare do for 8-bit tensors:
//
//	twice  = 2·max(s1, s2)
//	m1     = s1 / twice,  m2 = s2 / twice        (both ≤ ½)
//	mOut   = twice / (2^LeftShift · sOut)
//
// Each input, offset by its zero point, is shifted left by LeftShift (20)
// bits so that scaling it by m1 or m2 keeps ~20 bits of fraction, the two
// are added (or subtracted), and the sum is scaled by mOut, offset and
// clamped (reference_ops::AddElementwise, reference_integer_ops::AddElementwise,
// SubElementwise).
type AddParams struct {
	In1Offset, In2Offset, OutOffset int32 // −zp1, −zp2, +zpOut
	LeftShift                       int
	In1Mult, In2Mult, OutMult       int32
	In1Shift, In2Shift, OutShift    int // ≤ 0: right shifts after the multiply
	Min, Max                        int32
}

// addLeftShift is TFLite's left_shift for 8-bit ADD and SUB.
const addLeftShift = 20

// NewAddParams computes AddParams for inputs with scales s1, s2 and zero
// points z1, z2 and an output with scale so, zero point zo and activation
// clamp [lo, hi]. It fails when a multiplier is not below one, which only
// happens when the output scale is 2^19 times finer than the inputs' and
// which TFLite's kernel does not handle either.
func NewAddParams(s1 float32, z1 int32, s2 float32, z2 int32, so float32, zo int32, lo, hi int32) (AddParams, error) {
	p := AddParams{In1Offset: -z1, In2Offset: -z2, OutOffset: zo, LeftShift: addLeftShift, Min: lo, Max: hi}
	if !(s1 > 0) || !(s2 > 0) || !(so > 0) {
		return p, fmt.Errorf("quant: add: scales %g, %g, %g must be positive", s1, s2, so)
	}
	// TFLite computes 2*max in float (exact) and the ratios in double.
	twice := float64(2 * max(s1, s2))
	r1 := float64(s1) / twice
	r2 := float64(s2) / twice
	ro := twice / float64(float32(1<<addLeftShift)*so)
	if ro >= 1 {
		return p, fmt.Errorf("quant: add: output scale %g is too small for input scales %g, %g", so, s1, s2)
	}
	p.In1Mult, p.In1Shift = QuantizeMultiplierSmallerThanOneExp(r1)
	p.In2Mult, p.In2Shift = QuantizeMultiplierSmallerThanOneExp(r2)
	p.OutMult, p.OutShift = QuantizeMultiplierSmallerThanOneExp(ro)
	return p, nil
}

// scaled returns both inputs on the common scale.
func (p *AddParams) scaled(a, b int32) (int32, int32) {
	x := (a + p.In1Offset) * (1 << p.LeftShift)
	y := (b + p.In2Offset) * (1 << p.LeftShift)
	x = MultiplyByQuantizedMultiplierSmallerThanOneExp(x, p.In1Mult, p.In1Shift)
	y = MultiplyByQuantizedMultiplierSmallerThanOneExp(y, p.In2Mult, p.In2Shift)
	return x, y
}

// Add returns the quantised sum of the quantised values a and b.
func (p *AddParams) Add(a, b int32) int32 {
	x, y := p.scaled(a, b)
	r := MultiplyByQuantizedMultiplierSmallerThanOneExp(x+y, p.OutMult, p.OutShift) + p.OutOffset
	return Clamp(r, p.Min, p.Max)
}

// Sub returns the quantised difference a − b of the quantised values a and b.
func (p *AddParams) Sub(a, b int32) int32 {
	x, y := p.scaled(a, b)
	r := MultiplyByQuantizedMultiplierSmallerThanOneExp(x-y, p.OutMult, p.OutShift) + p.OutOffset
	return Clamp(r, p.Min, p.Max)
}
