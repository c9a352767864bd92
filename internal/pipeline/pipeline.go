package pipeline

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/fruitcam/fruitcam/capture"
	"github.com/fruitcam/fruitcam/infer"
)

// Classifier classifies a batch of images; *infer.Classifier satisfies
// it. The Pipeline gives each of its classifiers to one goroutine only.
// It reads the results of a call before the next call on the same
// classifier, so an implementation may reuse them.
type Classifier interface {
	// ClassifyInto classifies images into dst, reusing its elements'
	// slices (see infer.Classifier.ClassifyInto), so that a steady stream
	// of frames allocates nothing.
	ClassifyInto(dst []infer.Result, images []image.Image, topK int) ([]infer.Result, error)
	// Labels names the classes in output order; every classifier of a
	// Pipeline must have the same.
	Labels() []string
}

// Pipeline turns frames into item results: a bounded queue, micro-batches
// classified by one worker per Classifier, aggregation per item, and a
// Sink. See the package documentation for the rules.
type Pipeline struct {
	opts        Options
	classifiers []Classifier
	labels      []string
	sink        Sink
	log         *slog.Logger
	clock       Clock
	vote        bool

	notify chan struct{} // "something changed" for the collecting worker
	stop   chan struct{} // closed when shutdown begins
	done   chan struct{} // closed when Run has returned

	// collectMu is held by the one worker assembling a batch.
	collectMu sync.Mutex
	timer     Timer // used under collectMu

	// emitMu orders results: Seq assignment and Send.
	emitMu sync.Mutex
	seq    uint64
	top    []infer.Class

	// space is signalled when a worker takes frames from the queue, for
	// SubmitWait.
	space chan struct{}

	mu       sync.Mutex
	started  bool
	closed   bool
	queue    ring
	active   []*item // items with frames still expected
	ready    []*item // complete items waiting for the collector to send them
	free     []*item
	recent   [recentItems]itemKey // items sent lately, to refuse late frames
	recentAt int
	failLog  logLimit // Classify errors
	sinkLog  logLimit // Send errors
	stats    Stats
	rates    rates
	infer    reservoir
	latency  reservoir
}

// recentItems is how many finished items are remembered to refuse their
// late frames.
const recentItems = 32

type itemKey struct {
	camera string
	id     uint64
	valid  bool
}

// queued is a frame waiting in the queue or in a batch.
type queued struct {
	f       *capture.Frame
	it      *item
	arrived time.Time
}

