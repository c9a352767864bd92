package ptq

import (
	"fmt"
	"math"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// Method chooses how an activation's real range is taken from the values
// it showed during calibration.
type Method string

const (
	// MinMax takes the smallest and largest value seen, as TensorFlow's
	// converter does: nothing seen is ever clipped.
	MinMax Method = "minmax"
	// Percentile drops the rarest values of each tail (Options.Percentile),
	// trading clipped outliers for a finer scale over the bulk.
	Percentile Method = "percentile"
)

// DefaultPercentile is the share of each tail Percentile keeps.
const DefaultPercentile = 99.99

// histogramBins is the resolution of the Percentile histograms: 2048 bins
// of 8 bytes per tensor (16 KiB), fine enough that the chosen bound is
// within 1/2048 of the tensor's range of the exact percentile.
const histogramBins = 2048

// Options configures a Calibrator.
type Options struct {
	// IO is the type of the quantised model's input and output tensors:
	// tfl.Int8 (the default, also when 0) or tfl.Uint8. Uint8 adds a
	// QUANTIZE from uint8 after the input and one to uint8 before each
	// output, as TensorFlow does for inference_input_type=uint8.
	IO tfl.TensorType
	// Method is MinMax (default when empty) or Percentile.
	Method Method
	// Percentile is the percentage of values kept at each end by the
	// Percentile method, in (50, 100]; 0 means DefaultPercentile (99.99).
	Percentile float64
	// InputRange, when non-nil, is the real range [lo, hi] of input 0 as
	// given by the pixel normalisation: [0, 1] for unit, [-1, 1] for
	// symmetric, [0, 255] for none. Input 0 is then quantised from it,
	// instead of from calibration, so that every 8-bit pixel has its own
	// code: unit gives scale 1/255 and zero point -128 (0 with uint8 IO),
	// none gives scale 1. Calibration images rarely contain both pure
	// black and pure white in every channel, so their range would be a
	// little narrower and clip real pixels.
	InputRange *[2]float64
	// Threads is the number of goroutines the calibration interpreter and
	// the range recording may use; 0 or 1 means one.
	Threads int
}

// withDefaults validates o and fills its defaults.
func (o Options) withDefaults() (Options, error) {
	switch o.IO {
	case 0:
		o.IO = tfl.Int8
	case tfl.Int8, tfl.Uint8:
	default:
		return o, fmt.Errorf("ptq: input/output type %s not supported (want int8 or uint8)", o.IO)
	}
	switch o.Method {
	case "":
		o.Method = MinMax
	case MinMax, Percentile:
	default:
		return o, fmt.Errorf("ptq: unknown calibration method %q (want minmax or percentile)", o.Method)
	}
	if o.Percentile == 0 {
		o.Percentile = DefaultPercentile
	}
	if !(o.Percentile > 50 && o.Percentile <= 100) {
		return o, fmt.Errorf("ptq: percentile %g out of range (50, 100]", o.Percentile)
	}
	if r := o.InputRange; r != nil {
		lo, hi := r[0], r[1]
		if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) || !(lo < hi) ||
			math.Abs(lo) > math.MaxFloat32 || math.Abs(hi) > math.MaxFloat32 {
			return o, fmt.Errorf("ptq: input range [%g, %g] is not a finite interval with lo < hi", lo, hi)
		}
	}
	o.Threads = max(o.Threads, 1)
	return o, nil
}
