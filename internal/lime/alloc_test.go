package lime_test

import (
	"context"
	"testing"

	"github.com/fruitcam/fruitcam/internal/lime"
	"github.com/fruitcam/fruitcam/internal/lime/limetest"
)

// TestSampleLoopAllocates: the sample loop allocates nothing per sample:
// 1800 more samples cost no more allocations. (One worker: with several,
// which one classifies the short last batch, and so re-plans its engine
// for it and back, varies from run to run.)
func TestSampleLoopAllocates(t *testing.T) {
	cls := regionClassifiers(t, 1)
	img := limetest.RegionImage(32, 1)
	allocs := func(samples int) float64 {
		return testing.AllocsPerRun(3, func() {
			if _, err := lime.Explain(context.Background(), cls, img, lime.Options{Samples: samples}); err != nil {
				t.Fatal(err)
			}
		})
	}
	few, many := allocs(200), allocs(2000)
	t.Logf("allocations per explanation: %v with 200 samples, %v with 2000", few, many)
	if many-few > 5 { // a few: the race detector's bookkeeping
		t.Errorf("1800 more samples cost %v more allocations, want none per sample", many-few)
	}
}
