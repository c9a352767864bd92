package publish

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
)

// JSONLines writes Result payloads as JSON lines (one compact object and
// a newline per result) to a writer such as os.Stdout, for piping into jq
// or a log collector. Its methods are safe for concurrent use; lines are
// never interleaved.
type JSONLines struct {
	mu  sync.Mutex
	w   io.Writer
	buf bytes.Buffer
}

// NewJSONLines returns a sink writing to w.
func NewJSONLines(w io.Writer) *JSONLines { return &JSONLines{w: w} }

// flusher is what bufio.Writer and similar buffered writers implement.
type flusher interface{ Flush() error }

// Result writes p as one line with one Write call, then flushes w if it
// buffers (has a Flush() error method). p's Camera is set to camera and a
// zero Schema to Schema, as Client.Result does.
func (s *JSONLines) Result(ctx context.Context, camera string, p Result) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("publish: json lines: %w", err)
	}
	p.Camera = camera
	if p.Schema == 0 {
		p.Schema = Schema
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Reset()
	if err := encodeTo(&s.buf, p); err != nil {
		return err
	}
	if _, err := s.w.Write(s.buf.Bytes()); err != nil {
		return fmt.Errorf("publish: json lines: write: %w", err)
	}
	if f, ok := s.w.(flusher); ok {
		if err := f.Flush(); err != nil {
			return fmt.Errorf("publish: json lines: flush: %w", err)
		}
	}
	return nil
}
