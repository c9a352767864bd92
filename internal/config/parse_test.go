package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// env is the environment the parse tests see.
var testEnv = map[string]string{"FPS": "15", "EMPTY": "", "DIR": "/data", "NL": "a\nb"}

func lookupTest(name string) (string, bool) {
	v, ok := testEnv[name]
	return v, ok
}

// minimal is the smallest valid config; cases add to it.
const minimal = `version: 1
model:
  path: m.tflite
cameras:
  - name: cam0
    source:
      type: pattern
`

type wantErr struct {
	line     int
	key, msg string
}

// checkErrors checks that err is an Errors holding exactly want, in order:
// same lines and keys, messages containing want's.
func checkErrors(t *testing.T, err error, want []wantErr) {
	t.Helper()
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %v (%T), want config.Errors", err, err)
	}
	if len(es) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(es), len(want), err)
	}
	for i, e := range es {
		w := want[i]
		if e.File != "t.yaml" || e.Line != w.line || e.Key != w.key || !strings.Contains(e.Msg, w.msg) {
			t.Errorf("error %d = %s:%d key %q msg %q; want t.yaml:%d key %q msg containing %q", i, e.File, e.Line, e.Key, e.Msg, w.line, w.key, w.msg)
		}
	}
}

// TestParseErrors has a case for every class of error Parse reports.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []wantErr
	}{
		// Environment substitution.
		{"unset variable", minimal + "log:\n  level: ${NOPE}\n", []wantErr{{9, "", "environment variable NOPE is not set"}}},
		{"bad variable name", minimal + "log:\n  level: ${1X}\n", []wantErr{{9, "", `"1X" is not an environment variable name`}}},
		{"unterminated reference", minimal + "log:\n  level: ${X\n", []wantErr{{9, "", "unterminated ${"}}},
		{"line break in value", minimal + "log:\n  level: ${NL}\n", []wantErr{{9, "", "contains a line break"}}},
		{"substituted value checked", minimal + "log:\n  level: ${EMPTY:-loud}\n", []wantErr{{9, "log.level", `"loud" is not one of debug, info, warn, error`}}},

		// YAML syntax and document shape.
		{"syntax", "version: 1\nmodel: [a,\n", []wantErr{{2, "", "invalid YAML: did not find expected node content"}}},
		{"tab indentation", "version: 1\nmodel:\n\tpath: x\n", []wantErr{{3, "", "not tabs"}}},
		{"empty", "", []wantErr{{0, "", "empty"}}},
		{"only a comment", "# nothing\n", []wantErr{{0, "", "empty"}}},
		{"not a mapping", "- a\n- b\n", []wantErr{{1, "", "a config is a mapping"}}},
		{"two documents", minimal + "---\nversion: 1\n", []wantErr{{8, "", "a second YAML document"}}},
		{"too large", minimal + "#" + strings.Repeat("x", MaxSize) + "\n", []wantErr{{0, "", "larger than 1024 KiB"}}},

		// Version.
		{"missing version", strings.TrimPrefix(minimal, "version: 1\n"), []wantErr{{1, "version", "missing: start the file with version: 1"}}},
		{"other version", "version: 2\nbogus: 1\n", []wantErr{{1, "version", `"2" is not supported`}}},
		{"version not a number", "version: one\n", []wantErr{{1, "version", `"one" is not supported`}}},

		// Keys.
		{"unknown key", minimal + "bogus: 1\n", []wantErr{{8, "bogus", "unknown key (allowed here: version, device, model"}}},
		{"misspelt key", minimal + "infer:\n  batch:\n    szie: 4\n", []wantErr{{10, "infer.batch.szie", "did you mean size?"}}},
		{"password in the file", minimal + "mqtt:\n  username: u\n  password: secret\n", []wantErr{{10, "mqtt.password", "passwords do not go in config files"}}},
		{"duplicate key", minimal + "log:\n  level: info\n  level: debug\n", []wantErr{{10, "log.level", "given twice (first at line 9)"}}},
		{"key not a name", minimal + "log:\n  [a]: b\n", []wantErr{{9, "log", "a key must be a plain name"}}},
		{"key for another source type", minimal + "      device: /dev/video1\n", []wantErr{{8, "cameras[0].source.device", "does not apply to a source of type pattern (only to v4l2)"}}},
		{"key for another trigger type", minimal + "    trigger:\n      type: interval\n      pin: GPIO4\n", []wantErr{{10, "cameras[0].trigger.pin", "does not apply to a trigger of type interval (only to gpio)"}}},

		// Values of the wrong type.
		{"mapping expected", minimal + "infer: 4\n", []wantErr{{8, "infer", `want a mapping (indented key: value lines), got "4"`}}},
		{"list expected", minimal + "actuators:\n  label: x\n", []wantErr{{9, "actuators", "want a list, got a mapping"}}},
		{"scalar expected", "version: 1\nmodel:\n  path: [a, b]\ncameras: [{name: a, source: {type: pattern}}]\n", []wantErr{{3, "model.path", "want a string, got a list"}}},
		{"not an integer", minimal + "infer:\n  workers: two\n", []wantErr{{9, "infer.workers", `"two" is not a whole number`}}},
		{"fraction for an integer", minimal + "infer:\n  workers: 1.5\n", []wantErr{{9, "infer.workers", `"1.5" is not a whole number`}}},
		{"integer out of range", minimal + "infer:\n  workers: 99999999999999999999\n", []wantErr{{9, "infer.workers", "out of range"}}},
		{"not a finite number", minimal + "pipeline:\n  threshold: .inf\n", []wantErr{{9, "pipeline.threshold", `".inf" is not a finite number`}}},
		{"not a boolean", minimal + "stdout:\n  enabled: yes\n", []wantErr{{9, "stdout.enabled", `"yes" is not true or false`}}},
		{"duration without unit", minimal + "infer:\n  batch:\n    timeout: 20\n", []wantErr{{10, "infer.batch.timeout", "20 has no unit: write a duration such as 20s, 20ms"}}},
		{"not a duration", minimal + "infer:\n  batch:\n    timeout: soon\n", []wantErr{{10, "infer.batch.timeout", `"soon" is not a duration`}}},
		{"one error per bad value", minimal + "infer:\n  batch:\n    size: many\n", []wantErr{{10, "infer.batch.size", "not a whole number"}}},

		// Validation: ranges and enumerations.
		{"not positive", minimal + "infer:\n  batch:\n    size: -1\n", []wantErr{{10, "infer.batch.size", "-1 is not positive"}}},
		{"too large a value", minimal + "infer:\n  batch:\n    size: 5000\n", []wantErr{{10, "infer.batch.size", "5000 is more than 1024"}}},
		{"negative duration", minimal + "infer:\n  batch:\n    timeout: -5ms\n", []wantErr{{10, "infer.batch.timeout", "-5ms is negative"}}},
		{"bad enum", modelWith("backend: gpu"), []wantErr{{4, "model.backend", `"gpu" is not one of native, tflite, edgetpu, auto`}}},
		{"bad preprocessing", modelWith("normalize: x/255"), []wantErr{{4, "model.normalize", `"x/255" is not one of unit, symmetric, caffe, none`}}},
		{"threshold out of range", minimal + "pipeline:\n  threshold: 1.5\n", []wantErr{{9, "pipeline.threshold", "1.5 is not between 0 and 1"}}},
		{"empty unknown label", minimal + "pipeline:\n  unknown_label: \"\"\n", []wantErr{{9, "pipeline.unknown_label", "missing"}}},
		{"bad log format", minimal + "log:\n  format: xml\n", []wantErr{{9, "log.format", `"xml" is not one of text, json`}}},

		// Required keys.
		{"no model path", "version: 1\nmodel:\n  top: 3\ncameras: [{name: a, source: {type: pattern}}]\n", []wantErr{{2, "model.path", "missing: the .tflite model file"}}},
		{"no cameras", "version: 1\nmodel: {path: m}\n", []wantErr{{0, "cameras", "missing: at least one camera"}}},
		{"no source type", "version: 1\nmodel: {path: m}\ncameras:\n  - name: a\n", []wantErr{{4, "cameras[0].source.type", "missing: one of v4l2, folder, pattern"}}},
		{"folder without path", "version: 1\nmodel: {path: m}\ncameras:\n  - name: a\n    source: {type: folder}\n", []wantErr{{5, "cameras[0].source.path", "missing: a directory of images"}}},
		{"bad glob", "version: 1\nmodel: {path: m}\ncameras:\n  - name: a\n    source: {type: folder, path: \"img/[a\"}\n", []wantErr{{5, "cameras[0].source.path", "not a valid glob pattern"}}},
		{"gpio without pin", minimal + "    trigger: {type: gpio}\n", []wantErr{{8, "cameras[0].trigger.pin", "missing: a GPIO pin name"}}},

		// Cameras.
		{"bad camera name", "version: 1\nmodel: {path: m}\ncameras:\n  - name: Cam/0\n    source: {type: pattern}\n", []wantErr{{4, "cameras[0].name", `"Cam/0" is not a valid camera name`}}},
		{"reserved camera name", "version: 1\nmodel: {path: m}\ncameras:\n  - name: stats\n    source: {type: pattern}\n", []wantErr{{4, "cameras[0].name", `"stats" is reserved`}}},
		{"duplicate camera name", minimal + "  - name: cam0\n    source: {type: pattern}\n", []wantErr{{8, "cameras[1].name", `"cam0" is already the name of cameras[0]`}}},
		{"v4l2 ranges", "version: 1\nmodel: {path: m}\ncameras:\n  - name: a\n    source:\n      type: v4l2\n      formats: [yuyv, h264, yuyv]\n      buffers: 64\n",
			[]wantErr{{7, "cameras[0].source.formats[1]", `"h264" is not one of yuyv, mjpeg, nv12, grey`}, {7, "cameras[0].source.formats[2]", "yuyv is listed twice"}, {8, "cameras[0].source.buffers", "64 is more than 32"}}},
		{"roi outside the frame", minimal + "      width: 320\n    roi: {x: 100, width: 300}\n", []wantErr{{9, "cameras[0].roi", "x 100 + width 300 is outside the 320x480 frame"}}},
		{"negative roi", minimal + "    roi: {y: -1}\n", []wantErr{{8, "cameras[0].roi.y", "-1 is negative"}}},
		{"mqtt trigger without mqtt", minimal + "    trigger: {type: mqtt}\nmqtt: {enabled: false}\nstdout: {enabled: true}\n", []wantErr{{8, "cameras[0].trigger.type", "mqtt triggers need mqtt.enabled: true"}}},
		{"bad frame count", minimal + "    trigger: {frames: 0}\n", []wantErr{{8, "cameras[0].trigger.frames", "0 is not positive"}}},

		// Actuators.
		{"actuator without label", minimal + "actuators:\n  - pin: GPIO27\n", []wantErr{{9, "actuators[0].label", "missing"}}},
		{"actuator pin syntax", minimal + "actuators:\n  - {label: Lemon, pin: \"GPIO 27\"}\n", []wantErr{{9, "actuators[0].pin", `"GPIO 27" is not a GPIO pin name`}}},
		{"actuator on the trigger pin", minimal + "    trigger: {type: gpio, pin: GPIO17}\nactuators:\n  - {label: Lemon, pin: \"17\"}\n", []wantErr{{10, "actuators[0].pin", "17 is the input pin of cameras[0].trigger"}}},
		{"zero pulse", minimal + "actuators:\n  - {label: Lemon, pin: GPIO27, pulse: 0}\n", []wantErr{{9, "actuators[0].pulse", "0s is less than 1ms"}}},
		{"repeated actuator", minimal + "actuators:\n  - {label: Lemon, pin: GPIO27}\n  - {label: Lemon, pin: gpio27}\n", []wantErr{{10, "actuators[1]", "repeats actuators[0]"}}},

		// MQTT.
		{"broker without port", minimal + "mqtt:\n  broker: tcp://broker.local\n", []wantErr{{9, "mqtt.broker", "has no port"}}},
		{"broker scheme", minimal + "mqtt:\n  broker: http://broker.local:1883\n", []wantErr{{9, "mqtt.broker", `scheme "http" is not one of`}}},
		{"qos", minimal + "mqtt:\n  qos: 3\n", []wantErr{{9, "mqtt.qos", "3 is not 0, 1 or 2"}}},
		{"clear text to the network", minimal + "mqtt:\n  broker: tcp://10.0.0.5:1883\n", []wantErr{{9, "mqtt.broker", "tcp://10.0.0.5:1883 is not encrypted and not on this machine"}}},
		{"clear text over websockets", minimal + "mqtt:\n  broker: ws://broker.local:9001/mqtt\n", []wantErr{{9, "mqtt.broker", "use ssl://broker.local:8883 with mqtt.tls.ca, or set mqtt.insecure: true"}}},
		{"tls files without tls", minimal + "mqtt:\n  broker: tcp://127.0.0.1:1883\n  tls: {ca: ca.pem}\n", []wantErr{{10, "mqtt.tls", "not a TLS URL"}}},
		{"metrics on the network", minimal + "http:\n  enabled: true\n  listen: 0.0.0.0:9464\n", []wantErr{{10, "http.listen", "reachable from the network and /metrics has no authentication"}}},
		{"metrics address", minimal + "http:\n  enabled: true\n  listen: 9464\n", []wantErr{{10, "http.listen", "is not an address"}}},
		{"client cert without key", minimal + "mqtt:\n  broker: ssl://broker.local:8883\n  tls: {cert: client.pem}\n", []wantErr{{10, "mqtt.tls", "cert and key come together"}}},
		{"prefix wildcard", minimal + "mqtt:\n  prefix: plant/#\n", []wantErr{{9, "mqtt.prefix", "not a topic prefix"}}},
		{"keepalive too long", minimal + "mqtt:\n  keepalive: 24h\n", []wantErr{{9, "mqtt.keepalive", "more than MQTT's limit"}}},
		{"two password sources", minimal + "mqtt:\n  username: u\n  password_file: p\n  password_env: P\n", []wantErr{{11, "mqtt.password_env", "not both"}}},
		{"password without user", minimal + "mqtt:\n  password_env: P\n", []wantErr{{8, "mqtt.username", "without a username"}}},
		{"bad password variable", minimal + "mqtt:\n  username: u\n  password_env: my-pass\n", []wantErr{{10, "mqtt.password_env", `"my-pass" is not an environment variable name`}}},
		{"embedded listen", minimal + "mqtt:\n  embedded:\n    enabled: true\n    listen: localhost\n    users: [{username: u, password_env: P}]\n", []wantErr{{11, "mqtt.embedded.listen", `"localhost" is not an address`}}},
		{"embedded without users", minimal + "mqtt:\n  embedded: {enabled: true}\n", []wantErr{{9, "mqtt.embedded.users", "admits no anonymous clients"}}},
		{"user without password", minimal + "mqtt:\n  embedded:\n    enabled: true\n    users:\n      - username: u\n", []wantErr{{12, "mqtt.embedded.users[0]", `missing password_file or password_env for user "u"`}}},
		{"duplicate user", minimal + "mqtt:\n  embedded:\n    enabled: true\n    users:\n      - {username: u, password_env: P}\n      - {username: u, password_env: Q}\n",
			[]wantErr{{13, "mqtt.embedded.users[1].username", `"u" is already mqtt.embedded.users[0]`}}},
		{"nothing receives results", minimal + "mqtt:\n  enabled: false\n", []wantErr{{0, "", "nothing receives the results"}}},

		// Device.
		{"bad device id", minimal + "device:\n  id: my device\n", []wantErr{{9, "device.id", `"my device" is not a valid device id`}}},
		{"reserved device id", minimal + "device:\n  id: fleet\n", []wantErr{{9, "device.id", "reserved"}}},

		// Several problems at once, in line order.
		{"all at once", "version: 1\nmodel:\n  backend: gpu\n  treads: 2\ncameras:\n  - name: A\n    source: {type: v4l2, fps: 0}\n",
			[]wantErr{{2, "model.path", "missing"}, {3, "model.backend", "gpu"}, {4, "model.treads", "did you mean threads?"}, {6, "cameras[0].name", "not a valid camera name"}, {7, "cameras[0].source.fps", "0 is not positive"}}},

		// Aliases cannot make a small file huge.
		{"alias bomb", aliasBomb, []wantErr{{3, "", "more than 20000 YAML nodes"}}},
		{"merge bomb", mergeBomb, []wantErr{{9, "", "more than 20000 YAML nodes"}}},
		{"too many errors", minimal + "actuators:\n" + strings.Repeat("  - {}\n", 30), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parse([]byte(tt.yaml), "t.yaml", lookupTest)
			if err == nil {
				t.Fatalf("parsed without error: %+v", c)
			}
			if tt.want == nil { // 30 actuators with 2 or 3 errors each
				var es Errors
				if !errors.As(err, &es) || len(es) != maxErrors+1 || !strings.HasPrefix(es[maxErrors].Msg, "and ") {
					t.Fatalf("got %d errors, want %d and a count of the rest:\n%v", len(es), maxErrors, err)
				}
				return
			}
			checkErrors(t, err, tt.want)
		})
	}
}

