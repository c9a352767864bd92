package publish_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/publish"
)

// The contract test freezes the MQTT payloads of schema 1 (design.md
// section 5): the golden files in testdata/ are what consumers were
// promised. A field may be added, never renamed, removed or changed in
// type or format. `go test ./publish -run TestContract -update` rewrites
// the files to include new fields; it refuses when a golden field would
// be lost or changed, so that the files only ever grow.
var update = flag.Bool("update", false, "add new payload fields to testdata/*.json (never drops or changes one)")

var goldenTime = time.Date(2025, 11, 29, 9, 41, 7, 123456789, time.UTC)

var goldenMeta = publish.Meta{
	Device:  "dev1",
	Model:   publish.Model{Name: "fruit-cnn", Version: "3", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
	Backend: "native",
}

func goldenResult() publish.Result {
	return publish.NewResult(goldenMeta, publish.Item{
		Camera: "belt1", Seq: 42, ID: 17, Frames: 3, Label: "Banana", Score: 0.875,
		Top:       []publish.Class{{Label: "Banana", Score: 0.875}, {Label: "Plum", Score: 0.09375}, {Label: "Kiwi", Score: 0.03125}},
		Captured:  goldenTime.Add(-38500 * time.Microsecond),
		Inference: 12250 * time.Microsecond,
	}, goldenTime)
}

func goldenStats() publish.Stats {
	return publish.NewStats(goldenMeta, publish.Counters{
		Uptime: 3725*time.Second + 900*time.Millisecond, FramesIn: 30, Processed: 85.0 / 3, Skipped: 5.0 / 3,
		QueueDepth: 2, InferenceP50: 11500 * time.Microsecond, InferenceP99: 19875 * time.Microsecond,
		Health:      map[string]string{"camera:belt1": publish.HealthOK, "inference": publish.HealthOK, "mqtt": publish.HealthDegraded},
		Temperature: 51.23, TemperatureOK: true,
	}, goldenTime)
}

var contract = []struct {
	file   string
	value  func() any
	decode func([]byte) (any, error)
}{
	{"result.json", func() any { return goldenResult() },
		func(b []byte) (any, error) { return publish.DecodeResult(b) }},
	{"stats.json", func() any { return goldenStats() },
		func(b []byte) (any, error) { return publish.DecodeStats(b) }},
	{"reply.json", func() any {
		return publish.NewReply("dev1", publish.CmdPause, "42", []byte(`{"paused": true}`), nil, goldenTime)
	}, func(b []byte) (any, error) { return publish.DecodeReply(b) }},
	{"reply_error.json", func() any {
		return publish.NewReply("dev1", publish.CmdSnapshot, "43", nil, errors.New("camera belt9 is not configured"), goldenTime)
	}, func(b []byte) (any, error) { return publish.DecodeReply(b) }},
	{"config_state.json", func() any {
		return publish.ConfigState{Schema: 1, TS: publish.Timestamp{Time: goldenTime}, Device: "dev1", Group: "line1",
			Source: "group", Topic: "fruitcam/fleet/line1/config", Version: 1795965227242,
			SHA256: "0582139cc359d9b89a6cd81f6ee747329f4a169bdc15cd5d53f2f3e254bdb268",
			State:  publish.ConfigRolledBack, Reason: "camera belt (/dev/video0) is down: no frame within 2s",
			Running: publish.Running{
				Group:   &publish.Layer{Version: 1795965100000, SHA256: "7d499fc1352108d0e69e90e1304157132a51fb9e3e99c57979fb154b6f34f929"},
				SHA256:  "df5d9e863cdeaea01546d99967b26a524940b220f44ab7e6e160ef1added42ef",
				Model:   goldenMeta.Model,
				Backend: "native",
			}}
	}, func(b []byte) (any, error) { return publish.DecodeConfigState(b) }},
	{"command.json", func() any { return publish.Command{Schema: 1, ID: "42", Camera: "belt1"} },
		func(b []byte) (any, error) { return publish.DecodeCommand(b) }},
}

func TestContract(t *testing.T) {
	for _, tc := range contract {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			enc, err := publish.Encode(tc.value())
			if err != nil {
				t.Fatal(err)
			}
			got := tree(t, enc)
			golden, err := os.ReadFile(path)
			if os.IsNotExist(err) && *update {
				writeGolden(t, path, enc)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tree(t, golden)
			if diffs := contractDiff("", want, got); len(diffs) > 0 {
				t.Fatalf("the payload broke the schema %d contract of %s (add fields, never rename, remove or reformat them):\n\t%s",
					publish.Schema, path, joinLines(diffs))
			}
			if *update && !bytes.Equal(compact(t, golden), enc) {
				writeGolden(t, path, enc)
			}

			// The decoder reads the golden file, and encoding what it read
			// keeps every field.
			v, err := tc.decode(golden)
			if err != nil {
				t.Fatalf("decode %s: %v", path, err)
			}
			again, err := publish.Encode(v)
			if err != nil {
				t.Fatal(err)
			}
			if diffs := contractDiff("", want, tree(t, again)); len(diffs) > 0 {
				t.Errorf("decode and encode of %s lost:\n\t%s", path, joinLines(diffs))
			}
		})
	}
}

