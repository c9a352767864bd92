package pipelinetest

import (
	"context"
	"slices"
	"sync"

	"github.com/fruitcam/fruitcam/internal/pipeline"
)

// Sink is a pipeline.Sink that records every result (cloned) in order.
type Sink struct {
	// Err, when set, is returned from every Send (the result is still
	// recorded).
	Err error

	mu      sync.Mutex
	results []pipeline.Result
	changed chan struct{}
}

// Send records r.
func (s *Sink) Send(ctx context.Context, r pipeline.Result) error {
	s.mu.Lock()
	s.results = append(s.results, r.Clone())
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	s.mu.Unlock()
	return s.Err
}

// Results returns what was sent so far.
func (s *Sink) Results() []pipeline.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.results)
}

// Wait blocks until at least n results were sent, or ctx ends; it returns
// the results so far either way.
func (s *Sink) Wait(ctx context.Context, n int) ([]pipeline.Result, error) {
	for {
		s.mu.Lock()
		if len(s.results) >= n {
			r := slices.Clone(s.results)
			s.mu.Unlock()
			return r, nil
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return s.Results(), ctx.Err()
		}
	}
}
