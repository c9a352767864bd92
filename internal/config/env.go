package config

import (
	"bytes"
	"fmt"
	"strings"
)

// expand substitutes environment variables in the text of a config before
// it is parsed: ${NAME} is NAME's value and an error when NAME is unset;
// ${NAME:-default} is default when NAME is unset or empty; $$ is a literal
// $; any other $ is itself. Substitution is textual, so a variable can
// supply a number (fps: ${FPS:-30}) or part of a string
// (path: ${DATA}/images), and comments are left alone (a commented-out
// ${NAME} needs no variable). Values may not contain line breaks, so the
// line numbers of errors stay those of the file.
//
// A value is inserted as it is: quote the reference ("${NAME}") when the
// value may contain YAML syntax such as ": " or " #".
func expand(data []byte, file string, lookup func(string) (string, bool)) ([]byte, Errors) {
	var out bytes.Buffer
	out.Grow(len(data))
	var errs Errors
	for n, line := range bytes.SplitAfter(data, []byte("\n")) {
		lineNo := n + 1
		fail := func(format string, args ...any) {
			errs = append(errs, &Error{File: file, Line: lineNo, Msg: fmt.Sprintf(format, args...)})
		}
		var quote byte // the open quote character, 0 outside quotes
		for i := 0; i < len(line); i++ {
			c := line[i]
			switch {
			case quote == 0 && c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
				// A comment runs to the end of the line.
				out.Write(line[i:])
				i = len(line)
				continue
			case quote == 0 && (c == '\'' || c == '"') && (i == 0 || bytes.IndexByte([]byte(" \t[{,"), line[i-1]) >= 0):
				quote = c
			case quote == '\'' && c == '\'':
				if i+1 < len(line) && line[i+1] == '\'' { // '' is an escaped quote
					out.WriteString("''")
					i++
					continue
				}
				quote = 0
			case quote == '"' && c == '\\' && i+1 < len(line):
				out.Write(line[i : i+2])
				i++
				continue
			case quote == '"' && c == '"':
				quote = 0
			case c == '$' && i+1 < len(line) && line[i+1] == '$':
				out.WriteByte('$')
				i++
				continue
			case c == '$' && i+1 < len(line) && line[i+1] == '{':
				end := bytes.IndexByte(line[i+2:], '}')
				if end < 0 {
					fail("unterminated ${: write ${NAME} or ${NAME:-default}, or $$ for a literal $")
					out.Write(line[i:])
					i = len(line)
					continue
				}
				ref := string(line[i+2 : i+2+end])
				i += 2 + end
				name, def, hasDef := strings.Cut(ref, ":-")
				if !isVarName(name) {
					fail("${%s}: %q is not an environment variable name (letters, digits and _, not starting with a digit)", ref, name)
					continue
				}
				val, ok := lookup(name)
				switch {
				case hasDef && val == "":
					val = def
				case !ok:
					fail("environment variable %s is not set (write ${%s:-default} to give a default)", name, name)
					continue
				}
				if strings.ContainsAny(val, "\r\n") {
					fail("the value of %s contains a line break; config values are single lines", name)
					continue
				}
				out.WriteString(val)
				continue
			}
			out.WriteByte(c)
		}
	}
	if errs != nil {
		return nil, errs
	}
	return out.Bytes(), nil
}

func isVarName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
