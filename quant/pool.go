package quant

// AveragePoolDivide returns sum/count rounded to the nearest integer, ties
// away from zero, as TFLite's quantised AVERAGE_POOL_2D does
// (reference_integer_ops::AveragePool: (sum ± count/2) / count with C's
// truncating division; the uint8 kernel's sums are never negative, so the
// same formula covers it). count must be positive.
func AveragePoolDivide(sum, count int32) int32 {
	if sum > 0 {
		return (sum + count/2) / count
	}
	return (sum - count/2) / count
}
