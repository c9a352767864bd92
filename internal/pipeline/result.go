package pipeline

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/fruitcam/fruitcam/infer"
)

// Result is the classification of one item: the aggregate of its frames.
type Result struct {
	Camera string
	// Seq numbers the results of one Pipeline from 1 in the order they
	// are produced (and sent), without gaps: a consumer that sees a jump
	// lost results on the way.
	Seq  uint64
	Item uint64
	// Frames is the number of frames aggregated; fewer than the item's
	// ItemFrames when some were dropped, failed or never arrived.
	Frames int
	// Label is the best class, or Options.Unknown when its Score is below
	// Options.Threshold (Index is then -1).
	Label string
	Index int
	// Score is the best class's mean score over the item's frames (also
	// in vote mode, where the class itself is chosen by votes).
	Score float32
	// Top holds the best Options.TopK classes after aggregation, with
	// their mean scores. Its backing array belongs to the Pipeline and is
	// reused once Sink.Send returns: a sink that keeps the Result past
	// Send keeps r.Clone().
	Top []infer.Class
	// Captured is the capture time of the item's first frame; Done is when
	// the result was produced. Done.Sub(Captured) is the capture→result
	// latency, queueing and batching included.
	Captured time.Time
	Done     time.Time
	// Inference is the model time attributed to this item: for each frame,
	// the time of the Classify call that ran its batch (preprocessing
	// included) divided by the frames in that batch, summed.
	Inference time.Duration
}

// Clone returns r with its own copy of Top.
func (r Result) Clone() Result {
	r.Top = slices.Clone(r.Top)
	return r
}

// Sink receives results. The Pipeline calls Send from one goroutine at a
// time, in Seq order; Send should return quickly (a sink that talks to
// a network queues internally), since it delays the next result. The
// context is not cancelled during a graceful shutdown, so the last
// results can still be delivered; a sink bounds its own waits.
type Sink interface {
	Send(ctx context.Context, r Result) error
}

// Fanout is a Sink that sends each result to every sink in order. One
// sink's error does not keep the result from the others; Send returns
// all errors joined.
type Fanout []Sink

// Send sends r to every sink.
func (f Fanout) Send(ctx context.Context, r Result) error {
	var errs []error
	for _, s := range f {
		if err := s.Send(ctx, r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