// modelWith is a valid config with one more key in model, on line 4.
func modelWith(kv string) string {
	return "version: 1\nmodel:\n  path: m\n  " + kv + "\ncameras: [{name: a, source: {type: pattern}}]\n"
}

// aliasBomb is a list of 200 aliases to a camera whose formats are a list
// of 200 entries: 40,000 nodes from a 3 KB file.
var aliasBomb = "version: 1\nmodel: {path: m}\ncameras: [&c {name: a, source: {type: v4l2, formats: [" +
	strings.Repeat("yuyv, ", 199) + "yuyv]}}" + strings.Repeat(", *c", 199) + "]\n"

// mergeBomb merges 4 anchors 8 levels deep: 4^8 = 65,536 merges.
var mergeBomb = func() string {
	s := "version: 1\nmodel: {path: m}\ncameras: [{name: a, source: {type: pattern}}]\nlog:\n  x0: &m0 {level: info}\n"
	for i := 1; i <= 8; i++ {
		s += fmt.Sprintf("  x%d: &m%d {<<: [*m%d, *m%d, *m%d, *m%d]}\n", i, i, i-1, i-1, i-1, i-1)
	}
	return s + "pipeline: {<<: *m8}\n"
}()

// TestParseDefaults checks that a minimal file gets every default, with
// the fields that do not apply to its types cleared.
func TestParseDefaults(t *testing.T) {
	c, err := parse([]byte(minimal), "t.yaml", lookupTest)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	cam := DefaultCamera()
	cam.Name = "cam0"
	cam.Source = Source{Type: SourcePattern, Width: 640, Height: 480}
	cam.Trigger = Trigger{Type: TriggerContinuous, Frames: 1}
	want.Model.Path = "m.tflite"
	want.Cameras = []Camera{cam}
	c.src = nil
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Parse(minimal) =\n%+v\nwant\n%+v", c, want)
	}
}

