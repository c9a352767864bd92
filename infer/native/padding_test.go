package native

import (
	"testing"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// TestComputeWindow checks output sizes and leading padding against values
// worked out by hand from TFLite's padding.h.
func TestComputeWindow(t *testing.T) {
	for _, tc := range []struct {
		pad                    tfl.Padding
		in, filter, stride, di int
		out, before            int
	}{
		{tfl.PaddingSame, 224, 3, 2, 1, 112, 0}, // total 1: the odd pixel goes after
		{tfl.PaddingSame, 5, 3, 1, 1, 5, 1},
		{tfl.PaddingSame, 6, 4, 2, 1, 3, 1},
		{tfl.PaddingSame, 7, 3, 1, 2, 7, 2}, // dilated: effective size 5
		{tfl.PaddingSame, 4, 1, 2, 1, 2, 0}, // negative total clamps to 0
		{tfl.PaddingValid, 5, 3, 2, 1, 2, 0},
		{tfl.PaddingValid, 7, 3, 1, 3, 1, 0},
		{tfl.PaddingValid, 3, 3, 1, 1, 1, 0},
	} {
		w, err := computeWindow(tc.pad, tc.in, 1, tc.filter, 1, tc.stride, 1, tc.di, 1)
		if err != nil {
			t.Errorf("%+v: %v", tc, err)
			continue
		}
		if w.outH != tc.out || w.padT != tc.before || w.outW != 1 || w.padL != 0 {
			t.Errorf("%+v: got out %d pad %d (width %d pad %d), want out %d pad %d", tc, w.outH, w.padT, w.outW, w.padL, tc.out, tc.before)
		}
	}
	for _, tc := range []struct {
		name                   string
		pad                    tfl.Padding
		in, filter, stride, di int
	}{
		{"window larger than input", tfl.PaddingValid, 2, 3, 1, 1},
		{"dilated window larger than input", tfl.PaddingValid, 4, 3, 1, 2},
		{"zero stride", tfl.PaddingSame, 4, 3, 0, 1},
		{"zero dilation", tfl.PaddingSame, 4, 3, 1, 0},
		{"unknown padding", tfl.Padding(7), 4, 3, 1, 1},
	} {
		if _, err := computeWindow(tc.pad, tc.in, 1, tc.filter, 1, tc.stride, 1, tc.di, 1); err == nil {
			t.Errorf("%s: got no error", tc.name)
		}
	}
}
