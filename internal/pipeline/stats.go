package pipeline

import (
	"slices"
	"time"
)

// Stats is a snapshot of a Pipeline's counters, for the stats topic and
// the logs. Counters run from New; rates and percentiles cover recent
// history only (RateWindow, the last reservoirSize samples).
type Stats struct {
	// FramesIn counts Submit calls. Each frame ends up Processed (its
	// Classify call succeeded), Skipped (dropped from the full queue,
	// submitted after Close, or a late frame of an item already
	// published) or Failed (its Classify call returned an error).
	FramesIn  uint64
	Processed uint64
	Skipped   uint64
	Failed    uint64
	// Batches counts Classify calls; Processed/Batches is the mean batch
	// fill.
	Batches uint64
	// Items counts results sent; Incomplete those with fewer frames than
	// the item announced; Lost the items none of whose frames could be
	// classified (no result is sent for them).
	Items      uint64
	Incomplete uint64
	Lost       uint64
	// SinkErrors counts Send calls that returned an error.
	SinkErrors uint64
	// QueueDepth is the number of frames waiting for a worker now.
	QueueDepth int
	// InferenceP50 and InferenceP99 are percentiles of the per-frame
	// model time (a Classify call's duration divided by its frames).
	InferenceP50, InferenceP99 time.Duration
	// LatencyP50 and LatencyP99 are percentiles of capture→result
	// latency (Result.Done - Result.Captured).
	LatencyP50, LatencyP99 time.Duration
	// FPSIn, FPSProcessed and FPSSkipped are frame rates over the last
	// RateWindow (or since New, when that is shorter, but at least 1 s).
	FPSIn, FPSProcessed, FPSSkipped float64
}

// RateWindow is the span the FPS figures of Stats average over.
const RateWindow = 10 * time.Second

// reservoirSize is how many recent samples the percentiles are taken
// from.
const reservoirSize = 512

// reservoir keeps the last reservoirSize durations in a fixed ring, so
// recording allocates nothing.
type reservoir struct {
	buf [reservoirSize]time.Duration
	n   int // samples recorded, saturating at len(buf)
	pos int
}

func (r *reservoir) add(d time.Duration) {
	r.buf[r.pos] = d
	r.pos = (r.pos + 1) % len(r.buf)
	r.n = min(r.n+1, len(r.buf))
}

// percentiles returns the nearest-rank percentiles p (in [0, 1]) of the
// recorded samples, 0 without samples.
func (r *reservoir) percentiles(p50, p99 *time.Duration) {
	if r.n == 0 {
		*p50, *p99 = 0, 0
		return
	}
	var tmp [reservoirSize]time.Duration
	s := tmp[:r.n]
	copy(s, r.buf[:r.n])
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	*p50, *p99 = rank(0.50), rank(0.99)
}

// Counters kept per second for the rates.
const (
	rateIn = iota
	rateProcessed
	rateSkipped
	rateKinds
)

const rateBuckets = int(RateWindow / time.Second)

// rates counts events in one-second buckets over RateWindow.
type rates struct {
	start  time.Time
	sec    [rateBuckets]int64
	counts [rateBuckets][rateKinds]uint64
}

func (r *rates) add(now time.Time, kind int, n uint64) {
	s := now.Unix()
	b := int(((s % int64(rateBuckets)) + int64(rateBuckets)) % int64(rateBuckets))
	if r.sec[b] != s {
		r.sec[b] = s
		r.counts[b] = [rateKinds]uint64{}
	}
	r.counts[b][kind] += n
}

// perSecond returns the rate of kind over the buckets of the last
// RateWindow: the current partial second and the rateBuckets-1 before it,
// or the time since start when that is shorter.
func (r *rates) perSecond(now time.Time, kind int) float64 {
	cur := now.Unix()
	var sum uint64
	for b := range r.sec {
		if s := r.sec[b]; s <= cur && s > cur-int64(rateBuckets) {
			sum += r.counts[b][kind]
		}
	}
	from := time.Unix(cur-int64(rateBuckets)+1, 0)
	if r.start.After(from) {
		from = r.start
	}
	// At least a second, so the first frames after New do not read as
	// a burst of thousands per second.
	span := max(now.Sub(from), time.Second)
	return float64(sum) / span.Seconds()
}
