package pipeline_test

import (
	"context"
	"fmt"

	"github.com/fruitcam/fruitcam/capture"
	"github.com/fruitcam/fruitcam/internal/pipeline"
	"github.com/fruitcam/fruitcam/internal/pipeline/pipelinetest"
)

// printSink prints each result.
type printSink struct{}

func (printSink) Send(ctx context.Context, r pipeline.Result) error {
	fmt.Printf("seq %d: %s item %d is %s (%.2f) from %d frames\n", r.Seq, r.Camera, r.Item, r.Label, r.Score, r.Frames)
	return nil
}

func Example() {
	// In the agent the classifiers are *infer.Classifier, one per worker.
	c := pipelinetest.NewClassifier("apple", "banana", "cherry")
	p, err := pipeline.New(pipeline.Options{BatchSize: 4, Aggregate: "mean", Threshold: 0.5}, []pipeline.Classifier{c}, printSink{}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan error)
	go func() { done <- p.Run(context.Background()) }()

	// Two frames of item 1 and one of item 2, as a camera would submit
	// them (here with images that carry their scores).
	for _, fr := range []struct {
		item, frames int
		scores       []float32
	}{
		{1, 2, []float32{0.1, 0.8, 0.1}},
		{1, 2, []float32{0.3, 0.6, 0.1}},
		{2, 1, []float32{0.4, 0.3, 0.3}},
	} {
		f := capture.NewFrame(&pipelinetest.Image{Scores: fr.scores}, nil)
		f.Camera, f.Item, f.ItemFrames = "belt", uint64(fr.item), fr.frames
		p.Submit(f)
	}
	p.Close() // classifies what was submitted, sends, returns
	fmt.Println(<-done, p.Stats().Items)
	// Output:
	// seq 1: belt item 1 is banana (0.70) from 2 frames
	// seq 2: belt item 2 is unknown (0.40) from 1 frames
	// <nil> 2
}
