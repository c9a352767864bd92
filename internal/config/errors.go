package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in a config, located by file, line and key.
type Error struct {
	File string // the name given to Parse or Load; "" for a config built in code
	Line int    // 1-based; 0 when the key is not in the file (a missing required key)
	Key  string // dotted key path, "cameras[0].source.width"; "" for the file as a whole
	Msg  string
}

// Error formats e like a compiler diagnostic:
// "configs/pi.yaml:12: infer.batch.size: -1 is not positive", or
// "config: infer.batch.size: -1 is not positive" without a file.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File == "":
		b.WriteString("config: ")
	case e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	default:
		b.WriteString(e.File + ": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a config, in line order. Parse, Load
// and Validate return all of them at once, so that one run of `agent
// validate` shows everything to fix.
type Errors []*Error

// Error returns the errors one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// err orders es by line (unknown lines last), keeping the order of errors
// on the same line, and returns nil for no errors so that callers can
// return it as an error.
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	slices.SortStableFunc(es, func(a, b *Error) int {
		la, lb := a.Line, b.Line
		if la == 0 {
			la = 1 << 30
		}
		if lb == 0 {
			lb = 1 << 30
		}
		return cmp.Compare(la, lb)
	})
	return es
}

// origin records where a parsed config came from.
type origin struct {
	file  string
	lines map[string]int // key path -> line of the key
	// files names the fleet config that set a key, for a merged config
	// (Merge); keys not in it come from file.
	files map[string]string
}

// fileOf returns the file that set key, or the nearest enclosing key.
func (o *origin) fileOf(key string) string {
	for k := key; k != ""; k = parentKey(k) {
		if f, ok := o.files[k]; ok {
			return f
		}
		if _, ok := o.lines[k]; ok {
			return o.file
		}
	}
	return o.file
}

// line returns the line of key, or of its nearest enclosing key that is in
// the file ("cameras[0].source" for a missing "cameras[0].source.path"),
// or 0.
func (o *origin) line(key string) int {
	if o == nil {
		return 0
	}
	for key != "" {
		if l, ok := o.lines[key]; ok {
			return l
		}
		key = parentKey(key)
	}
	return 0
}

// parentKey strips the last component of a key path: "a.b[2]" -> "a.b",
// "a.b" -> "a", "a" -> "".
func parentKey(key string) string {
	i := strings.LastIndexAny(key, ".[")
	if i < 0 {
		return ""
	}
	return key[:i]
}

// Errorf returns an error located at key (a path as in Error.Key): at its
// line when c was parsed from a file, else at the nearest enclosing key's.
// The agent uses it for problems found at run time that the file can fix,
// such as a region of interest outside the frame size a camera negotiated.
func (c *Config) Errorf(key, format string, args ...any) *Error {
	e := &Error{Key: key, Msg: fmt.Sprintf(format, args...)}
	if c.src != nil {
		e.File = c.src.fileOf(key)
		e.Line = c.src.line(key)
	}
	return e
}
