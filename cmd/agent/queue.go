package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/fruitcam/fruitcam/internal/config"
	"github.com/fruitcam/fruitcam/publish/spool"
)

// resultQueue holds the results waiting for the broker. It numbers them:
// the seq in the MQTT payload is the queue's, so that with a disk queue
// it continues across restarts and a consumer de-duplicating by seq never
// mistakes a new result for an old one.
type resultQueue interface {
	// Put stores the payload build makes for the next seq; an error is a
	// lost result.
	Put(topic string, build func(seq uint64) ([]byte, error)) (uint64, error)
	// Wait returns when Next has records, or with ctx's or the queue's end.
	Wait(ctx context.Context) error
	// Next returns the oldest unacknowledged records, without removing
	// them; Ack removes them up to seq once the broker has them.
	Next(limit int) ([]spool.Record, error)
	Ack(seq uint64) error
	// Figures returns how many wait, how many were dropped (evicted or
	// failed), and whether the queue works.
	Figures() (depth int, dropped uint64, healthy bool)
	Close() error
}

// openQueue opens the disk queue of mqtt.spool, or the in-memory one
// when no directory is set.
func openQueue(c config.Spool, log *slog.Logger) (resultQueue, error) {
	if c.Dir == "" {
		return &memQueue{avail: make(chan struct{}), log: log}, nil
	}
	o := spool.Options{MaxBytes: int64(c.MaxBytes), MaxRecords: c.MaxRecords, SyncEvery: c.SyncEvery, Logger: log}
	if c.SyncEvery == 0 {
		o.SyncEachRecord = true
	}
	s, err := spool.Open(c.Dir, o)
	if err != nil {
		return nil, err
	}
	st := s.Stats()
	log.Info("result queue on disk", "dir", c.Dir, "waiting", st.Depth, "last_seq", st.LastSeq)
	return spoolQueue{s}, nil
}

// spoolQueue is the crash-safe disk queue.
type spoolQueue struct{ s *spool.Spool }

func (q spoolQueue) Put(topic string, build func(uint64) ([]byte, error)) (uint64, error) {
	return q.s.AppendFunc(topic, build)
}
func (q spoolQueue) Wait(ctx context.Context) error         { return q.s.Wait(ctx) }
func (q spoolQueue) Next(limit int) ([]spool.Record, error) { return q.s.Next(limit) }
func (q spoolQueue) Ack(seq uint64) error                   { return q.s.Ack(seq) }
func (q spoolQueue) Close() error                           { return q.s.Close() }
func (q spoolQueue) Figures() (int, uint64, bool) {
	st := q.s.Stats()
	return st.Depth, st.Evicted + st.Failed, st.Healthy
}

// memQueueSize bounds the in-memory queue: beyond it the oldest result
// is dropped and counted.
const memQueueSize = 1024

// memQueue keeps results in memory, for a board without a disk queue
// (mqtt.spool.dir empty): an agent restart loses what waits.
type memQueue struct {
	mu      sync.Mutex
	recs    []spool.Record
	seq     uint64
	dropped uint64
	closed  bool
	avail   chan struct{} // closed and replaced when a record arrives
	log     *slog.Logger
}

func (q *memQueue) Put(topic string, build func(uint64) ([]byte, error)) (uint64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return 0, errors.New("result queue closed")
	}
	q.seq++
	p, err := build(q.seq)
	if err != nil {
		q.dropped++
		return q.seq, err
	}
	if len(q.recs) == memQueueSize {
		q.recs = q.recs[1:]
		q.dropped++
		if q.dropped == 1 || q.dropped%100 == 0 {
			q.log.Warn("result queue full: dropping the oldest results (set mqtt.spool.dir for a disk queue)", "dropped", q.dropped)
		}
	}
	q.recs = append(q.recs, spool.Record{Seq: q.seq, Topic: topic, Payload: p})
	close(q.avail)
	q.avail = make(chan struct{})
	return q.seq, nil
}

func (q *memQueue) Wait(ctx context.Context) error {
	for {
		q.mu.Lock()
		if len(q.recs) > 0 {
			q.mu.Unlock()
			return nil
		}
		if q.closed {
			q.mu.Unlock()
			return errors.New("result queue closed")
		}
		ch := q.avail
		q.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (q *memQueue) Next(limit int) ([]spool.Record, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]spool.Record(nil), q.recs[:min(limit, len(q.recs))]...), nil
}

func (q *memQueue) Ack(seq uint64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for n < len(q.recs) && q.recs[n].Seq <= seq {
		n++
	}
	q.recs = q.recs[n:]
	return nil
}

func (q *memQueue) Figures() (int, uint64, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.recs), q.dropped, true
}

func (q *memQueue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	close(q.avail)
	q.avail = make(chan struct{})
	return nil
}
