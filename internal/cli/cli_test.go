package cli

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args []string
		pos  []string
		o    string
		v    bool
	}{
		{[]string{"in.h5", "-o", "out"}, []string{"in.h5"}, "out", false},
		{[]string{"-o", "out", "in.h5", "-v"}, []string{"in.h5"}, "out", true},
		{[]string{"a", "b", "-v", "c"}, []string{"a", "b", "c"}, "", true},
		{[]string{"-v", "--", "-o", "x"}, []string{"-o", "x"}, "", true},
		{[]string{"a", "--", "-o"}, []string{"a", "-o"}, "", false},
		{nil, nil, "", false},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		o := fs.String("o", "", "")
		v := fs.Bool("v", false, "")
		pos, err := ParseFlags(fs, tt.args)
		if err != nil || !slices.Equal(pos, tt.pos) || *o != tt.o || *v != tt.v {
			t.Errorf("ParseFlags(%q) = %q, o=%q v=%v, %v; want %q, o=%q v=%v", tt.args, pos, *o, *v, err, tt.pos, tt.o, tt.v)
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var ue *UsageError
	if _, err := ParseFlags(fs, []string{"x", "--bogus"}); !errors.As(err, &ue) {
		t.Errorf("unknown flag: %v, want a usage error", err)
	}
	if _, err := ParseFlags(fs, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
}

func TestMainExitCodes(t *testing.T) {
	commands := []Command{
		{"ok", "succeeds", func([]string, io.Writer, io.Writer) error { return nil }},
		{"bad", "is misused", func([]string, io.Writer, io.Writer) error { return Usagef("need %s", "x") }},
		{"fail", "fails", func([]string, io.Writer, io.Writer) error { return errors.New("thing: broke") }},
		{"help", "asks for help", func([]string, io.Writer, io.Writer) error { return flag.ErrHelp }},
	}
	tests := []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{nil, 2, "", "usage: prog"},
		{[]string{"-h"}, 0, "commands:", ""},
		{[]string{"ok"}, 0, "", ""},
		{[]string{"bad"}, 2, "", "prog bad: need x"},
		{[]string{"fail"}, 1, "", "prog: thing: broke"},
		{[]string{"help"}, 0, "", ""},
		{[]string{"nope"}, 2, "", `unknown command "nope"`},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := Main("prog", commands, tt.args, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
			t.Errorf("Main(%q) = %d, stdout %q, stderr %q; want %d, %q, %q", tt.args, code, stdout.String(), stderr.String(), tt.code, tt.stdout, tt.stderr)
		}
	}
}

func TestCheckPreprocess(t *testing.T) {
	if err := CheckPreprocess("", "", "", ""); err != nil {
		t.Error(err)
	}
	var ue *UsageError
	for _, args := range [][4]string{{"x", "", "", ""}, {"", "x", "", ""}, {"", "", "x", ""}, {"", "", "", "x"}} {
		if err := CheckPreprocess(args[0], args[1], args[2], args[3]); !errors.As(err, &ue) {
			t.Errorf("CheckPreprocess%q = %v, want a usage error", args, err)
		}
	}
}
