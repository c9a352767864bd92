package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the YAML nodes one decode visits. Aliases can make a
// small file expand to a huge tree (the "billion laughs" file); a real
// config has a few hundred nodes.
const maxNodes = 20000

// maxMergeDepth bounds chains of merge keys (<<: *a where a merges *b...).
const maxMergeDepth = 8

var durationType = reflect.TypeFor[time.Duration]()

// decoder fills a Config from a YAML node tree, strictly: an unknown key,
// a duplicate key or a value of the wrong type is an error at its line.
// The yaml package's own decoding is not used because its errors name Go
// types rather than keys, it accepts durations only as nanosecond
// integers, and it does not say which keys a file set.
type decoder struct {
	file  string
	lines map[string]int  // key path -> line of every key in the file
	bad   map[string]bool // key paths whose values failed to decode
	errs  Errors
	nodes int
	// exhausted is set when the node budget ran out: the config is then
	// partial and this is the only error worth reporting.
	exhausted *Error
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, lines: map[string]int{}, bad: map[string]bool{}}
}

func (d *decoder) fail(n *yaml.Node, key, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.add(&Error{File: d.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) add(e *Error) {
	d.bad[e.Key] = true
	d.errs = append(d.errs, e)
}

// spend counts a node against the budget; false when it is exhausted.
func (d *decoder) spend(n *yaml.Node) bool {
	d.nodes++
	if d.nodes == maxNodes {
		d.exhausted = &Error{File: d.file, Line: n.Line, Msg: fmt.Sprintf("the file expands to more than %d YAML nodes (through aliases or merge keys); a config is much smaller", maxNodes)}
	}
	return d.nodes < maxNodes
}

// value decodes n into v, which holds the default on entry; a null value
// (a key with nothing after it, or ~) keeps the default.
func (d *decoder) value(n *yaml.Node, v reflect.Value, key string) {
	if !d.spend(n) {
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			d.fail(n, key, "alias *%s has no anchor", n.Value)
			return
		}
		d.value(n.Alias, v, key)
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	switch {
	case v.Type() == durationType:
		d.duration(n, v, key)
	case v.Kind() == reflect.Struct:
		d.mapping(n, v, key)
	case v.Kind() == reflect.Slice:
		d.sequence(n, v, key)
	default:
		d.scalar(n, v, key)
	}
}

// describe names a node's kind for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if len(n.Value) > 40 {
			return strconv.Quote(n.Value[:40]) + "..."
		}
		return strconv.Quote(n.Value)
	}
	return "nothing"
}

// field is one key of a struct.
type field struct {
	name  string   // the yaml key
	index int      // the struct field index
	only  []string // the types of the enclosing struct it applies to; nil: all
}

// fieldsOf lists the keys of a struct type from its yaml tags.
func fieldsOf(t reflect.Type) []field {
	var fs []field
	for i := range t.NumField() {
		sf := t.Field(i)
		name := sf.Tag.Get("yaml")
		if name == "" || !sf.IsExported() {
			continue
		}
		f := field{name: name, index: i}
		if only := sf.Tag.Get("only"); only != "" {
			f.only = strings.Split(only, ",")
		}
		fs = append(fs, f)
	}
	return fs
}

func lookupField(fs []field, name string) (field, bool) {
	for _, f := range fs {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

func joinKey(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// pair is one key and its value in a mapping.
type pair struct{ k, v *yaml.Node }

// pairs returns the effective keys of a mapping: its own keys, then those
// its merge keys (<<: *anchor, or a list of anchors) bring in and it does
// not set itself, the earlier anchor winning, as YAML 1.1 specifies.
// A key given twice in the same mapping is an error.
func (d *decoder) pairs(n *yaml.Node, key string, depth int) []pair {
	var own, merges []pair
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !d.spend(k) {
			return nil
		}
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, pair{k, v})
			continue
		}
		if k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(k, key, "a key must be a plain name, got %s", describe(k))
			continue
		}
		if line, dup := first[k.Value]; dup {
			d.fail(k, joinKey(key, k.Value), "given twice (first at line %d)", line)
			continue
		}
		first[k.Value] = k.Line
		own = append(own, pair{k, v})
	}
	out := own
	for _, m := range merges {
		if depth >= maxMergeDepth {
			d.fail(m.k, key, "merge keys nested more than %d deep", maxMergeDepth)
			break
		}
		var sources []*yaml.Node
		switch deref(m.v).Kind {
		case yaml.MappingNode:
			sources = []*yaml.Node{deref(m.v)}
		case yaml.SequenceNode:
			for _, s := range deref(m.v).Content {
				sources = append(sources, deref(s))
			}
		}
		for _, s := range sources {
			if s.Kind != yaml.MappingNode {
				d.fail(m.k, key, "<< merges mappings, got %s", describe(s))
				continue
			}
			for _, p := range d.pairs(s, key, depth+1) {
				if _, set := first[p.k.Value]; !set {
					first[p.k.Value] = p.k.Line
					out = append(out, p)
				}
			}
		}
		if len(sources) == 0 {
			d.fail(m.k, key, "<< merges mappings, got %s", describe(deref(m.v)))
		}
	}
	return out
}

