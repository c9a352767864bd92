package publish_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/publish"
)

func TestJSONLines(t *testing.T) {
	var out bytes.Buffer
	w := bufio.NewWriterSize(&out, 1<<16) // a buffered writer is flushed after every line
	s := publish.NewJSONLines(w)
	ctx := context.Background()
	for seq := uint64(1); seq <= 2; seq++ {
		r := publish.NewResult(meta, item(seq, "Peach & <Plum>"), time.Now())
		if err := s.Result(ctx, "belt2", r); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != int(seq) {
			t.Fatalf("after %d results: got %d lines %q", seq, len(lines), out.String())
		}
		got, err := publish.DecodeResult([]byte(lines[seq-1]))
		if err != nil {
			t.Fatal(err)
		}
		if got.Seq != seq || got.Camera != "belt2" || got.Label != "Peach & <Plum>" {
			t.Errorf("line %d: got %+v", seq, got)
		}
		if !strings.Contains(lines[seq-1], `"Peach & <Plum>"`) {
			t.Errorf("line %d escapes HTML: %s", seq, lines[seq-1])
		}
	}
}

func TestJSONLinesConcurrent(t *testing.T) {
	var out bytes.Buffer
	s := publish.NewJSONLines(&out)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				if err := s.Result(context.Background(), "belt1", publish.NewResult(meta, item(uint64(g*100+i), "Kiwi"), time.Now())); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 100 {
		t.Fatalf("got %d lines, want 100", len(lines))
	}
	for _, l := range lines {
		if _, err := publish.DecodeResult([]byte(l)); err != nil {
			t.Fatalf("interleaved line %q: %v", l, err)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestJSONLinesErrors(t *testing.T) {
	s := publish.NewJSONLines(failWriter{})
	if err := s.Result(context.Background(), "belt1", publish.Result{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("write error: got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := publish.NewJSONLines(&bytes.Buffer{}).Result(ctx, "belt1", publish.Result{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v", err)
	}
}
