package config

import (
	"github.com/fruitcam/fruitcam/infer/delegate"

	"fmt"
	"math"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits that catch typos (a batch of 800 on a Pi) rather than encode
// hardware facts. V4L2 allows at most 32 buffers (VIDEO_MAX_FRAME).
const (
	maxThreads   = 256
	maxWorkers   = 64
	maxBatch     = 1024
	maxQueue     = 1 << 16
	maxBuffers   = 32
	maxFrameSide = 16384
	maxItemFrame = 1000
	maxNameLen   = 64
)

// reservedNames are topic levels the agent uses beside its cameras
// (fruitcam/<device>/status, .../stats, .../cmd/..., .../config/...) and
// beside its devices (fruitcam/fleet/...); a camera of that name would
// share topics with them.
var reservedNames = []string{"status", "stats", "cmd", "config", "fleet"}

// Validate checks everything that can be checked without the host: types
// and ranges, enumerations, required keys per source and trigger type,
// names used in MQTT topics, addresses, and consistency between sections
// (a GPIO pin used as trigger and actuator, an MQTT trigger with MQTT
// off). Parse and Load call it; call it again after changing a Config in
// code. Whether the files and devices a config names exist on this host is
// CheckHost's job.
//
// The error is an Errors holding every problem, located at lines when the
// config was parsed from a file.
func (c *Config) Validate() error {
	return c.validate().err()
}

type validator struct {
	c    *Config
	errs Errors
}

func (v *validator) errorf(key, format string, args ...any) {
	v.errs = append(v.errs, v.c.Errorf(key, format, args...))
}

func (v *validator) oneOf(key, val string) {
	allowed := enums[enumKey(key)]
	if slices.Contains(allowed, val) {
		return
	}
	var names []string
	for _, a := range allowed {
		if a != "" {
			names = append(names, a)
		}
	}
	if val == "" {
		v.errorf(key, "missing: one of %s", strings.Join(names, ", "))
		return
	}
	v.errorf(key, "%q is not one of %s", val, strings.Join(names, ", "))
}

func (v *validator) positive(key string, n, max int) {
	switch {
	case n <= 0:
		v.errorf(key, "%d is not positive", n)
	case n > max:
		v.errorf(key, "%d is more than %d", n, max)
	}
}

func (v *validator) nonNegative(key string, n int) {
	if n < 0 {
		v.errorf(key, "%d is negative", n)
	}
}

func (v *validator) durationAtLeast(key string, d, min time.Duration) {
	if d < min {
		if min == 0 {
			v.errorf(key, "%v is negative", d)
		} else {
			v.errorf(key, "%v is less than %v", d, min)
		}
	}
}

func (v *validator) rate(key string, f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		v.errorf(key, "%v is not a frame rate (a number >= 0; 0 means no limit)", f)
	}
}

func (c *Config) validate() Errors {
	v := &validator{c: c}
	if c.Version != Version {
		v.errorf("version", "%d is not supported: this agent reads version %d", c.Version, Version)
	}
	if c.Device.ID != "" && !validTopicLevel(c.Device.ID) {
		v.errorf("device.id", "%q is not a valid device id: up to %d letters, digits, '.', '_' or '-' (it is an MQTT topic level)", c.Device.ID, maxNameLen)
	} else if c.Device.ID == "fleet" {
		v.errorf("device.id", "%q is reserved: topics %s/fleet/... are the fleet's", c.Device.ID, c.MQTT.Prefix)
	}
	if c.Device.Group != "" && !validTopicLevel(c.Device.Group) {
		v.errorf("device.group", "%q is not a valid group name: up to %d letters, digits, '.', '_' or '-' (it is an MQTT topic level)", c.Device.Group, maxNameLen)
	}
	v.model()
	v.positive("infer.workers", c.Infer.Workers, maxWorkers)
	v.positive("infer.batch.size", c.Infer.Batch.Size, maxBatch)
	v.durationAtLeast("infer.batch.timeout", c.Infer.Batch.Timeout, 0)
	v.cameras()
	v.positive("pipeline.queue", c.Pipeline.Queue, maxQueue)
	v.oneOf("pipeline.aggregate", c.Pipeline.Aggregate)
	if t := c.Pipeline.Threshold; !(t >= 0 && t <= 1) {
		v.errorf("pipeline.threshold", "%v is not between 0 and 1", t)
	}
	if strings.TrimSpace(c.Pipeline.UnknownLabel) == "" {
		v.errorf("pipeline.unknown_label", "missing: the label of results below the threshold")
	}
	v.actuators()
	v.mqtt()
	if !c.MQTT.Enabled && !c.Stdout.Enabled && len(c.Actuators) == 0 {
		v.errorf("", "nothing receives the results: enable mqtt or stdout, or add actuators")
	}
	v.http()
	v.durationAtLeast("signing.window", c.Signing.Window, time.Second)
	v.fleet()
	v.oneOf("log.level", c.Log.Level)
	v.oneOf("log.format", c.Log.Format)
	return v.errs
}

