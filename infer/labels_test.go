package infer

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/internal/testdata"
)

func TestParseLabels(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"plain", "Apple\nBanana\nCherry\n", []string{"Apple", "Banana", "Cherry"}},
		{"crlf-bom-trailing-blank", "\ufeffApple\r\n Banana \r\n\r\n\n", []string{"Apple", "Banana"}},
		{"no-final-newline", "a\nb", []string{"a", "b"}},
		{"indexed", "0 background\n1  tench, Tinca tinca\n2: goldfish\n", []string{"background", "tench, Tinca tinca", "goldfish"}},
		{"indexed-unordered", "1 b\n0 a\n", []string{"a", "b"}},
		// Not every line has an index: the numbers are part of the labels.
		{"mixed-is-plain", "7 up\nCoke\n", []string{"7 up", "Coke"}},
		{"number-only-is-plain", "0\n1\n", []string{"0", "1"}},
	}
	for _, tc := range tests {
		got, err := ParseLabels(strings.NewReader(tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestParseLabelsErrors(t *testing.T) {
	for name, in := range map[string]string{
		"empty":           "",
		"only-blank":      "\n\n",
		"blank-in-middle": "a\n\nb\n",
		"index-gap":       "0 a\n2 b\n",
		"index-twice":     "0 a\n0 b\n",
	} {
		if got, err := ParseLabels(strings.NewReader(in)); err == nil {
			t.Errorf("%s: got %q, want an error", name, got)
		}
	}
}

func TestFitLabels(t *testing.T) {
	got, err := FitLabels([]string{"a", "b"}, 2)
	if err != nil || !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("exact: %q, %v", got, err)
	}
	got, err = FitLabels([]string{"tench", "goldfish"}, 3)
	if err != nil || !slices.Equal(got, []string{Background, "tench", "goldfish"}) {
		t.Errorf("one short: %q, %v", got, err)
	}
	if _, err := FitLabels([]string{"a"}, 3); err == nil {
		t.Error("1 label for 3 classes accepted")
	}
	if _, err := FitLabels([]string{"a", "b", "c"}, 2); err == nil {
		t.Error("3 labels for 2 classes accepted")
	}
}

// TestImageNetLabels reads Coral's 1001-line file (background first) and
// its 1000-class form.
func TestImageNetLabels(t *testing.T) {
	path := testdata.Path(t, "models/coral/imagenet_labels.txt")
	labels, err := ReadLabels(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(labels) != 1001 || labels[0] != Background || labels[955] != "banana" {
		t.Fatalf("got %d labels, [0]=%q [955]=%q; want 1001, background, banana", len(labels), labels[0], labels[955])
	}
	fitted, err := FitLabels(labels[1:], 1001)
	if err != nil || !slices.Equal(fitted, labels) {
		t.Errorf("1000 labels for 1001 classes: want background prepended, got %v", err)
	}
}

// FuzzParseLabels: any bytes give labels or an error, never a panic, and
// accepted labels are non-empty single lines.
func FuzzParseLabels(f *testing.F) {
	f.Add([]byte("background\ntench\ngoldfish\n"))
	f.Add([]byte("0 apple\n1 banana\r\n2 cherry"))
	f.Add([]byte("\n\nx\n\n"))
	f.Add([]byte("0 a\n2 b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		labels, err := ParseLabels(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i, l := range labels {
			if l == "" || strings.ContainsAny(l, "\r\n") {
				t.Fatalf("label %d = %q", i, l)
			}
		}
	})
}
