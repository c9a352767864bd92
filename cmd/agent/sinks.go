package main

import (
	"context"
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

// mqttQueue bounds the results waiting for the broker. The pipeline must
// never wait on the network (it would stall the cameras behind it), so
// results queue here; when the broker is gone for long enough to fill
// it, the oldest waiting result is dropped and counted. (A crash-safe
// on-disk queue replaces this bound in the store-and-forward work.)
const mqttQueue = 1024

// mqttSink publishes results and labels from its own goroutine.
type mqttSink struct {
	client *publish.Client
	meta   *liveMeta
	log    *slog.Logger

	mu        sync.Mutex
	queue     []publish.Result
	wake      chan struct{}
	dropped   uint64
	published uint64 // results the broker acknowledged
	closed    bool
	done      chan struct{}
}

func newMQTTSink(c *publish.Client, meta *liveMeta, log *slog.Logger) *mqttSink {
	s := &mqttSink{client: c, meta: meta, log: log, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go s.loop()
	return s
}

// Send queues r's payload (built now: r.Top belongs to the pipeline).
func (s *mqttSink) Send(_ context.Context, r pipeline.Result) error {
	p := publish.NewResult(s.meta.get(), item(r), time.Now())
	s.mu.Lock()
	if len(s.queue) == mqttQueue {
		s.queue = s.queue[1:]
		s.dropped++
		if s.dropped == 1 || s.dropped%100 == 0 {
			s.log.Warn("MQTT queue full: dropping the oldest results", "dropped", s.dropped)
		}
	}
	s.queue = append(s.queue, p)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

func (s *mqttSink) loop() {
	defer close(s.done)
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return
			}
			<-s.wake
			continue
		}
		p := s.queue[0]
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := s.client.Result(ctx, p.Camera, p)
		if err == nil {
			err = s.client.Label(ctx, p.Camera, p.Label)
		}
		cancel()
		if err != nil {
			// The client has kept a QoS 1 message for redelivery after
			// reconnecting, or the broker is away: try again later rather
			// than spin.
			s.log.Warn("publishing result", "seq", p.Seq, "err", err)
			time.Sleep(time.Second)
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if !closed {
				continue
			}
		}
		s.mu.Lock()
		if len(s.queue) > 0 && s.queue[0].Seq == p.Seq {
			s.queue = s.queue[1:]
		}
		if err == nil {
			s.published++
		}
		s.mu.Unlock()
	}
}

// counts returns the results published and dropped so far.
func (s *mqttSink) counts() (published, dropped uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.published, s.dropped
}

// depth is the number of results waiting.
func (s *mqttSink) depth() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// close lets the queue drain until ctx ends.
func (s *mqttSink) close(ctx context.Context) {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	select {
	case <-s.done:
	case <-ctx.Done():
		s.log.Warn("MQTT results not delivered before shutdown", "waiting", s.depth())
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
