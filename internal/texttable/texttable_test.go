package texttable

import (
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	var b strings.Builder
	Write(&b, [][]string{{"class", "n", "note"}, {"Kiwi", "75", ""}, {"Pineapple", "3", "few"}}, map[int]bool{1: true})
	want := "  class      n note\n  Kiwi      75\n  Pineapple  3 few\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	Write(&b, nil, nil)
	Write(&b, [][]string{{"a"}, {"bb", "c"}}, nil)
	if b.String() != "  a\n  bb c\n" {
		t.Errorf("ragged rows: got %q", b.String())
	}
}
