package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/fruitcam/fruitcam/capture"
	"github.com/fruitcam/fruitcam/internal/config"
	"github.com/fruitcam/fruitcam/internal/pipeline"
	"github.com/fruitcam/fruitcam/publish"
)

// item adapts a pipeline result to the publish payload's plain values.
func item(r pipeline.Result) publish.Item {
	top := make([]publish.Class, len(r.Top))
	for i, c := range r.Top {
		top[i] = publish.Class{Label: c.Label, Score: c.Score}
	}
	return publish.Item{
		Camera: r.Camera, Seq: r.Seq, ID: r.Item, Frames: r.Frames, Label: r.Label, Score: r.Score,
		Top: top, Captured: r.Captured, Inference: r.Inference,
	}
}

// mqttSink publishes results from its own goroutine, out of a resultQueue
// (on disk with mqtt.spool.dir): the pipeline never waits on the network
// (it would stall the cameras behind it). A result leaves the queue once
// the broker has acknowledged it; after a failure it is sent again, so
// delivery is at least once and consumers de-duplicate by seq. The
// retained label of each camera follows its results.
type mqttSink struct {
	client *publish.Client
	meta   *liveMeta
	log    *slog.Logger
	q      resultQueue

	mu        sync.Mutex
	labels    map[string]string // camera -> the label of its newest result
	published uint64            // results the broker acknowledged
	failed    uint64            // results the queue could not take

	ctx  context.Context // ends the sender
	stop context.CancelFunc
	done chan struct{}
}

// sendBatch is how many results the sender takes from the queue at once.
const sendBatch = 32

func newMQTTSink(c *publish.Client, q resultQueue, meta *liveMeta, log *slog.Logger) *mqttSink {
	s := &mqttSink{client: c, q: q, meta: meta, log: log, labels: map[string]string{}, done: make(chan struct{})}
	s.ctx, s.stop = context.WithCancel(context.Background())
	go s.loop()
	return s
}

// Send queues r's payload (built now: r.Top belongs to the pipeline),
// numbered by the queue.
func (s *mqttSink) Send(_ context.Context, r pipeline.Result) error {
	it, now, meta := item(r), time.Now(), s.meta.get()
	_, err := s.q.Put(s.client.Topics().Result(r.Camera), func(seq uint64) ([]byte, error) {
		it.Seq = seq
		return publish.Encode(publish.NewResult(meta, it, now))
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.failed++
		return fmt.Errorf("result queue: %w", err)
	}
	s.labels[r.Camera] = r.Label
	return nil
}

func (s *mqttSink) loop() {
	defer close(s.done)
	for s.ctx.Err() == nil && s.q.Wait(s.ctx) == nil {
		recs, err := s.q.Next(sendBatch)
		if err != nil {
			s.log.Warn("reading the result queue", "err", err)
			s.pause()
			continue
		}
		for _, r := range recs {
			ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
			err = s.client.PublishResult(ctx, r.Topic, r.Payload)
			cancel()
			if err != nil {
				break
			}
			if err := s.q.Ack(r.Seq); err != nil {
				s.log.Warn("acknowledging in the result queue", "seq", r.Seq, "err", err)
			}
			s.mu.Lock()
			s.published++
			s.mu.Unlock()
		}
		if err != nil {
			// The broker is away or slow: the unacknowledged results are
			// sent again after a pause, rather than spinning.
			s.log.Warn("publishing results", "err", err)
			s.pause()
			continue
		}
		s.mu.Lock()
		labels := make(map[string]string, len(s.labels))
		for k, v := range s.labels {
			labels[k] = v
		}
		s.mu.Unlock()
		for camera, label := range labels {
			ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
			if err := s.client.Label(ctx, camera, label); err != nil {
				s.log.Warn("publishing label", "camera", camera, "err", err)
			}
			cancel()
		}
	}
}

// pause waits a second, or until the sender stops.
func (s *mqttSink) pause() {
	select {
	case <-time.After(time.Second):
	case <-s.ctx.Done():
	}
}

// counts returns the results published, and those dropped: evicted from
// a full queue or never taken by it.
func (s *mqttSink) counts() (published, dropped uint64) {
	_, lost, _ := s.q.Figures()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.published, lost + s.failed
}

// depth is the number of results waiting.
func (s *mqttSink) depth() int {
	d, _, _ := s.q.Figures()
	return d
}

// close lets the queue drain while the broker is there, until ctx ends,
// then stops the sender and closes the queue: with a disk queue, what is
// left is sent at the next start.
func (s *mqttSink) close(ctx context.Context) {
	for s.depth() > 0 && ctx.Err() == nil && s.client.Connected() {
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	if d := s.depth(); d > 0 {
		s.log.Warn("MQTT results not delivered before shutdown", "waiting", d)
	}
	s.stop()
	<-s.done
	if err := s.q.Close(); err != nil {
		s.log.Warn("closing the result queue", "err", err)
	}
}

// linesSink writes results as JSON lines (stdout).
type linesSink struct {
	lines *publish.JSONLines
	meta  *liveMeta
}

func (s *linesSink) Send(ctx context.Context, r pipeline.Result) error {
	return s.lines.Result(ctx, r.Camera, publish.NewResult(s.meta.get(), item(r), time.Now()))
}

// newActuator opens the actuators' output pins.
func newActuator(acts []config.Actuator, log *slog.Logger) (*pipeline.Actuator, error) {
	var gates []pipeline.Gate
	for _, c := range acts {
		pin, err := capture.OpenPin(c.Pin)
		if err != nil {
			return nil, err
		}
		gates = append(gates, pipeline.Gate{Label: c.Label, Pin: pin, Delay: c.Delay, Pulse: c.Pulse, ActiveLow: c.ActiveLow})
	}
	return pipeline.NewActuator(pipeline.ActuatorOptions{Gates: gates}, log.With("part", "actuator"))
}