// New returns a Pipeline with one worker per classifier, sending results
// to sink. log may be nil (nothing is logged).
func New(opts Options, classifiers []Classifier, sink Sink, log *slog.Logger) (*Pipeline, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if len(classifiers) == 0 {
		return nil, errors.New("pipeline: no classifiers; give one per worker")
	}
	if sink == nil {
		return nil, errors.New("pipeline: no sink")
	}
	labels := classifiers[0].Labels()
	if len(labels) == 0 {
		return nil, errors.New("pipeline: the classifier has no classes")
	}
	for i, c := range classifiers[1:] {
		if !slices.Equal(c.Labels(), labels) {
			return nil, fmt.Errorf("pipeline: classifier %d has other labels than classifier 0; all workers must run the same model", i+1)
		}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Pipeline{
		opts: opts, classifiers: classifiers, labels: labels, sink: sink, log: log,
		clock:  opts.Clock,
		vote:   opts.Aggregate == AggregateVote,
		notify: make(chan struct{}, 1),
		space:  make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		top:    make([]infer.Class, 0, min(opts.TopK, len(labels))),
		queue:  ring{buf: make([]queued, opts.Queue)},
	}
	p.timer = p.clock.NewTimer()
	p.rates.start = p.clock.Now()
	return p, nil
}

// Submit queues a frame for classification and returns at once: when
// the queue is full, the oldest queued frame is dropped (released and
// counted as skipped). After Close, and for a frame of an item that was
// already produced or has all its ItemFrames, the frame is released and
// skipped.
// The Pipeline releases every frame it is given, after classifying it.
// Submit is safe to call from several goroutines.
func (p *Pipeline) Submit(f *capture.Frame) {
	now := p.clock.Now()
	p.mu.Lock()
	p.stats.FramesIn++
	p.rates.add(now, rateIn, 1)
	var it *item
	if !p.closed && !p.isRecent(f.Camera, f.Item) {
		it = p.itemFor(f, now)
	}
	if it == nil || it.full() {
		p.skip(now, 1) // after Close, late, or one frame too many
		p.mu.Unlock()
		f.Release()
		return
	}
	it.queued++
	it.last = now
	if f.Captured.Before(it.captured) {
		it.captured = f.Captured
	}
	dropped, full := p.queue.push(queued{f: f, it: it, arrived: now})
	if full {
		p.skip(now, 1)
		p.lose(dropped.it, now)
	}
	p.mu.Unlock()
	if full {
		dropped.f.Release()
	}
	p.wake()
}

// SubmitWait is Submit for sources that can wait, such as a folder read
// as fast as possible (batch mode): instead of dropping the oldest frame
// when the queue is full, it waits until a worker has made room, or ctx
// ends (the frame is then released and ctx's error returned). A camera
// uses Submit: it must never wait.
func (p *Pipeline) SubmitWait(ctx context.Context, f *capture.Frame) error {
	for {
		p.mu.Lock()
		room := p.closed || p.queue.n < len(p.queue.buf)
		p.mu.Unlock()
		if room {
			p.Submit(f)
			return nil
		}
		select {
		case <-p.space:
		case <-ctx.Done():
			f.Release()
			return ctx.Err()
		}
	}
}

// Run runs the workers until ctx is cancelled or Close is called, then
// shuts down gracefully: it classifies the frames still queued, sends
// every item that has classified frames (complete or not) and returns
// nil. Run after Close drains what was submitted before it and returns.
// A second Run is an error.
func (p *Pipeline) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.started {
		p.mu.Unlock()
		return errors.New("pipeline: Run called twice")
	}
	p.started = true
	p.mu.Unlock()
	defer close(p.done)

	// Results of a graceful shutdown are still sent: the sink's context
	// outlives ctx's cancellation and ends when Run does.
	sendCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()

	watchDone := make(chan struct{})
	go func() { // owned by Run: ends at shutdown, which Run waits for
		defer close(watchDone)
		select {
		case <-ctx.Done():
			p.shutdown()
		case <-p.stop:
		}
	}()

	var wg sync.WaitGroup
	for _, c := range p.classifiers {
		wg.Go(func() { p.work(sendCtx, c) })
	}
	wg.Wait()
	<-watchDone

	// Every frame is processed; send what remains, oldest item first.
	p.mu.Lock()
	rest := append(p.ready, p.active...)
	p.ready, p.active = nil, nil
	p.mu.Unlock()
	slices.SortStableFunc(rest, func(a, b *item) int { return a.captured.Compare(b.captured) })
	p.send(sendCtx, rest)
	return nil
}

// Close stops accepting frames (later ones are released and skipped)
// and, when Run is running, waits until it has classified and sent what
// it holds and returned. Before Run, Close returns at once and the Run
// that follows drains the frames submitted so far; frames are released
// only by Run. Close must not be called from Sink.Send.
func (p *Pipeline) Close() error {
	p.shutdown()
	p.mu.Lock()
	started := p.started
	p.mu.Unlock()
	if started {
		<-p.done
	}
	return nil
}

func (p *Pipeline) shutdown() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		close(p.stop)
	}
}

// Stats returns a snapshot of the counters.
func (p *Pipeline) Stats() Stats {
	now := p.clock.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.QueueDepth = p.queue.n
	p.infer.percentiles(&s.InferenceP50, &s.InferenceP99)
	p.latency.percentiles(&s.LatencyP50, &s.LatencyP99)
	s.FPSIn = p.rates.perSecond(now, rateIn)
	s.FPSProcessed = p.rates.perSecond(now, rateProcessed)
	s.FPSSkipped = p.rates.perSecond(now, rateSkipped)
	return s
}

// worker is the state of one worker goroutine, reused batch after batch.
type worker struct {
	c       Classifier
	batch   []queued
	images  []image.Image
	results []infer.Result // the last batch's results, reused
	ready   []*item        // items to send, completed by this worker or due
	classes int
}

// work is one worker: collect a batch, classify it, account, send.
func (p *Pipeline) work(ctx context.Context, c Classifier) {
	w := &worker{
		c:       c,
		batch:   make([]queued, 0, p.opts.BatchSize),
		images:  make([]image.Image, p.opts.BatchSize),
		classes: len(p.labels),
	}
	for p.collect(ctx, w) {
		p.classify(ctx, w)
	}
}

