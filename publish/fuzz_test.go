package publish_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/fruitcam/fruitcam/publish"
)

// seed adds the golden files and a few hand-written edge cases.
func seed(f *testing.F, files ...string) {
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"schema":0}`, `{"schema":1}`, `{"schema":2,"new":[1,2]}`,
		`{"schema":1,"ts":"0000-01-01T00:00:00+01:00"}`, `{"schema":1,"ts":"2025-11-29T09:41:07.123456789+05:30"}`,
		`{"schema":1,"ts":null}`, `{"schema":1,"score":1e300}`, `{"schema":1,"seq":-1}`, `{"schema":1,"data":{"a":[]}}`,
		`{"schema":1,"health":{"x":"ok"},"temperature_c":-3.5}`, "{\"schema\":1,\"label\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
}

// roundTrip checks that what a decoder accepted encodes, decodes again to
// the same value and re-encodes to the same bytes: the encoding is stable
// after one pass (timestamps are cut to milliseconds, strings made valid
// UTF-8).
func roundTrip[T any](t *testing.T, b []byte, decode func([]byte) (T, error)) {
	v, err := decode(b)
	if err != nil {
		return
	}
	enc, err := publish.Encode(v)
	if err != nil {
		t.Fatalf("decoded %q but cannot encode %+v: %v", b, v, err)
	}
	v2, err := decode(enc)
	if err != nil {
		t.Fatalf("cannot decode own encoding %s: %v", enc, err)
	}
	enc2, err := publish.Encode(v2)
	if err != nil {
		t.Fatal(err)
	}
	v3, err := decode(enc2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc2, mustEncode(t, v3)) || !reflect.DeepEqual(v2, v3) {
		t.Fatalf("encoding is not stable:\n%s\n%s", enc, enc2)
	}
}

func mustEncode(t *testing.T, v any) []byte {
	b, err := publish.Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzDecodeResult(f *testing.F) {
	seed(f, "result.json")
	f.Fuzz(func(t *testing.T, b []byte) { roundTrip(t, b, publish.DecodeResult) })
}

func FuzzDecodeStats(f *testing.F) {
	seed(f, "stats.json")
	f.Fuzz(func(t *testing.T, b []byte) { roundTrip(t, b, publish.DecodeStats) })
}

func FuzzDecodeReply(f *testing.F) {
	seed(f, "reply.json", "reply_error.json")
	f.Fuzz(func(t *testing.T, b []byte) { roundTrip(t, b, publish.DecodeReply) })
}

func FuzzDecodeCommand(f *testing.F) {
	seed(f, "command.json")
	for _, s := range []string{` `, `{"id":"1"} {"id":"2"}`, `{"camera":"a/b"}`, `{"schema":2}`, `{"ID":"x"}`, `{"id":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := publish.DecodeCommand(b)
		if err != nil {
			if c != (publish.Command{}) {
				t.Fatalf("error %v with a non-zero command %+v", err, c)
			}
			return
		}
		enc, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := publish.DecodeCommand(enc)
		if err != nil || c2 != c {
			t.Fatalf("%+v encoded as %s decodes to %+v, %v", c, enc, c2, err)
		}
	})
}
