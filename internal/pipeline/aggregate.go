package pipeline

import (
	"time"

	"github.com/fruitcam/fruitcam/infer"
)

// item accumulates the frames of one (camera, item) until it is
// complete: every frame it announced (ItemFrames) classified, dropped or
// failed. Items are pooled by the Pipeline; their vectors are allocated
// once per item slot, not per frame.
type item struct {
	camera string
	id     uint64
	want   int // ItemFrames of its first frame
	queued int // submitted, not yet classified, dropped or failed
	done   int // classified
	lost   int // dropped or failed
	// captured is the earliest capture time of its frames (the first
	// frame's, unless frames arrive out of order); last is the time of
	// the latest event (submit, drop, classification) for ItemTimeout.
	captured  time.Time
	last      time.Time
	inference time.Duration
	sum       []float64 // per class: the sum of the frames' scores
	votes     []int32   // per class: how many frames ranked it first
}

func newItem(classes int) *item {
	return &item{sum: make([]float64, classes), votes: make([]int32, classes)}
}

// reset clears it for the first frame f of a new item.
func (it *item) reset(camera string, id uint64, want int, captured, now time.Time) {
	it.camera, it.id, it.want = camera, id, max(want, 1)
	it.queued, it.done, it.lost = 0, 0, 0
	it.captured, it.last, it.inference = captured, now, 0
	clear(it.sum)
	clear(it.votes)
}

// complete reports whether no more frames of it are expected and none
// is queued (a queued frame points to its item, which must not be
// recycled under it).
func (it *item) complete() bool { return it.queued == 0 && it.done+it.lost >= it.want }

// full reports whether it has all its frames, so another is one too many.
func (it *item) full() bool { return it.queued+it.done+it.lost >= it.want }

// expiry is when an incomplete item with nothing queued is given up on;
// zero while frames are queued or in a batch, or once it is complete.
func (it *item) expiry(timeout time.Duration) time.Time {
	if it.queued > 0 || it.complete() {
		return time.Time{}
	}
	return it.last.Add(timeout)
}

// add accumulates one frame's scores. Its vote goes to the best score,
// ties to the lower index (as infer ranks).
func (it *item) add(scores []float32) {
	best := 0
	for i, s := range scores {
		it.sum[i] += float64(s)
		if s > scores[best] {
			best = i
		}
	}
	it.votes[best]++
	it.done++
}

// rank fills top (its capacity is k) with the k best classes of it, best
// first: by mean score, or in vote mode by votes then mean score; equal
// keys by lower index. labels names the classes.
func (it *item) rank(top []infer.Class, labels []string, vote bool) []infer.Class {
	k := min(cap(top), len(it.sum))
	top = top[:0]
	n := float64(max(it.done, 1))
	// better reports whether class i (votes v, mean m) ranks above c.
	better := func(v int32, m float32, c infer.Class) bool {
		if vote {
			if cv := it.votes[c.Index]; v != cv {
				return v > cv
			}
		}
		return m > c.Score // equal: the earlier (lower) index stays first
	}
	for i, s := range it.sum {
		m, v := float32(s/n), it.votes[i]
		if len(top) == k && !better(v, m, top[k-1]) {
			continue
		}
		pos := len(top)
		for pos > 0 && better(v, m, top[pos-1]) {
			pos--
		}
		if len(top) < k {
			top = append(top, infer.Class{})
		}
		copy(top[pos+1:], top[pos:len(top)-1])
		top[pos] = infer.Class{Index: i, Label: labels[i], Score: m}
	}
	return top
}