// collect fills w.batch under collectMu: until it holds BatchSize
// frames, or its oldest frame has waited BatchTimeout, or shutdown began
// (then whatever is queued goes at once). Meanwhile it sends the items
// that became complete by drops and those that timed out. It reports
// false when shutdown began and no frames remain.
func (p *Pipeline) collect(ctx context.Context, w *worker) bool {
	p.collectMu.Lock()
	defer p.collectMu.Unlock()
	w.batch = w.batch[:0]
	for {
		now := p.clock.Now()
		p.mu.Lock()
		p.expire(now)
		w.ready = append(w.ready[:0], p.ready...)
		clear(p.ready)
		p.ready = p.ready[:0]
		took := false
		for len(w.batch) < p.opts.BatchSize && p.queue.n > 0 {
			w.batch = append(w.batch, p.queue.pop())
			took = true
		}
		if took {
			select {
			case p.space <- struct{}{}:
			default:
			}
		}
		stopping := p.closed
		next := p.nextExpiry()
		p.mu.Unlock()
		p.send(ctx, w.ready)

		n := len(w.batch)
		if n == p.opts.BatchSize || (n > 0 && stopping) {
			return true
		}
		if n == 0 && stopping {
			return false
		}
		if n > 0 {
			flush := w.batch[0].arrived.Add(p.opts.BatchTimeout)
			if !now.Before(flush) {
				return true
			}
			if next.IsZero() || flush.Before(next) {
				next = flush
			}
		}
		if !next.IsZero() {
			p.timer.Reset(next)
		}
		select {
		case <-p.notify:
		case <-p.timer.C():
		case <-p.stop:
		}
		p.timer.Stop()
	}
}

// classify runs w.batch through the classifier, folds the scores into
// their items, releases the frames and sends the items now complete.
func (p *Pipeline) classify(ctx context.Context, w *worker) {
	n := len(w.batch)
	for i, q := range w.batch {
		w.images[i] = q.f.Image
	}
	start := p.clock.Now()
	res, err := w.c.ClassifyInto(w.results, w.images[:n], 1)
	if err == nil {
		w.results = res
	}
	end := p.clock.Now()
	clear(w.images[:n])
	if err == nil {
		err = checkResults(res, n, w.classes)
	}
	share := end.Sub(start) / time.Duration(n)

	w.ready = w.ready[:0]
	p.mu.Lock()
	p.stats.Batches++
	logIt, quiet := false, 0
	if err == nil {
		p.stats.Processed += uint64(n)
		p.rates.add(end, rateProcessed, uint64(n))
		p.infer.add(share)
	} else {
		p.stats.Failed += uint64(n)
		logIt, quiet = p.failLog.allow(end)
	}
	for i, q := range w.batch {
		it := q.it
		if err != nil {
			p.lose(it, end)
			continue
		}
		it.queued--
		it.add(res[i].Scores)
		it.inference += share
		it.last = end
		if it.complete() {
			w.ready = append(w.ready, p.finish(it))
		}
	}
	p.mu.Unlock()
	if logIt {
		p.log.Error("pipeline: classification failed; frames dropped", "frames", n, "batches_failed_since_last_report", quiet, "err", err)
	}
	for i := range w.batch {
		w.batch[i].f.Release()
		w.batch[i] = queued{}
	}
	w.batch = w.batch[:0]
	p.send(ctx, w.ready)
	clear(w.ready)
	p.wake() // items may now be waiting for their timeout
}

// checkResults rejects a classifier answer that does not fit the batch.
func checkResults(res []infer.Result, n, classes int) error {
	if len(res) != n {
		return fmt.Errorf("pipeline: the classifier returned %d results for %d images", len(res), n)
	}
	for i := range res {
		if len(res[i].Scores) != classes {
			return fmt.Errorf("pipeline: the classifier returned %d scores for image %d, want one per label (%d)", len(res[i].Scores), i, classes)
		}
	}
	return nil
}

// logLimit lets an error be logged at most once a second, so a broken
// engine or broker does not flood the log; it counts the ones held back.
type logLimit struct {
	last  time.Time
	quiet int
}

// allow reports whether to log now and how many were held back since
// the last log.
func (l *logLimit) allow(now time.Time) (bool, int) {
	if !l.last.IsZero() && now.Sub(l.last) < time.Second {
		l.quiet++
		return false, 0
	}
	q := l.quiet
	l.last, l.quiet = now, 0
	return true, q
}

