package config

import (
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	tests := []struct {
		in, want string
		err      string // substring of the error, "" for none
	}{
		{"a: ${FPS}", "a: 15", ""},
		{"a: ${FPS:-30}", "a: 15", ""},
		{"a: ${NOPE:-30}", "a: 30", ""},
		{"a: ${EMPTY:-30}", "a: 30", ""},     // empty counts as unset with :-
		{"a: ${EMPTY}", "a: ", ""},           // but ${NAME} gives the empty value
		{"a: ${NOPE:-}", "a: ", ""},          // an empty default
		{"a: ${NOPE:-x:-y}", "a: x:-y", ""},  // the default runs to the }
		{"a: $${FPS}", "a: ${FPS}", ""},      // $$ escapes
		{"a: $FPS $ 5$", "a: $FPS $ 5$", ""}, // other $ are themselves
		{"a: ${DIR}/x # ${NOPE}", "a: /data/x # ${NOPE}", ""},
		{"# ${NOPE}\na: 1", "# ${NOPE}\na: 1", ""},
		{"a: 'x # ${FPS}'", "a: 'x # 15'", ""}, // # inside quotes is not a comment
		{"a: \"x # ${FPS}\"", "a: \"x # 15\"", ""},
		{"a: 'it''s # ${FPS}'", "a: 'it''s # 15'", ""},
		{"a: \"q\\\" # ${FPS}\"", "a: \"q\\\" # 15\"", ""},
		{"a: x#${FPS}", "a: x#15", ""},                   // # not after a space is text
		{"a: don't # ${NOPE}", "a: don't # ${NOPE}", ""}, // an apostrophe inside a word opens no quote
		{"a: 1\nb: ${NOPE}", "", "t.yaml:2: environment variable NOPE is not set (write ${NOPE:-default} to give a default)"},
		{"a: ${NL}", "", "t.yaml:1: the value of NL contains a line break"},
		{"a: ${A-B}", "", `"A-B" is not an environment variable name`},
		{"a: ${}", "", `"" is not an environment variable name`},
		{"a: ${FPS", "", "t.yaml:1: unterminated ${"},
	}
	for _, tt := range tests {
		got, errs := expand([]byte(tt.in), "t.yaml", lookupTest)
		switch {
		case tt.err == "" && errs != nil:
			t.Errorf("expand(%q): %v", tt.in, errs)
		case tt.err == "" && string(got) != tt.want:
			t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
		case tt.err != "" && (errs == nil || !strings.Contains(errs.Error(), tt.err)):
			t.Errorf("expand(%q) = %q, %v; want error %q", tt.in, got, errs, tt.err)
		}
	}
}

// TestExpandAllErrors checks that every bad reference is reported, each
// at its line.
func TestExpandAllErrors(t *testing.T) {
	_, errs := expand([]byte("a: ${X1}\nb: ok\nc: ${X2} ${X3}\n"), "t.yaml", lookupTest)
	want := "t.yaml:1: environment variable X1 is not set (write ${X1:-default} to give a default)\n" +
		"t.yaml:3: environment variable X2 is not set (write ${X2:-default} to give a default)\n" +
		"t.yaml:3: environment variable X3 is not set (write ${X3:-default} to give a default)"
	if errs == nil || errs.Error() != want {
		t.Errorf("errors:\n%v\nwant:\n%s", errs, want)
	}
}
