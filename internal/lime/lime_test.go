package lime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"testing"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/internal/lime"
	"github.com/fruitcam/fruitcam/internal/lime/limetest"
)

func regionClassifiers(t testing.TB, n int) []*infer.Classifier {
	t.Helper()
	f, err := infer.ReadFile(limetest.WriteRegionModel(t))
	if err != nil {
		t.Fatal(err)
	}
	cls, closeAll, err := lime.NativeClassifiers(f, n, infer.ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeAll() })
	return cls
}

// cornerShare is the share of the shown superpixels' model pixels that
// lie in the quarter the region model looks at.
func cornerShare(t *testing.T, e *lime.Explanation, mask []int8) (share float64, shown int) {
	t.Helper()
	in, all := 0, 0
	for p, s := range e.Segments {
		if mask[s] == 0 {
			continue
		}
		all++
		if limetest.InCorner(p%e.Width, p/e.Width, e.Width) {
			in++
		}
	}
	if all == 0 {
		return 0, 0
	}
	return float64(in) / float64(all), all
}

// TestFindsRegion: the model answers only to red texture in the top-left
// quarter, so the top superpixels of its "corner" class lie there, and
// the ones of highest |weight| are positive.
func TestFindsRegion(t *testing.T) {
	cls := regionClassifiers(t, 2)
	tests := []struct {
		name string
		side int
		hide string
		sign lime.Sign
	}{
		{"model size, black", limetest.Size, lime.HideBlack, lime.Positive},
		{"model size, mean", limetest.Size, lime.HideMean, lime.Positive},
		{"twice the size, mean", 2 * limetest.Size, lime.HideMean, lime.Positive},
		{"odd size, gray, both signs", 75, lime.HideGray, lime.Both},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := limetest.RegionImage(tt.side, 4)
			e, err := lime.Explain(context.Background(), cls, img, lime.Options{Samples: 400, Seed: 1, Hide: tt.hide})
			if err != nil {
				t.Fatal(err)
			}
			c := e.Classes[0]
			if c.Label != "corner" || c.Index != 0 {
				t.Fatalf("explained class %d %q, want 0 corner (scores %+v)", c.Index, c.Label, c)
			}
			if c.Weights[0].Weight <= 0 {
				t.Errorf("largest weight %g, want positive", c.Weights[0].Weight)
			}
			mask, err := e.Mask(0, lime.MaskOptions{Features: 5, Sign: tt.sign})
			if err != nil {
				t.Fatal(err)
			}
			share, shown := cornerShare(t, e, mask)
			t.Logf("%d superpixels; %.0f%% of the %d shown pixels in the corner; R² %.3f", e.NumSegments, 100*share, shown, c.R2)
			if share < 0.8 {
				t.Errorf("%.0f%% of the %d shown pixels are in the corner, want at least 80%% (weights %v)", 100*share, shown, c.Weights[:5])
			}
			if c.R2 < 0.5 {
				t.Errorf("R² = %g, want a good local fit", c.R2)
			}
			if d := c.LocalPred - float64(c.Score); d > 0.1 || d < -0.1 {
				t.Errorf("local prediction %g, the model says %g", c.LocalPred, c.Score)
			}
		})
	}
}

// render returns the explanation's JSON and overlay PNG.
func render(t *testing.T, e *lime.Explanation, img image.Image, o lime.RenderOptions) (js, pic []byte) {
	t.Helper()
	js, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	ov, err := e.Overlay(img, 0, o)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, ov); err != nil {
		t.Fatal(err)
	}
	return js, b.Bytes()
}