// TestTopicContract freezes the topic names and the plain payloads.
func TestTopicContract(t *testing.T) {
	tp, err := publish.NewTopics("", "dev1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ got, want string }{
		{tp.Status(), "fruitcam/dev1/status"},
		{tp.Result("belt1"), "fruitcam/dev1/belt1/result"},
		{tp.Label("belt1"), "fruitcam/dev1/belt1/label"},
		{tp.Stats(), "fruitcam/dev1/stats"},
		{tp.Commands(), "fruitcam/dev1/cmd/+"},
		{tp.Command("pause"), "fruitcam/dev1/cmd/pause"},
		{tp.Reply("pause"), "fruitcam/dev1/cmd/pause/reply"},
		{tp.ConfigSet(), "fruitcam/dev1/config/set"},
		{tp.ConfigState(), "fruitcam/dev1/config/state"},
		{tp.FleetConfig("line1"), "fruitcam/fleet/line1/config"},
		{publish.StatusOnline, "online"},
		{publish.StatusOffline, "offline"},
		{publish.DefaultPrefix, "fruitcam"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if publish.Schema != 1 {
		t.Errorf("Schema: got %d; a new schema version needs its own golden files", publish.Schema)
	}
}

// TestContractCatchesRename proves the check fails on the changes it is
// there to stop.
func TestContractCatchesRename(t *testing.T) {
	want := tree(t, []byte(`{"schema":1,"seq":4,"ts":"2025-11-29T09:41:07.123Z","top":[{"label":"a","score":0.5}],"model":{"name":"m"}}`))
	for _, tc := range []struct {
		name, got string
		diffs     int
	}{
		{"same", `{"schema":1,"seq":4,"ts":"2025-11-29T09:41:07.123Z","top":[{"label":"a","score":0.5}],"model":{"name":"m"}}`, 0},
		{"added", `{"schema":1,"seq":4,"ts":"2025-11-29T09:41:07.123Z","top":[{"label":"a","score":0.5,"index":3}],"model":{"name":"m","extra":1},"new":true}`, 0},
		{"renamed", `{"schema":1,"sequence":4,"ts":"2025-11-29T09:41:07.123Z","top":[{"label":"a","score":0.5}],"model":{"name":"m"}}`, 1},
		{"nested renamed", `{"schema":1,"seq":4,"ts":"2025-11-29T09:41:07.123Z","top":[{"name":"a","score":0.5}],"model":{"id":"m"}}`, 2},
		{"retyped", `{"schema":1,"seq":"4","ts":"2025-11-29T09:41:07.123Z","top":[{"label":"a","score":0.5}],"model":{"name":"m"}}`, 1},
		{"reformatted", `{"schema":1,"seq":4,"ts":"2025-11-29T09:41:07Z","top":[{"label":"a","score":0.5}],"model":{"name":"m"}}`, 1},
		{"object to array", `{"schema":1,"seq":4,"ts":"2025-11-29T09:41:07.123Z","top":{"label":"a"},"model":{"name":"m"}}`, 1},
	} {
		if got := contractDiff("", want, tree(t, []byte(tc.got))); len(got) != tc.diffs {
			t.Errorf("%s: got %d differences %v, want %d", tc.name, len(got), got, tc.diffs)
		}
	}
}

// contractDiff lists how got fails to keep every field of want: a
// missing key, a different JSON type, a different value.
func contractDiff(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %s", or(path, "payload"), describe(got))}
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var diffs []string
		for _, k := range keys {
			gv, ok := g[k]
			if !ok {
				diffs = append(diffs, fmt.Sprintf("%s: missing (renamed or removed?)", join(path, k)))
				continue
			}
			diffs = append(diffs, contractDiff(join(path, k), w[k], gv)...)
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an array, got %s", path, describe(got))}
		}
		if len(g) != len(w) {
			return []string{fmt.Sprintf("%s: want %d elements, got %d", path, len(w), len(g))}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, contractDiff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return diffs
	default:
		if fmt.Sprintf("%T %v", want, want) != fmt.Sprintf("%T %v", got, got) {
			return []string{fmt.Sprintf("%s: want %s, got %s", path, describe(want), describe(got))}
		}
		return nil
	}
}

func describe(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case json.Number:
		return "number " + v.(json.Number).String()
	case string:
		return fmt.Sprintf("string %q", v)
	}
	return fmt.Sprintf("%T %v", v, v)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func joinLines(s []string) string {
	var b bytes.Buffer
	for i, l := range s {
		if i > 0 {
			b.WriteString("\n\t")
		}
		b.WriteString(l)
	}
	return b.String()
}

func tree(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return v
}

func compact(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func writeGolden(t *testing.T, path string, enc []byte) {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, enc, "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}
