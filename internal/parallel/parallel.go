package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// For calls fn over [0, n) split into at most threads contiguous chunks,
// running them concurrently and returning when all are done. With one
// thread (or tiny n) fn runs on the calling goroutine.
//
// The chunks run on the calling goroutine and on a pool of worker
// goroutines shared by every call in the process, started on first use
// and kept: an inference calls For for nearly every operator, tens of
// times per frame, and a new goroutine per chunk costs allocations and
// start-up time comparable to the work. Chunks are taken, not assigned: a
// worker that is late finds them done, and the caller runs what nobody
// took, so For never waits for an idle worker to wake up. It allocates
// nothing once warm.
func For(threads, n int, fn func(lo, hi int)) {
	threads = min(threads, n, maxWorkers)
	if threads <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	j := getJob()
	gen := j.gen + 1
	j.gen = gen
	j.fn, j.n, j.chunk = fn, n, (n+threads-1)/threads
	j.wg.Add(threads)
	// Publishing the new generation is the last write: a worker reads the
	// fields only after taking a chunk of it.
	j.state.Store(uint64(gen)<<32 | uint64(threads)<<16)
	j.left.Store(int32(threads))
	p := workers(threads - 1)
	for range threads - 1 {
		select {
		case p.tasks <- task{j: j, gen: gen}:
			p.queued.Add(1)
		default: // the queue is full: the caller runs more itself
		}
	}
	j.run(gen)
	// Wait for the chunks others took: spinning first (they take tens of
	// microseconds, about what parking and waking this goroutine costs),
	// then parked.
	for deadline, i := time.Now().Add(spin), 0; j.left.Load() > 0; i++ {
		if i&255 == 255 && time.Now().After(deadline) {
			break
		}
	}
	j.wg.Wait()
	j.fn = nil
	putJob(j)
}

// job is one For call. state holds the generation (bits 32-63), the
// number of chunks (16-31) and the number taken (0-15). A job is reused: a
// task that arrives after its call returned finds another generation, or
// every chunk of its own taken, and leaves without reading the fields,
// which belong to whoever took a chunk of the current generation.
type job struct {
	state atomic.Uint64
	gen   uint32 // written by the owning caller only
	fn    func(lo, hi int)
	n     int
	chunk int
	left  atomic.Int32 // chunks not yet done, for the caller's spin
	wg    sync.WaitGroup
}

// run takes and runs chunks of generation gen until none is left.
func (j *job) run(gen uint32) {
	for {
		s := j.state.Load()
		if uint32(s>>32) != gen {
			return
		}
		i, chunks := int(s&0xffff), int(s>>16&0xffff)
		if i >= chunks {
			return
		}
		if !j.state.CompareAndSwap(s, s+1) {
			continue
		}
		lo := i * j.chunk
		hi := min(lo+j.chunk, j.n)
		if lo < hi {
			j.fn(lo, hi)
		}
		j.left.Add(-1)
		j.wg.Done()
	}
}

// task asks a worker to help with a job of one generation.
type task struct {
	j   *job
	gen uint32
}

// pool is the process's workers.
type pool struct {
	mu     sync.Mutex
	n      int
	tasks  chan task
	queued atomic.Int32 // tasks sent and not yet received: what spinning workers watch
	jobs   chan *job    // free jobs
}

// maxWorkers bounds the pool, and For's chunks (threads) fit in 16 bits.
const maxWorkers = 64

var shared = pool{tasks: make(chan task, 4*maxWorkers), jobs: make(chan *job, 4*maxWorkers)}

// workers makes sure the pool has at least n workers (up to maxWorkers).
func workers(n int) *pool {
	p := &shared
	if int(workerCount.Load()) >= min(n, maxWorkers) {
		return p
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.n < min(n, maxWorkers) {
		go p.work()
		p.n++
		workerCount.Store(int32(p.n))
	}
	return p
}

// workerCount mirrors pool.n for the lock-free check in workers.
var workerCount atomic.Int32

// spin is how long a worker keeps polling for the next task before it
// parks, and how long For's caller polls for the chunks others took. An
// inference calls For every few tens of microseconds; a parked goroutine
// takes about as long to wake (the OS thread under it sleeps, and a woken
// goroutine queues behind the one that woke it), and by then the caller
// has done the work alone: measured here, 92% of 2-way splits of a 20 µs
// loop ran serially with parking workers. Busy-polling through the gaps
// between operators keeps both threads on their cores; it costs up to
// spin of one core after the last operator of an inference.
const spin = 200 * time.Microsecond

func (p *pool) work() {
	for {
		p.poll()
		t := <-p.tasks
		p.queued.Add(-1)
		t.j.run(t.gen)
	}
}

// poll returns when a task is queued, or after spin.
func (p *pool) poll() {
	deadline := time.Now().Add(spin)
	for i := 0; p.queued.Load() <= 0; i++ {
		if i&255 == 255 {
			if time.Now().After(deadline) {
				return
			}
			runtime.Gosched() // let a goroutine waiting for this P run
		}
	}
}

func getJob() *job {
	select {
	case j := <-shared.jobs:
		return j
	default:
		return new(job)
	}
}

func putJob(j *job) {
	select {
	case shared.jobs <- j:
	default:
	}
}