func (v *validator) model() {
	m := &v.c.Model
	if m.Path == "" {
		v.errorf("model.path", "missing: the .tflite model file")
	}
	v.oneOf("model.backend", m.Backend)
	v.positive("model.threads", m.Threads, maxThreads)
	v.oneOf("model.normalize", m.Normalize)
	v.oneOf("model.resize", m.Resize)
	v.oneOf("model.fit", m.Fit)
	v.oneOf("model.color", m.Color)
	if m.Top < 1 {
		v.errorf("model.top", "%d is not positive", m.Top)
	}
	if _, err := delegate.EdgeTPUOptions(m.EdgeTPU.Device); err != nil {
		v.errorf("model.edgetpu.device", "%q: use usb, usb:N, pci, pci:N, :N (the N-th TPU of any kind, from 0) or leave it empty for any", m.EdgeTPU.Device)
	}
	v.reference("model.path", m.Path, "model.sha256", m.SHA256)
	v.reference("model.labels", m.Labels, "model.labels_sha256", m.LabelsSHA256)
	v.durationAtLeast("model.edgetpu.watchdog", m.EdgeTPU.Watchdog, 0)
	v.durationAtLeast("model.edgetpu.retry", m.EdgeTPU.Retry, 0)
}

func (v *validator) cameras() {
	if len(v.c.Cameras) == 0 {
		v.errorf("cameras", "missing: at least one camera (a v4l2, folder or pattern source)")
		return
	}
	names := map[string]int{}
	for i := range v.c.Cameras {
		cam := &v.c.Cameras[i]
		key := fmt.Sprintf("cameras[%d]", i)
		switch {
		case cam.Name == "":
			v.errorf(key+".name", "missing: a name such as cam0 (used in MQTT topics)")
		case !validCameraName(cam.Name):
			v.errorf(key+".name", "%q is not a valid camera name: up to %d lower-case letters, digits, '_' or '-'", cam.Name, maxNameLen)
		case slices.Contains(reservedNames, cam.Name):
			v.errorf(key+".name", "%q is reserved: the agent publishes %s/<device>/%s itself", cam.Name, v.c.MQTT.Prefix, cam.Name)
		default:
			if j, dup := names[cam.Name]; dup {
				v.errorf(key+".name", "%q is already the name of cameras[%d]", cam.Name, j)
			}
			names[cam.Name] = i
		}
		v.source(key+".source", &cam.Source)
		v.roi(key, cam)
		v.trigger(key+".trigger", &cam.Trigger)
	}
}