// TestParseValues checks substitution, durations, nulls, anchors and
// merge keys.
func TestParseValues(t *testing.T) {
	const text = `version: 1
model:
  path: ${DIR}/m.tflite     # ${UNSET} in a comment is not substituted
  labels: ~                 # null: the default
  backend: ${BACKEND:-tflite}
  top: 3
  normalize: '$$x'
infer:
  batch: {size: 8, timeout: 1m30s}
cameras:
  - name: top
    source:
      <<: &common {type: v4l2, formats: [mjpeg]}
      fps: ${FPS}
    trigger:
      type: gpio
      pin: GPIO17
      edge: both
      debounce: 0
  - name: side
    source: {<<: *common, formats: [yuyv, grey], device: /dev/video2}
    trigger: {type: interval, interval: 2.5s, frames: 3, frame_interval: 40ms}
`
	_, err := parse([]byte(text), "t.yaml", lookupTest)
	checkErrors(t, err, []wantErr{{7, "model.normalize", `"$x" is not one of`}})
	c, err := parse([]byte(strings.Replace(text, "  normalize: '$$x'\n", "", 1)), "t.yaml", lookupTest)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"model.path", c.Model.Path, "/data/m.tflite"},
		{"model.labels", c.Model.Labels, ""},
		{"model.backend", c.Model.Backend, "tflite"},
		{"model.top", c.Model.Top, 3},
		{"infer.batch", c.Infer.Batch, Batch{Size: 8, Timeout: 90 * time.Second}},
		{"top source", c.Cameras[0].Source, Source{Type: SourceV4L2, Device: "/dev/video0", Formats: []string{"mjpeg"}, Width: 640, Height: 480, FPS: 15, Buffers: 4, Timeout: 2 * time.Second}},
		{"top trigger", c.Cameras[0].Trigger, Trigger{Type: TriggerGPIO, Pin: "GPIO17", Edge: EdgeBoth, Frames: 1}},
		{"side source", c.Cameras[1].Source, Source{Type: SourceV4L2, Device: "/dev/video2", Formats: []string{"yuyv", "grey"}, Width: 640, Height: 480, FPS: 30, Buffers: 4, Timeout: 2 * time.Second}},
		{"side trigger", c.Cameras[1].Trigger, Trigger{Type: TriggerInterval, Interval: 2500 * time.Millisecond, Frames: 3, FrameInterval: 40 * time.Millisecond}},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %+v, want %+v", ck.name, ck.got, ck.want)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "configs/pi.yaml", Line: 12, Key: "infer.batch.size", Msg: "-1 is not positive"}, "configs/pi.yaml:12: infer.batch.size: -1 is not positive"},
		{Error{File: "pi.yaml", Key: "cameras", Msg: "missing"}, "pi.yaml: cameras: missing"},
		{Error{Key: "infer.workers", Msg: "0 is not positive"}, "config: infer.workers: 0 is not positive"},
		{Error{File: "x.yaml", Line: 3, Msg: "invalid YAML: oops"}, "x.yaml:3: invalid YAML: oops"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// TestValidateInCode checks a config built in code: errors without file
// or line, and a valid one.
func TestValidateInCode(t *testing.T) {
	c := Default()
	c.Model.Path = "m.tflite"
	cam := DefaultCamera()
	cam.Name = "cam0"
	cam.Source.Type = SourceV4L2
	c.Cameras = append(c.Cameras, cam)
	if err := c.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	c.Infer.Workers = 0
	err := c.Validate()
	if err == nil || err.Error() != "config: infer.workers: 0 is not positive" {
		t.Errorf("Validate() = %v, want config: infer.workers: 0 is not positive", err)
	}
}

// TestMarshalRoundTrip checks that the effective config reads back equal.
func TestMarshalRoundTrip(t *testing.T) {
	c, err := parse([]byte(minimal+"    trigger: {type: gpio, pin: GPIO4}\nactuators:\n  - {label: \"yes\", pin: \"27\", delay: 1.5s}\nmqtt:\n  client_id: \"123\"\n"), "t.yaml", lookupTest)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c)
}

func roundTrip(t *testing.T, c *Config) {
	t.Helper()
	out, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := parse(out, "marshalled.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("reading back the marshalled config: %v\n%s", err, out)
	}
	a, b := *c, *back
	a.src, b.src = nil, nil
	if !reflect.DeepEqual(a, b) {
		t.Errorf("round trip changed the config:\n%+v\nbecame\n%+v\nthrough\n%s", a, b, out)
	}
}

// TestTransportAllowed: encrypted or local brokers, and clear text where
// the config says the network is trusted, are accepted.
func TestTransportAllowed(t *testing.T) {
	for _, mqtt := range []string{
		"  broker: ssl://broker.local:8883\n  tls: {ca: ca.pem, cert: c.pem, key: k.pem, server_name: broker}\n",
		"  broker: wss://broker.local/mqtt\n",
		"  broker: tcp://localhost:1883\n",
		"  broker: tcp://[::1]:1883\n",
		"  broker: tcp://10.0.0.5:1883\n  insecure: true\n",
	} {
		if _, err := Parse([]byte(minimal+"mqtt:\n"+mqtt), "t.yaml"); err != nil {
			t.Errorf("%s: %v", mqtt, err)
		}
	}
}
