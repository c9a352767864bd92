package metrics

import (
	"fmt"
	"strings"
)

// This file is a small, strict reader of the text exposition format 0.0.4,
// written from the spec rather than from the writer, so that the tests
// check the writer's output against the format and not against itself.

type parsedSample struct {
	name   string
	labels map[string]string
	value  string
}

type parsed struct {
	help    map[string]string // family -> unescaped HELP text
	typ     map[string]string // family -> TYPE
	order   []string          // families in order
	samples []parsedSample
}

// parseExposition reads text, failing on anything the format does not
// allow: a sample before its family's TYPE, a bad escape, a raw line feed
// inside a value, a missing trailing line feed.
func parseExposition(text string) (parsed, error) {
	p := parsed{help: map[string]string{}, typ: map[string]string{}}
	if text == "" {
		return p, nil
	}
	if !strings.HasSuffix(text, "\n") {
		return p, fmt.Errorf("no line feed at the end")
	}
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if err := p.line(line); err != nil {
			return p, fmt.Errorf("line %d %q: %w", i+1, line, err)
		}
	}
	return p, nil
}

func (p *parsed) line(line string) error {
	if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
		name, text, ok := strings.Cut(rest, " ")
		if !ok || !validMetricName(name) {
			return fmt.Errorf("bad HELP")
		}
		if _, dup := p.help[name]; dup {
			return fmt.Errorf("second HELP for %s", name)
		}
		u, err := unescape(text, false)
		if err != nil {
			return err
		}
		p.help[name] = u
		p.order = append(p.order, name)
		return nil
	}
	if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
		name, typ, ok := strings.Cut(rest, " ")
		if !ok || len(p.order) == 0 || p.order[len(p.order)-1] != name {
			return fmt.Errorf("TYPE without its HELP just before it")
		}
		if _, dup := p.typ[name]; dup {
			return fmt.Errorf("second TYPE for %s", name)
		}
		switch typ {
		case "counter", "gauge", "histogram", "summary", "untyped":
		default:
			return fmt.Errorf("bad type %q", typ)
		}
		p.typ[name] = typ
		return nil
	}
	if strings.HasPrefix(line, "#") {
		return fmt.Errorf("unexpected comment")
	}
	s := parsedSample{labels: map[string]string{}}
	i := 0
	for i < len(line) && line[i] != '{' && line[i] != ' ' {
		i++
	}
	s.name = line[:i]
	if !validMetricName(s.name) {
		return fmt.Errorf("bad metric name %q", s.name)
	}
	fam := s.name
	if p.typ[fam] == "" {
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(s.name, suf); ok && p.typ[base] == "histogram" {
				fam = base
			}
		}
	}
	if p.typ[fam] == "" {
		return fmt.Errorf("sample of %s before its TYPE", s.name)
	}
	if fam != p.order[len(p.order)-1] {
		return fmt.Errorf("sample of %s inside family %s", s.name, p.order[len(p.order)-1])
	}
	rest := line[i:]
	if strings.HasPrefix(rest, "{") {
		rest = rest[1:]
		for {
			name, after, ok := strings.Cut(rest, `="`)
			if !ok || !validLabelName(name) {
				return fmt.Errorf("bad label in %q", rest)
			}
			var b strings.Builder
			j := 0
			for ; j < len(after) && after[j] != '"'; j++ {
				if after[j] == '\\' {
					j++
					if j == len(after) {
						return fmt.Errorf("escape at end")
					}
					switch after[j] {
					case '\\':
						b.WriteByte('\\')
					case '"':
						b.WriteByte('"')
					case 'n':
						b.WriteByte('\n')
					default:
						return fmt.Errorf(`bad escape \%c`, after[j])
					}
					continue
				}
				b.WriteByte(after[j])
			}
			if j == len(after) {
				return fmt.Errorf("unterminated label value")
			}
			if _, dup := s.labels[name]; dup {
				return fmt.Errorf("label %s twice", name)
			}
			s.labels[name] = b.String()
			rest = after[j+1:]
			if strings.HasPrefix(rest, ",") {
				rest = rest[1:]
				continue
			}
			if !strings.HasPrefix(rest, "}") {
				return fmt.Errorf("want , or } at %q", rest)
			}
			rest = rest[1:]
			break
		}
	}
	v, ok := strings.CutPrefix(rest, " ")
	if !ok || v == "" || strings.Contains(v, " ") {
		return fmt.Errorf("want one space and a value, got %q", rest)
	}
	s.value = v
	p.samples = append(p.samples, s)
	return nil
}

// unescape undoes HELP escaping (quote false: \\ and \n only) or label
// value escaping (quote true: also \").
func unescape(s string, quote bool) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch {
		case i == len(s):
			return "", fmt.Errorf("escape at end")
		case s[i] == '\\':
			b.WriteByte('\\')
		case s[i] == 'n':
			b.WriteByte('\n')
		case s[i] == '"' && quote:
			b.WriteByte('"')
		default:
			return "", fmt.Errorf(`bad escape \%c`, s[i])
		}
	}
	return b.String(), nil
}

// find returns the samples named name whose labels include want.
func (p parsed) find(name string, want map[string]string) []parsedSample {
	var out []parsedSample
next:
	for _, s := range p.samples {
		if s.name != name {
			continue
		}
		for k, v := range want {
			if s.labels[k] != v {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}
