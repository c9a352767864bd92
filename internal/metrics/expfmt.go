package metrics

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ContentType is the media type of the text exposition format 0.0.4
// (Prometheus "Exposition formats", text-based format).
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// validMetricName reports whether s matches [a-zA-Z_:][a-zA-Z0-9_:]*, the
// metric name syntax of the data model.
func validMetricName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// validLabelName reports whether s matches [a-zA-Z_][a-zA-Z0-9_]* and does
// not start with "__", which the data model reserves for internal use.
func validLabelName(s string) bool {
	if s == "" || strings.HasPrefix(s, "__") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// appendLabelValue appends v escaped for a label value: the format allows
// any UTF-8 there, with backslash, double quote and line feed written as
// \\, \" and \n. Invalid UTF-8 becomes U+FFFD, since Prometheus rejects a
// scrape holding it and a camera name is not worth a lost scrape.
func appendLabelValue(b []byte, v string) []byte {
	return appendEscaped(b, v, true)
}

// appendHelp appends v escaped for a HELP line, where only backslash and
// line feed are escaped (a double quote stands for itself).
func appendHelp(b []byte, v string) []byte {
	return appendEscaped(b, v, false)
}

func appendEscaped(b []byte, v string, quote bool) []byte {
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\\':
				b = append(b, `\\`...)
			case c == '\n':
				b = append(b, `\n`...)
			case c == '"' && quote:
				b = append(b, `\"`...)
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && n == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, v[i:i+n]...)
		}
		i += n
	}
	return b
}

// appendFloat appends v as the format writes sample values: Go float
// syntax, with +Inf, -Inf and NaN spelled as Prometheus spells them.
func appendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}