func (v *validator) source(key string, s *Source) {
	v.oneOf(key+".type", s.Type)
	switch s.Type {
	case SourceV4L2:
		if s.Device == "" {
			v.errorf(key+".device", "missing: the camera's device, such as /dev/video0")
		}
		if len(s.Formats) == 0 {
			v.errorf(key+".formats", "missing: the pixel formats to ask for, in order of preference")
		}
		seen := map[string]bool{}
		for j, f := range s.Formats {
			fk := fmt.Sprintf("%s.formats[%d]", key, j)
			v.oneOf(fk, f)
			if seen[f] {
				v.errorf(fk, "%s is listed twice", f)
			}
			seen[f] = true
		}
		v.positive(key+".width", s.Width, maxFrameSide)
		v.positive(key+".height", s.Height, maxFrameSide)
		v.positive(key+".fps", s.FPS, 1000)
		v.positive(key+".buffers", s.Buffers, maxBuffers)
		v.durationAtLeast(key+".timeout", s.Timeout, time.Millisecond)
	case SourceFolder:
		if s.Path == "" {
			v.errorf(key+".path", "missing: a directory of images, or a glob such as images/*.jpg")
		} else if _, err := filepath.Match(s.Path, ""); err != nil {
			v.errorf(key+".path", "%q is not a valid glob pattern", s.Path)
		}
		v.rate(key+".rate", s.Rate)
	case SourcePattern:
		v.positive(key+".width", s.Width, maxFrameSide)
		v.positive(key+".height", s.Height, maxFrameSide)
		v.rate(key+".rate", s.Rate)
	}
}

// roi checks the region of interest, against the frame size when the
// source has one (a V4L2 driver may still choose another size; the agent
// checks again once it knows).
func (v *validator) roi(key string, cam *Camera) {
	r := cam.ROI
	v.nonNegative(key+".roi.x", r.X)
	v.nonNegative(key+".roi.y", r.Y)
	v.nonNegative(key+".roi.width", r.Width)
	v.nonNegative(key+".roi.height", r.Height)
	w, h := cam.Source.Width, cam.Source.Height
	if cam.Source.Type == SourceFolder || w <= 0 || h <= 0 {
		return
	}
	if r.X >= w || r.X+r.Width > w {
		v.errorf(key+".roi", "x %d + width %d is outside the %dx%d frame", r.X, r.Width, w, h)
	}
	if r.Y >= h || r.Y+r.Height > h {
		v.errorf(key+".roi", "y %d + height %d is outside the %dx%d frame", r.Y, r.Height, w, h)
	}
}

func (v *validator) trigger(key string, t *Trigger) {
	v.oneOf(key+".type", t.Type)
	switch t.Type {
	case TriggerContinuous:
		v.rate(key+".fps", t.FPS)
	case TriggerInterval:
		v.durationAtLeast(key+".interval", t.Interval, time.Millisecond)
	case TriggerGPIO:
		v.pin(key+".pin", t.Pin)
		v.oneOf(key+".edge", t.Edge)
		v.durationAtLeast(key+".debounce", t.Debounce, 0)
	case TriggerMQTT:
		if !v.c.MQTT.Enabled {
			v.errorf(key+".type", "mqtt triggers need mqtt.enabled: true (the command arrives over MQTT)")
		}
	}
	v.positive(key+".frames", t.Frames, maxItemFrame)
	v.durationAtLeast(key+".frame_interval", t.FrameInterval, 0)
}

// pin checks the syntax of a GPIO pin name as periph.io's gpioreg knows
// them ("GPIO17", "17", "P1_11"); whether the board has it is known only
// on the board.
func (v *validator) pin(key, p string) {
	if p == "" {
		v.errorf(key, "missing: a GPIO pin name such as GPIO17")
		return
	}
	for _, r := range p {
		if !(r == '_' || r == '-' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			v.errorf(key, "%q is not a GPIO pin name (such as GPIO17, 17 or P1_11)", p)
			return
		}
	}
}

// pinID normalises a pin name for comparisons: "gpio17", "GPIO17" and
// "17" are the same pin.
func pinID(p string) string {
	p = strings.ToUpper(p)
	if n, ok := strings.CutPrefix(p, "GPIO"); ok {
		if _, err := strconv.Atoi(n); err == nil {
			return n
		}
	}
	return p
}

