package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse feeds Parse arbitrary files, seeded with the example configs
// and the parse tests' inputs. Parse must never panic; its errors must
// point at lines of the file; a config it accepts must validate and read
// back equal from its Marshal form.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(configsDir, "*.yaml"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(minimal))
	f.Add([]byte(minimal + "mqtt:\n  embedded: {enabled: true, users: [{username: u, password_env: P}]}\n"))
	f.Add([]byte(minimal + "    trigger: {type: gpio, pin: GPIO17}\nactuators:\n  - {label: Lemon, pin: GPIO27, delay: 1.5s}\n"))
	f.Add([]byte("version: 1\ncameras: [&c {name: a, source: {<<: &s {type: folder}, path: x}}, *c]\n"))
	f.Add([]byte(mergeBomb))

	lookup := func(name string) (string, bool) {
		if v, ok := configsEnv[name]; ok {
			return v, true
		}
		return lookupTest(name)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parse(data, "fuzz.yaml", lookup)
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %v (%T) is not a non-empty Errors", err, err)
			}
			lines := 1 // YAML breaks lines at \n, \r and three Unicode breaks
			for _, br := range []string{"\n", "\r", "\u0085", "\u2028", "\u2029"} {
				lines += bytes.Count(data, []byte(br))
			}
			for _, e := range es {
				if e.Msg == "" || e.File != "fuzz.yaml" || e.Line < 0 || e.Line > lines {
					t.Fatalf("bad error %+v for a file of %d lines", e, lines)
				}
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a config Validate rejects: %v", err)
		}
		out, err := c.Marshal()
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back, err := parse(out, "marshalled.yaml", func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatalf("reading back the marshalled config: %v\n%s", err, out)
		}
		a, b := *c, *back
		a.src, b.src = nil, nil
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip changed the config:\n%+v\nbecame\n%+v", a, b)
		}
	})
}