func deref(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, key, "want a mapping (indented key: value lines), got %s", describe(n))
		return
	}
	fs := fieldsOf(v.Type())
	for _, p := range d.pairs(n, key, 0) {
		name := p.k.Value
		sub := joinKey(key, name)
		f, ok := lookupField(fs, name)
		if !ok {
			d.fail(p.k, sub, "unknown key%s", hint(name, fs))
			continue
		}
		d.lines[sub] = p.k.Line
		d.value(p.v, v.Field(f.index), sub)
	}
}

// hint helps with an unknown key: a likely misspelling, or the keys that
// are allowed there.
func hint(name string, fs []field) string {
	if name == "password" {
		return ": passwords do not go in config files; use password_file (a file readable only by the agent) or password_env (an environment variable's name)"
	}
	best, bestDist := "", 3
	var names []string
	for _, f := range fs {
		names = append(names, f.name)
		if dist := editDistance(strings.ToLower(name), f.name); dist < bestDist {
			best, bestDist = f.name, dist
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %s?)", best)
	}
	return " (allowed here: " + strings.Join(names, ", ") + ")"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (d *decoder) sequence(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, key, "want a list, got %s", describe(n))
		return
	}
	if len(n.Content) == 0 {
		v.Set(reflect.Zero(v.Type())) // [] is the same as no list
		return
	}
	et := v.Type().Elem()
	out := reflect.MakeSlice(v.Type(), 0, len(n.Content))
	for i, item := range n.Content {
		sub := fmt.Sprintf("%s[%d]", key, i)
		d.lines[sub] = item.Line
		ev := reflect.New(et).Elem()
		if def, ok := listDefaults[et]; ok {
			ev.Set(def())
		}
		d.value(item, ev, sub)
		out = reflect.Append(out, ev)
	}
	v.Set(out)
}

func (d *decoder) scalar(n *yaml.Node, v reflect.Value, key string) {
	want := map[reflect.Kind]string{reflect.String: "a string", reflect.Int: "a whole number", reflect.Float64: "a number", reflect.Bool: "true or false"}[v.Kind()]
	if want == "" {
		panic("config: no decoding for " + v.Type().String()) // a new field type needs a case here
	}
	if n.Kind != yaml.ScalarNode {
		d.fail(n, key, "want %s, got %s", want, describe(n))
		return
	}
	s := n.Value
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Int:
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v.OverflowInt(i) {
			if err == nil || errors.Is(err, strconv.ErrRange) {
				d.fail(n, key, "%s is out of range", s)
			} else {
				d.fail(n, key, "%q is not a whole number", s)
			}
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			d.fail(n, key, "%q is not a finite number", s)
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		switch strings.ToLower(s) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			d.fail(n, key, "%q is not true or false", s)
		}
	}
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, key, "want a duration such as 1s or 50ms, got %s", describe(n))
		return
	}
	s := n.Value
	if s == "0" {
		v.SetInt(0)
		return
	}
	dur, err := time.ParseDuration(s)
	if err != nil {
		if _, numErr := strconv.ParseFloat(s, 64); numErr == nil {
			d.fail(n, key, "%s has no unit: write a duration such as %ss, %sms or 1m30s", s, s, s)
		} else {
			d.fail(n, key, "%q is not a duration: write one such as 1s, 50ms or 1m30s", s)
		}
		return
	}
	v.SetInt(int64(dur))
}

// applyTypes enforces the `only` tags below v: a key set in the file that
// does not apply to its struct's type is an error, and every field that
// does not apply is cleared, so that the effective config shows only what
// is used. Structs whose type is not valid are left for Validate.
func (d *decoder) applyTypes(v reflect.Value, key string) {
	switch v.Kind() {
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Struct {
			for i := range v.Len() {
				d.applyTypes(v.Index(i), fmt.Sprintf("%s[%d]", key, i))
			}
		}
		return
	case reflect.Struct:
	default:
		return
	}
	if v.Type() == durationType {
		return
	}
	fs := fieldsOf(v.Type())
	typ := ""
	if f, ok := lookupField(fs, "type"); ok {
		typ = v.Field(f.index).String()
	}
	valid := slices.Contains(enums[enumKey(joinKey(key, "type"))], typ)
	for _, f := range fs {
		sub := joinKey(key, f.name)
		if f.only != nil && valid && !slices.Contains(f.only, typ) {
			if line, set := d.lines[sub]; set {
				noun := key[strings.LastIndexAny(key, ".")+1:]
				d.add(&Error{File: d.file, Line: line, Key: sub,
					Msg: fmt.Sprintf("does not apply to a %s of type %s (only to %s)", noun, typ, strings.Join(f.only, ", "))})
			}
			fv := v.Field(f.index)
			fv.Set(reflect.Zero(fv.Type()))
			continue
		}
		d.applyTypes(v.Field(f.index), sub)
	}
}

// enumKey turns a key path into its reference-table form:
// "cameras[2].source.type" -> "cameras[].source.type".
func enumKey(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		b.WriteByte(key[i])
		if key[i] == '[' {
			for i+1 < len(key) && key[i+1] != ']' {
				i++
			}
		}
	}
	return b.String()
}
