package quant

import "math"

// Lookup tables for 8-bit activations.
//
// TensorFlow Lite 2.9's default ("generic optimized") kernels do not run the
// gemmlowp fixed-point LOGISTIC and TANH of the reference kernels on int8 and
// uint8 tensors: Prepare evaluates the real function once per possible input
// code, in float32, and Eval is a table lookup (kernels/activations.cc,
// PopulateLookupTable and EvalUsingLookupTable). We do the same so that our
// outputs are the ones the C library produces, bit for bit: every step below
// is a float32 operation in the same order as TFLite's.

// Expf is C's expf: e^x rounded to float32. Computing in float64 and rounding
// once is correctly rounded except in rare double-rounding cases, which is
// also what glibc's expf (error < 0.502 ulp) gives.
func Expf(x float32) float32 { return float32(math.Exp(float64(x))) }

// Logistic32 is the float32 logistic function as TFLite's lookup-table
// Prepare computes it: 1 / (1 + expf(-x)) in float32.
func Logistic32(x float32) float32 {
	d := float32(1) + Expf(-x)
	return 1 / d
}

// Tanh32 is C's tanhf: tanh(x) rounded to float32.
func Tanh32(x float32) float32 { return float32(math.Tanh(float64(x))) }

// PopulateLUT8 fills table with f applied to every 8-bit input code: entry
// uint8(q) holds the output code of input code q (q is an int8 when signed,
// so int8 and uint8 tensors can both be looked up by their raw bytes). As in
// TFLite's PopulateLookupTable:
//
//	real = inScale * (q - inZP)                      (float32)
//	out  = trunc(roundf(f(real) * (1/outScale)) + outZP), clamped to the type
//
// roundf rounds half away from zero. Values too large for int32, which TFLite
// leaves to the C conversion, saturate here.
func PopulateLUT8(table *[256]uint8, signed bool, inScale float32, inZP int32, outScale float32, outZP int32, f func(float32) float32) {
	qmin, qmax := TypeRange(signed)
	inv := 1 / outScale
	for q := qmin; q <= qmax; q++ {
		real := inScale * float32(q-inZP)
		y := f(real)
		r := float32(math.Round(float64(y * inv)))
		v := r + float32(outZP)
		var o int32
		switch {
		case v != v || v <= float32(qmin):
			o = qmin
		case v >= float32(qmax):
			o = qmax
		default:
			o = int32(v)
		}
		table[uint8(q)] = uint8(o)
	}
}