// send produces the results of complete items, in order, and recycles
// the items. Items without classified frames produce no result.
func (p *Pipeline) send(ctx context.Context, items []*item) {
	for _, it := range items {
		if it.done == 0 {
			p.mu.Lock()
			p.stats.Lost++
			p.free = append(p.free, it)
			p.mu.Unlock()
			continue
		}
		p.emitMu.Lock()
		p.top = it.rank(p.top, p.labels, p.vote)
		best := p.top[0]
		r := Result{
			Camera:    it.camera,
			Item:      it.id,
			Frames:    it.done,
			Label:     best.Label,
			Index:     best.Index,
			Score:     best.Score,
			Top:       p.top,
			Captured:  it.captured,
			Inference: it.inference,
		}
		if best.Score < p.opts.Threshold {
			r.Label, r.Index = p.opts.Unknown, -1
		}
		p.seq++
		r.Seq = p.seq
		r.Done = p.clock.Now()
		// Account before Send, so whoever sees the result sees it in the
		// stats too; the item is not needed any more (r and p.top hold it).
		p.mu.Lock()
		p.stats.Items++
		if it.done < it.want {
			p.stats.Incomplete++
		}
		p.latency.add(r.Done.Sub(r.Captured))
		p.free = append(p.free, it)
		p.mu.Unlock()
		err := p.sink.Send(ctx, r)
		p.emitMu.Unlock()
		if err != nil {
			p.mu.Lock()
			p.stats.SinkErrors++
			logIt, quiet := p.sinkLog.allow(r.Done)
			p.mu.Unlock()
			if logIt {
				p.log.Warn("pipeline: sink failed", "seq", r.Seq, "camera", r.Camera, "item", r.Item, "failed_since_last_report", quiet, "err", err)
			}
		}
	}
}

// itemFor returns the active item of f, starting one when f is its first
// frame. p.mu is held.
func (p *Pipeline) itemFor(f *capture.Frame, now time.Time) *item {
	for _, it := range p.active {
		if it.id == f.Item && it.camera == f.Camera {
			return it
		}
	}
	var it *item
	if n := len(p.free); n > 0 {
		it, p.free = p.free[n-1], p.free[:n-1]
	} else {
		it = newItem(len(p.labels))
	}
	it.reset(f.Camera, f.Item, f.ItemFrames, f.Captured, now)
	p.active = append(p.active, it)
	return it
}

// lose accounts for a frame of it that will not be classified. p.mu is
// held.
func (p *Pipeline) lose(it *item, now time.Time) {
	it.queued--
	it.lost++
	it.last = now
	if it.complete() {
		p.ready = append(p.ready, p.finish(it))
	}
}

// finish takes a complete (or expired) item out of the active list and
// remembers it as recent. It returns it for sending. p.mu is held.
func (p *Pipeline) finish(it *item) *item {
	if i := slices.Index(p.active, it); i >= 0 {
		p.active = slices.Delete(p.active, i, i+1)
	}
	p.recent[p.recentAt] = itemKey{camera: it.camera, id: it.id, valid: true}
	p.recentAt = (p.recentAt + 1) % len(p.recent)
	return it
}

// isRecent reports whether the item was finished lately: a frame of it
// arriving now is late and is skipped. p.mu is held.
func (p *Pipeline) isRecent(camera string, id uint64) bool {
	for _, k := range p.recent {
		if k.valid && k.id == id && k.camera == camera {
			return true
		}
	}
	return false
}

// expire finishes the items whose ItemTimeout passed. p.mu is held.
func (p *Pipeline) expire(now time.Time) {
	for i := 0; i < len(p.active); {
		it := p.active[i]
		if e := it.expiry(p.opts.ItemTimeout); !e.IsZero() && !now.Before(e) {
			p.ready = append(p.ready, p.finish(it))
			continue // finish removed p.active[i]
		}
		i++
	}
}

// nextExpiry is the earliest item timeout, zero if none. p.mu is held.
func (p *Pipeline) nextExpiry() time.Time {
	var next time.Time
	for _, it := range p.active {
		if e := it.expiry(p.opts.ItemTimeout); !e.IsZero() && (next.IsZero() || e.Before(next)) {
			next = e
		}
	}
	return next
}

func (p *Pipeline) skip(now time.Time, n uint64) {
	p.stats.Skipped += n
	p.rates.add(now, rateSkipped, n)
}

// wake tells the collecting worker to look again.
func (p *Pipeline) wake() {
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// ring is the bounded frame queue, oldest first.
type ring struct {
	buf  []queued
	head int
	n    int
}

// push appends q; when the ring is full it first removes the oldest
// entry and returns it with full = true.
func (r *ring) push(q queued) (dropped queued, full bool) {
	if r.n == len(r.buf) {
		dropped, full = r.pop(), true
	}
	r.buf[(r.head+r.n)%len(r.buf)] = q
	r.n++
	return dropped, full
}

// pop removes the oldest entry; the ring must not be empty.
func (r *ring) pop() queued {
	q := r.buf[r.head]
	r.buf[r.head] = queued{}
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return q
}
