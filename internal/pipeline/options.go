package pipeline

import (
	"fmt"
	"math"
	"time"
)

// Aggregation methods for Options.Aggregate.
const (
	AggregateMean = "mean"
	AggregateVote = "vote"
)

// Defaults for the zero values of Options.
const (
	DefaultQueue          = 16
	DefaultBatchSize      = 1
	DefaultTopK           = 5
	DefaultUnknown        = "unknown"
	MinItemTimeout        = 250 * time.Millisecond
	itemTimeoutPerBatches = 4
)

// Options configure a Pipeline. The zero value is usable: every field
// documents its default.
type Options struct {
	// Queue bounds the frames waiting for a worker, besides the batch
	// being assembled (at most BatchSize more); when it is full the oldest
	// waiting frame is dropped. 0 means DefaultQueue (16).
	Queue int
	// BatchSize is the most frames classified in one Classify call. 0
	// means 1 (no batching).
	BatchSize int
	// BatchTimeout is how long the oldest frame of an unfilled batch may
	// wait for more frames before the batch runs anyway (nvstreammux's
	// batched-push-timeout). 0 runs whatever is queued at once.
	BatchTimeout time.Duration
	// ItemTimeout is how long an incomplete item waits for its next frame
	// once none of its frames are queued or being classified; then it is
	// published with the frames it has. 0 means 4×BatchTimeout, at least
	// MinItemTimeout (250 ms).
	ItemTimeout time.Duration
	// TopK is the number of classes in Result.Top. 0 means 5.
	TopK int
	// Aggregate says how the frames of an item are combined: "mean" (the
	// default: mean score vector) or "vote" (majority of the frames' top
	// classes, ties broken by mean score).
	Aggregate string
	// Threshold: an item whose best mean score is below it gets the
	// Unknown label and Index -1. 0 (the default) accepts any
	// probability; models with raw scores need a threshold on their scale.
	Threshold float32
	// Unknown is the label of items below Threshold. "" means "unknown".
	Unknown string
	// Clock is the time source; nil means SystemClock.
	Clock Clock
}

// withDefaults validates o and fills its zero values.
func (o Options) withDefaults() (Options, error) {
	switch {
	case o.Queue < 0:
		return o, fmt.Errorf("pipeline: queue is %d; want at least 1 (or 0 for the default %d)", o.Queue, DefaultQueue)
	case o.BatchSize < 0:
		return o, fmt.Errorf("pipeline: batch size is %d; want at least 1 (or 0 for 1)", o.BatchSize)
	case o.BatchTimeout < 0:
		return o, fmt.Errorf("pipeline: batch timeout is %v; want 0 or more", o.BatchTimeout)
	case o.ItemTimeout < 0:
		return o, fmt.Errorf("pipeline: item timeout is %v; want 0 (the default) or more", o.ItemTimeout)
	case o.TopK < 0:
		return o, fmt.Errorf("pipeline: top k is %d; want at least 1 (or 0 for %d)", o.TopK, DefaultTopK)
	case math.IsNaN(float64(o.Threshold)) || math.IsInf(float64(o.Threshold), 0):
		return o, fmt.Errorf("pipeline: threshold is %v; want a number such as 0.5", o.Threshold)
	}
	switch o.Aggregate {
	case "":
		o.Aggregate = AggregateMean
	case AggregateMean, AggregateVote:
	default:
		return o, fmt.Errorf("pipeline: unknown aggregation %q; want %q or %q", o.Aggregate, AggregateMean, AggregateVote)
	}
	if o.Queue == 0 {
		o.Queue = DefaultQueue
	}
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.ItemTimeout == 0 {
		o.ItemTimeout = max(itemTimeoutPerBatches*o.BatchTimeout, MinItemTimeout)
	}
	if o.TopK == 0 {
		o.TopK = DefaultTopK
	}
	if o.Unknown == "" {
		o.Unknown = DefaultUnknown
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	return o, nil
}