func (v *validator) actuators() {
	inputs := map[string]string{} // pin -> the trigger using it
	for i, cam := range v.c.Cameras {
		if cam.Trigger.Type == TriggerGPIO && cam.Trigger.Pin != "" {
			inputs[pinID(cam.Trigger.Pin)] = fmt.Sprintf("cameras[%d].trigger", i)
		}
	}
	seen := map[[2]string]int{}
	for i, a := range v.c.Actuators {
		key := fmt.Sprintf("actuators[%d]", i)
		if strings.TrimSpace(a.Label) == "" {
			v.errorf(key+".label", "missing: the label whose items the actuator acts on")
		}
		v.pin(key+".pin", a.Pin)
		if trig, ok := inputs[pinID(a.Pin)]; ok && a.Pin != "" {
			v.errorf(key+".pin", "%s is the input pin of %s; an actuator needs its own output pin", a.Pin, trig)
		}
		id := [2]string{a.Label, pinID(a.Pin)}
		if j, dup := seen[id]; dup {
			v.errorf(key, "repeats actuators[%d] (same label and pin)", j)
		}
		seen[id] = i
		v.durationAtLeast(key+".delay", a.Delay, 0)
		v.durationAtLeast(key+".pulse", a.Pulse, time.Millisecond)
	}
}

// brokerSchemes are the URL schemes paho.mqtt.golang dials.
var brokerSchemes = []string{"tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss"}

func (v *validator) mqtt() {
	m := &v.c.MQTT
	if m.Enabled {
		urlOK := v.brokerURL("mqtt.broker", m.Broker)
		if m.QoS < 0 || m.QoS > 2 {
			v.errorf("mqtt.qos", "%d is not 0, 1 or 2", m.QoS)
		}
		if !validPrefix(m.Prefix) {
			v.errorf("mqtt.prefix", "%q is not a topic prefix: one or more levels separated by '/', without + or #", m.Prefix)
		}
		if len(m.ClientID) > 65535 || strings.ContainsRune(m.ClientID, 0) {
			v.errorf("mqtt.client_id", "not a valid MQTT client id")
		}
		v.password("mqtt", m.Username, m.PasswordFile, m.PasswordEnv, false)
		// MQTT keep-alive is a 16-bit number of seconds.
		v.durationAtLeast("mqtt.keepalive", m.Keepalive, time.Second)
		if m.Keepalive > 65535*time.Second {
			v.errorf("mqtt.keepalive", "%v is more than MQTT's limit of 65535s", m.Keepalive)
		}
		v.durationAtLeast("mqtt.stats_interval", m.StatsInterval, 0)
		if urlOK {
			v.transport(m)
		}
		if m.Spool.MaxBytes < 1<<20 {
			v.errorf("mqtt.spool.max_bytes", "%d is less than 1 MiB (1048576)", m.Spool.MaxBytes)
		}
		v.nonNegative("mqtt.spool.max_records", m.Spool.MaxRecords)
		v.durationAtLeast("mqtt.spool.sync_every", m.Spool.SyncEvery, 0)
		if m.HomeAssistant.Enabled && !validPrefix(m.HomeAssistant.Prefix) {
			v.errorf("mqtt.homeassistant.prefix", "%q is not a topic prefix: one or more levels separated by '/', without + or #", m.HomeAssistant.Prefix)
		}
	}
	e := &m.Embedded
	if !e.Enabled {
		return
	}
	if host, port, err := net.SplitHostPort(e.Listen); err != nil {
		v.errorf("mqtt.embedded.listen", "%q is not an address: write host:port, such as 127.0.0.1:1883 (or :1883 for every interface)", e.Listen)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		v.errorf("mqtt.embedded.listen", "%q: port %q is not a number from 0 to 65535 (0 picks a free port)", e.Listen, port)
	} else if host != "" && strings.ContainsAny(host, " /") {
		v.errorf("mqtt.embedded.listen", "%q: %q is not a host name or IP address", e.Listen, host)
	}
	if len(e.Users) == 0 {
		v.errorf("mqtt.embedded.users", "missing: the embedded broker admits no anonymous clients; add a user with password_file or password_env")
	}
	names := map[string]int{}
	for i, u := range e.Users {
		key := fmt.Sprintf("mqtt.embedded.users[%d]", i)
		if j, dup := names[u.Username]; dup && u.Username != "" {
			v.errorf(key+".username", "%q is already mqtt.embedded.users[%d]", u.Username, j)
		}
		names[u.Username] = i
		v.password(key, u.Username, u.PasswordFile, u.PasswordEnv, true)
	}
}