// TestDeterministic: the same seed gives byte-identical JSON and PNG
// whatever the number of workers and the batch size; another seed
// another explanation.
func TestDeterministic(t *testing.T) {
	img := limetest.RegionImage(48, 2)
	run := func(workers, batch int, seed uint64) ([]byte, []byte) {
		e, err := lime.Explain(context.Background(), regionClassifiers(t, workers), img, lime.Options{Samples: 150, Seed: seed, Batch: batch, Top: 2})
		if err != nil {
			t.Fatal(err)
		}
		return render(t, e, img, lime.RenderOptions{MaskOptions: lime.MaskOptions{Sign: lime.Both}, HideRest: true})
	}
	js, pic := run(1, 32, 7)
	for _, v := range []struct{ workers, batch int }{{1, 32}, {2, 32}, {3, 7}, {2, 1}} {
		js2, pic2 := run(v.workers, v.batch, 7)
		if !bytes.Equal(js, js2) || !bytes.Equal(pic, pic2) {
			t.Errorf("%d workers, batch %d: output differs from 1 worker, batch 32", v.workers, v.batch)
		}
	}
	if js3, _ := run(2, 32, 8); bytes.Equal(js, js3) {
		t.Error("seed 8 gives the same explanation as seed 7")
	}
}

// TestScoreIsTheClassifiers: the explained score is what the classifier
// reports for the image.
func TestScoreIsTheClassifiers(t *testing.T) {
	cls := regionClassifiers(t, 1)
	img := limetest.RegionImage(57, 3)
	res, err := cls[0].Classify([]image.Image{img}, 2)
	if err != nil {
		t.Fatal(err)
	}
	e, err := lime.Explain(context.Background(), cls, img, lime.Options{Samples: 20, Labels: []int{1, 0}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range e.Classes {
		if got, want := c.Score, res[0].Scores[c.Index]; got != want {
			t.Errorf("class %d: score %g, classifier %g", c.Index, got, want)
		}
	}
	if e.Classes[0].Index != 1 || !e.Probabilities {
		t.Errorf("classes %+v, probabilities %v: want the order asked (1, 0) and probabilities", e.Classes, e.Probabilities)
	}
}

func TestExplainErrors(t *testing.T) {
	cls := regionClassifiers(t, 1)
	img := limetest.RegionImage(32, 1)
	tests := []struct {
		name string
		cls  []*infer.Classifier
		o    lime.Options
	}{
		{"no classifier", nil, lime.Options{}},
		{"bad hide", cls, lime.Options{Hide: "pink"}},
		{"bad selection", cls, lime.Options{Selection: "lasso"}},
		{"class out of range", cls, lime.Options{Labels: []int{2}}},
		{"negative samples", cls, lime.Options{Samples: -1}},
	}
	for _, tt := range tests {
		if _, err := lime.Explain(context.Background(), tt.cls, img, tt.o); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := lime.Explain(ctx, cls, img, lime.Options{}); err == nil {
		t.Error("cancelled context: no error")
	}
}

func TestMask(t *testing.T) {
	e := &lime.Explanation{NumSegments: 6, Classes: []lime.Class{{Weights: []lime.Weight{
		{Segment: 3, Weight: -0.5}, {Segment: 1, Weight: 0.4}, {Segment: 0, Weight: 0.2}, {Segment: 5, Weight: -0.1}, {Segment: 2, Weight: 0.05}, {Segment: 4, Weight: 0},
	}}}}
	tests := []struct {
		name string
		o    lime.MaskOptions
		want []int8
	}{
		{"positive, 2", lime.MaskOptions{Features: 2}, []int8{1, 1, 0, 0, 0, 0}},
		{"positive, default 5", lime.MaskOptions{}, []int8{1, 1, 1, 0, 0, 0}},
		{"positive above 0.1", lime.MaskOptions{MinWeight: 0.1}, []int8{1, 1, 0, 0, 0, 0}},
		{"negative", lime.MaskOptions{Sign: lime.Negative}, []int8{0, 0, 0, -1, 0, -1}},
		{"both, 3", lime.MaskOptions{Sign: lime.Both, Features: 3}, []int8{1, 1, 0, -1, 0, 0}},
		// lime counts the skipped small weights among num_features.
		{"both, 3, min 0.3", lime.MaskOptions{Sign: lime.Both, Features: 3, MinWeight: 0.3}, []int8{0, 1, 0, -1, 0, 0}},
	}
	for _, tt := range tests {
		got, err := e.Mask(0, tt.o)
		if err != nil {
			t.Fatal(err)
		}
		if string(int8s(got)) != string(int8s(tt.want)) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	if _, err := e.Mask(1, lime.MaskOptions{}); err == nil {
		t.Error("class 1 of 1: no error")
	}
}

func int8s(v []int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

// TestOverlay: the outline is drawn inside the shown superpixels, and
// an image of another size is refused.
func TestOverlay(t *testing.T) {
	cls := regionClassifiers(t, 1)
	img := limetest.RegionImage(64, 5)
	e, err := lime.Explain(context.Background(), cls, img, lime.Options{Samples: 200, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	ov, err := e.Overlay(img, 0, lime.RenderOptions{MaskOptions: lime.MaskOptions{Features: 3}, HideRest: true})
	if err != nil {
		t.Fatal(err)
	}
	if ov.Bounds() != image.Rect(0, 0, 64, 64) {
		t.Fatalf("overlay %v, want the source's 64×64", ov.Bounds())
	}
	yellow, inCorner := 0, 0
	for y := range 64 {
		for x := range 64 {
			if c := ov.RGBAAt(x, y); c.R == 255 && c.G == 255 && c.B == 0 {
				yellow++
				if limetest.InCorner(x, y, 64) {
					inCorner++
				}
			}
		}
	}
	if yellow == 0 || float64(inCorner) < 0.8*float64(yellow) {
		t.Errorf("%d outline pixels, %d in the corner: want most of them there", yellow, inCorner)
	}
	if _, err := e.Overlay(limetest.RegionImage(63, 5), 0, lime.RenderOptions{}); err == nil {
		t.Error("overlay on an image of another size: no error")
	}
}

// TestOverlayMaxSide: a source is drawn scaled down to MaxSide or up to
// MinSide.
func TestOverlayMaxSide(t *testing.T) {
	cls := regionClassifiers(t, 1)
	img := limetest.RegionImage(96, 5)
	e, err := lime.Explain(context.Background(), cls, img, lime.Options{Samples: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ max, min, want int }{{40, 0, 40}, {96, 0, 96}, {200, 0, 96}, {0, 0, 96}, {0, 300, 300}, {0, 50, 96}, {400, 300, 300}} {
		ov, err := e.Overlay(img, 0, lime.RenderOptions{MaxSide: tt.max, MinSide: tt.min})
		if err != nil {
			t.Fatal(err)
		}
		if ov.Bounds() != image.Rect(0, 0, tt.want, tt.want) {
			t.Errorf("MaxSide %d MinSide %d: overlay %v, want %d×%d", tt.max, tt.min, ov.Bounds(), tt.want, tt.want)
		}
	}
}

// TestOverlayCrop: with fit "crop" the model sees the centred square of a
// wide image; the explanation's box says so, and the overlay dims what is
// outside it to a half.
func TestOverlayCrop(t *testing.T) {
	f, err := infer.ReadFile(limetest.WriteRegionModel(t))
	if err != nil {
		t.Fatal(err)
	}
	cls, closeAll, err := lime.NativeClassifiers(f, 1, infer.ClassifierOptions{Fit: "crop"})
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	img := image.NewRGBA(image.Rect(0, 0, 64, 40))
	sq := limetest.RegionImage(40, 3)
	for y := range 40 {
		for x := range 64 {
			c := sq.RGBAAt(min(max(x-12, 0), 39), y)
			img.SetRGBA(x, y, c)
		}
	}
	e, err := lime.Explain(context.Background(), cls, img, lime.Options{Samples: 100})
	if err != nil {
		t.Fatal(err)
	}
	if want := image.Rect(12, 0, 52, 40); e.Box != want {
		t.Fatalf("box %v, want %v", e.Box, want)
	}
	ov, err := e.Overlay(img, 0, lime.RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src, got := img.RGBAAt(3, 30), ov.RGBAAt(3, 30)
	if got.R != src.R/2 || got.G != src.G/2 || got.B != src.B/2 {
		t.Errorf("pixel outside the crop: %v, want half of %v", got, src)
	}
}