func (v *validator) brokerURL(key, s string) bool {
	u, err := url.Parse(s)
	if err != nil || s == "" {
		v.errorf(key, "%q is not a broker URL such as tcp://127.0.0.1:1883", s)
		return false
	}
	if !slices.Contains(brokerSchemes, u.Scheme) {
		v.errorf(key, "%q: scheme %q is not one of %s (write tcp://host:1883 or ssl://host:8883)", s, u.Scheme, strings.Join(brokerSchemes, ", "))
		return false
	}
	if u.Hostname() == "" {
		v.errorf(key, "%q has no host", s)
		return false
	}
	if u.Port() == "" && !strings.HasPrefix(u.Scheme, "ws") {
		v.errorf(key, "%q has no port (1883 for tcp, 8883 for ssl)", s)
		return false
	}
	return true
}

// http checks the metrics server's address: host:port, on loopback
// unless allow_remote says otherwise.
func (v *validator) http() {
	h := &v.c.HTTP
	if !h.Enabled {
		return
	}
	host, port, err := net.SplitHostPort(h.Listen)
	if err != nil {
		v.errorf("http.listen", "%q is not an address: write host:port, such as 127.0.0.1:9464", h.Listen)
		return
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		v.errorf("http.listen", "%q: port %q is not a number from 0 to 65535", h.Listen, port)
		return
	}
	if !h.AllowRemote && !loopback(host) {
		v.errorf("http.listen", "%q is reachable from the network and /metrics has no authentication: listen on 127.0.0.1, or set http.allow_remote: true (and firewall it)", h.Listen)
	}
}

// transport refuses to send passwords and results in clear text over a
// network unless the config says so, and TLS files without TLS.
func (v *validator) transport(m *MQTT) {
	if (m.TLS.Cert == "") != (m.TLS.Key == "") {
		v.errorf("mqtt.tls", "cert and key come together: give both files of the client certificate, or neither")
	}
	u, err := url.Parse(m.Broker)
	if err != nil || m.Embedded.Enabled {
		return // reported by brokerURL; the embedded broker is reached on this machine
	}
	secure := slices.Contains([]string{"ssl", "tls", "mqtts", "wss"}, u.Scheme)
	switch {
	case !secure && m.TLS.Set():
		v.errorf("mqtt.tls", "the broker %s is not a TLS URL: write ssl://host:8883 (or wss://) to use these files", m.Broker)
	case !secure && !m.Insecure && !loopback(u.Hostname()):
		v.errorf("mqtt.broker", "%s is not encrypted and not on this machine: passwords and results would cross the network in clear text; use ssl://%s:8883 with mqtt.tls.ca, or set mqtt.insecure: true on a network you trust", m.Broker, u.Hostname())
	}
}

// loopback reports whether host names this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// password checks a username and its password source: at most one of
// file and env, and a password only with a username. required: a password
// source is needed.
func (v *validator) password(key, user, file, env string, required bool) {
	switch {
	case required && user == "":
		v.errorf(key+".username", "missing")
	case file != "" && env != "":
		v.errorf(key+".password_env", "give password_file or password_env, not both")
	case user == "" && (file != "" || env != ""):
		v.errorf(key+".username", "missing: a password is given without a username")
	case required && file == "" && env == "":
		v.errorf(key, "missing password_file or password_env for user %q", user)
	}
	if env != "" && !isVarName(env) {
		v.errorf(key+".password_env", "%q is not an environment variable name", env)
	}
}

// validTopicLevel reports whether s can be a device id or group: an MQTT
// topic level that needs no quoting anywhere (file names, logs, shells).
func validTopicLevel(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for _, r := range s {
		if !(r == '.' || r == '_' || r == '-' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	return true
}

func validCameraName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z') {
			return false
		}
	}
	return true
}

// validPrefix reports whether p is a topic prefix: levels without
// wildcards, no empty level, not starting with $ (reserved for brokers).
func validPrefix(p string) bool {
	if p == "" || strings.HasPrefix(p, "$") || strings.ContainsAny(p, "+#\x00") {
		return false
	}
	for _, level := range strings.Split(p, "/") {
		if level == "" {
			return false
		}
	}
	return true
}
