package config

import (
	"log/slog"
	"time"
)

// Version is the config schema version this agent reads. A file declares it
// with "version: 1"; a file for another version is rejected rather than
// half-understood.
const Version = 1

// Config is the whole agent configuration: one file, one struct. The yaml
// tags are the keys of the file; a field tagged `only:"a,b"` applies only
// when the enclosing struct's type is a or b (the decoder rejects it
// otherwise and leaves it zero). See the package documentation for every
// key's default and meaning.
type Config struct {
	Version   int        `yaml:"version"`
	Device    Device     `yaml:"device"`
	Model     Model      `yaml:"model"`
	Infer     Infer      `yaml:"infer"`
	Cameras   []Camera   `yaml:"cameras"`
	Pipeline  Pipeline   `yaml:"pipeline"`
	Actuators []Actuator `yaml:"actuators"`
	MQTT      MQTT       `yaml:"mqtt"`
	Stdout    Stdout     `yaml:"stdout"`
	HTTP      HTTP       `yaml:"http"`
	Signing   Signing    `yaml:"signing"`
	Fleet     Fleet      `yaml:"fleet"`
	Log       Log        `yaml:"log"`

	// src records where the config came from (file name, the line of every
	// key), so that Validate and Errorf can point at lines. Nil for a
	// config built in code.
	src *origin
}

// Device identifies this agent in MQTT topics.
type Device struct {
	// ID is the device's topic level, stable across restarts. Empty means
	// "derive it": Resolve fills it from /etc/machine-id, else the host
	// name.
	ID string `yaml:"id"`
	// Group names the fleet group whose configs this device follows
	// (fruitcam/fleet/<group>/config). Empty: none.
	Group string `yaml:"group"`
}

// Model selects the model and how images are prepared for it. The
// preprocessing fields override the model's metadata; empty means "from
// the metadata, else package preprocess's default".
type Model struct {
	Path    string `yaml:"path"`
	Labels  string `yaml:"labels"`
	Backend string `yaml:"backend"`
	Threads int    `yaml:"threads"`
	// XNNPACK runs backend tflite (and a tflite fallback) through TFLite's
	// XNNPACK delegate.
	XNNPACK   bool   `yaml:"xnnpack"`
	Normalize string `yaml:"normalize"`
	Resize    string `yaml:"resize"`
	Fit       string `yaml:"fit"`
	Color     string `yaml:"color"`
	Top       int    `yaml:"top"`
	// CPUModel is the CPU .tflite of an Edge TPU model, run when the TPU
	// is missing or fails; empty: <name>.tflite beside <name>_edgetpu.tflite.
	CPUModel string  `yaml:"cpu_model"`
	EdgeTPU  EdgeTPU `yaml:"edgetpu"`
	// SHA256 is the model file's SHA-256 (hex): required when Path is a
	// URL (the agent fetches the file and refuses any other content),
	// checked at load when Path is a local file.
	SHA256 string `yaml:"sha256"`
	// LabelsSHA256 is the same for Labels.
	LabelsSHA256 string `yaml:"labels_sha256"`
}

// EdgeTPU configures the Coral Edge TPU (backends edgetpu and auto).
type EdgeTPU struct {
	// Device selects the TPU: "" (any), usb, usb:N, pci, pci:N, :N.
	Device string `yaml:"device"`
	// Watchdog is how long one inference may take before the TPU counts
	// as stalled and the CPU model takes over; 0: only errors count.
	Watchdog time.Duration `yaml:"watchdog"`
	// Retry is how often a failed TPU is tried again; 0: never.
	Retry time.Duration `yaml:"retry"`
}

// Infer sizes the inference stage.
type Infer struct {
	Workers int   `yaml:"workers"`
	Batch   Batch `yaml:"batch"`
}

// Batch is the micro-batching rule: a batch is flushed when it holds Size
// frames or Timeout after its first frame arrived, whichever comes first.
type Batch struct {
	Size    int           `yaml:"size"`
	Timeout time.Duration `yaml:"timeout"`
}

// Camera is one image source with its region of interest and trigger.
type Camera struct {
	// Name is the camera's MQTT topic level: [a-z0-9_-]+, unique.
	Name    string  `yaml:"name"`
	Source  Source  `yaml:"source"`
	ROI     ROI     `yaml:"roi"`
	Trigger Trigger `yaml:"trigger"`
}

// Source says where frames come from. Type selects which other fields
// apply.
type Source struct {
	Type    string        `yaml:"type"`
	Device  string        `yaml:"device" only:"v4l2"`
	Formats []string      `yaml:"formats" only:"v4l2"`
	Width   int           `yaml:"width" only:"v4l2,pattern"`
	Height  int           `yaml:"height" only:"v4l2,pattern"`
	FPS     int           `yaml:"fps" only:"v4l2"`
	Buffers int           `yaml:"buffers" only:"v4l2"`
	Timeout time.Duration `yaml:"timeout" only:"v4l2"`
	Path    string        `yaml:"path" only:"folder"`
	Rate    float64       `yaml:"rate" only:"folder,pattern"`
	Loop    bool          `yaml:"loop" only:"folder"`
}

// ROI is the region of interest (the belt) in frame pixels. A zero Width
// or Height means the whole frame in that direction.
type ROI struct {
	X      int `yaml:"x"`
	Y      int `yaml:"y"`
	Width  int `yaml:"width"`
	Height int `yaml:"height"`
}

// Trigger says when an item (one object on the conveyor) starts and how
// many frames it takes. Type selects which other fields apply; Frames and
// FrameInterval apply to every type.
type Trigger struct {
	Type          string        `yaml:"type"`
	FPS           float64       `yaml:"fps" only:"continuous"`
	Interval      time.Duration `yaml:"interval" only:"interval"`
	Pin           string        `yaml:"pin" only:"gpio"`
	Edge          string        `yaml:"edge" only:"gpio"`
	Debounce      time.Duration `yaml:"debounce" only:"gpio"`
	Frames        int           `yaml:"frames"`
	FrameInterval time.Duration `yaml:"frame_interval"`
}

// Pipeline configures queueing and how an item's frames become one result.
type Pipeline struct {
	Queue        int     `yaml:"queue"`
	Aggregate    string  `yaml:"aggregate"`
	Threshold    float64 `yaml:"threshold"`
	UnknownLabel string  `yaml:"unknown_label"`
}

// Actuator pulses a GPIO output when an item is classified as Label, Delay
// after the item was captured (the time the belt takes to carry it from
// the camera to the gate).
type Actuator struct {
	Label     string        `yaml:"label"`
	Pin       string        `yaml:"pin"`
	Delay     time.Duration `yaml:"delay"`
	Pulse     time.Duration `yaml:"pulse"`
	ActiveLow bool          `yaml:"active_low"`
}

// MQTT configures the publisher and, optionally, the embedded broker.
// Passwords never appear in the file: they are read from PasswordFile or
// from the environment variable PasswordEnv (see Password).
type MQTT struct {
	Enabled       bool          `yaml:"enabled"`
	Broker        string        `yaml:"broker"`
	ClientID      string        `yaml:"client_id"`
	Prefix        string        `yaml:"prefix"`
	QoS           int           `yaml:"qos"`
	Username      string        `yaml:"username"`
	PasswordFile  string        `yaml:"password_file"`
	PasswordEnv   string        `yaml:"password_env"`
	Keepalive     time.Duration `yaml:"keepalive"`
	Embedded      Embedded      `yaml:"embedded"`
	StatsInterval time.Duration `yaml:"stats_interval"`
	TLS           TLS           `yaml:"tls"`
	HomeAssistant HomeAssistant `yaml:"homeassistant"`
	Spool         Spool         `yaml:"spool"`
	// Insecure allows an unencrypted connection (tcp://, ws://) to a
	// broker that is not on this machine.
	Insecure bool `yaml:"insecure"`
}

// Spool is the disk queue results wait in until the broker has them.
type Spool struct {
	// Dir holds the queue; empty keeps results in memory (an agent
	// restart loses those waiting).
	Dir        string        `yaml:"dir"`
	MaxBytes   int           `yaml:"max_bytes"`
	MaxRecords int           `yaml:"max_records"`
	SyncEvery  time.Duration `yaml:"sync_every"`
}

// HomeAssistant turns on Home Assistant's MQTT discovery: the device and
// its sensors (label and score per camera, frames per second, status)
// appear in Home Assistant without configuration there.
type HomeAssistant struct {
	Enabled bool   `yaml:"enabled"`
	Prefix  string `yaml:"prefix"`
}

// TLS names the PEM files of an ssl://, mqtts://, tls:// or wss://
// broker connection.
type TLS struct {
	CA         string `yaml:"ca"`
	Cert       string `yaml:"cert"`
	Key        string `yaml:"key"`
	ServerName string `yaml:"server_name"`
}

// Set reports whether any TLS setting is given.
func (t TLS) Set() bool { return t != TLS{} }

// Embedded configures the broker the agent may run itself (mochi-mqtt),
// for a board without one and for the demo. Access needs one of Users.
type Embedded struct {
	Enabled bool   `yaml:"enabled"`
	Listen  string `yaml:"listen"`
	Users   []User `yaml:"users"`
}

// User is an account of the embedded broker.
type User struct {
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
	PasswordEnv  string `yaml:"password_env"`
}

// Signing says whose commands the agent obeys: those signed (ed25519) by
// one of TrustedKeys, within Window of the device's clock, once.
type Signing struct {
	TrustedKeys string        `yaml:"trusted_keys"`
	Window      time.Duration `yaml:"window"`
	// AllowUnsigned lets unsigned commands through from an external
	// broker when no keys are trusted (a trusted network). The embedded
	// broker, whose users are authenticated, always may.
	AllowUnsigned bool `yaml:"allow_unsigned"`
}

// Fleet makes the device follow fleet configs: signed configs published
// retained to its group (device.group) and to the device itself, merged
// onto this file, applied while it runs, and rolled back when they fail
// their health check. See fleet.go.
type Fleet struct {
	// Dir holds the fleet state: the good configs kept, the versions
	// seen, the models fetched. Empty: fleet configs are not followed.
	Dir string `yaml:"dir"`
	// Keep is how many good configs are kept for rollback.
	Keep int `yaml:"keep"`
	// HealthWindow is how long a new config must stay healthy before it
	// counts as good; a failure within it rolls back.
	HealthWindow time.Duration `yaml:"health_window"`
	// FetchTimeout bounds the download of a model named by URL.
	FetchTimeout time.Duration `yaml:"fetch_timeout"`
	// CA is the CA certificate (PEM) of an https:// model server with a
	// private CA; empty: the system's CAs.
	CA       string   `yaml:"ca"`
	SelfTest SelfTest `yaml:"selftest"`
}

// SelfTest is the check a new model must pass before it replaces the
// running one: it classifies Image (else a synthetic frame) and, when
// Label is set, must name it.
type SelfTest struct {
	Image string `yaml:"image"`
	Label string `yaml:"label"`
}

// HTTP configures the local HTTP server: Prometheus /metrics and
// /healthz.
type HTTP struct {
	Enabled bool   `yaml:"enabled"`
	Listen  string `yaml:"listen"`
	// AllowRemote permits a Listen address that is not loopback: the
	// server has no authentication.
	AllowRemote bool `yaml:"allow_remote"`
}

// Stdout configures the JSON-lines sink on standard output.
type Stdout struct {
	Enabled bool `yaml:"enabled"`
}

// Log configures the agent's log/slog output.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// SlogLevel returns the slog level Level names (info when it is empty).
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case LevelDebug:
		return slog.LevelDebug
	case LevelWarn:
		return slog.LevelWarn
	case LevelError:
		return slog.LevelError
	}
	return slog.LevelInfo
}

// The values of the enumerated keys.
const (
	BackendNative  = "native"
	BackendTFLite  = "tflite"
	BackendEdgeTPU = "edgetpu"
	BackendAuto    = "auto"

	SourceV4L2    = "v4l2"
	SourceFolder  = "folder"
	SourcePattern = "pattern"

	FormatYUYV  = "yuyv"
	FormatMJPEG = "mjpeg"
	FormatNV12  = "nv12"
	FormatGrey  = "grey"

	TriggerContinuous = "continuous"
	TriggerInterval   = "interval"
	TriggerGPIO       = "gpio"
	TriggerMQTT       = "mqtt"

	EdgeRising  = "rising"
	EdgeFalling = "falling"
	EdgeBoth    = "both"

	AggregateMean = "mean"
	AggregateVote = "vote"

	LevelDebug = "debug"
	LevelInfo  = "info"
	LevelWarn  = "warn"
	LevelError = "error"

	FormatText = "text"
	FormatJSON = "json"
)

// enums lists the allowed values of every enumerated key, by the key's
// path in the reference table ("[]" stands for any list index). Validate
// and the schema test both read it. The preprocessing names are the ones
// package preprocess parses ("" = from the model's metadata).
var enums = map[string][]string{
	"model.backend":              {BackendNative, BackendTFLite, BackendEdgeTPU, BackendAuto},
	"model.normalize":            {"", "unit", "symmetric", "caffe", "none"},
	"model.resize":               {"", "nearest", "bilinear", "area"},
	"model.fit":                  {"", "squash", "crop"},
	"model.color":                {"", "rgb", "bgr"},
	"cameras[].source.type":      {SourceV4L2, SourceFolder, SourcePattern},
	"cameras[].source.formats[]": {FormatYUYV, FormatMJPEG, FormatNV12, FormatGrey},
	"cameras[].trigger.type":     {TriggerContinuous, TriggerInterval, TriggerGPIO, TriggerMQTT},
	"cameras[].trigger.edge":     {EdgeRising, EdgeFalling, EdgeBoth},
	"pipeline.aggregate":         {AggregateMean, AggregateVote},
	"log.level":                  {LevelDebug, LevelInfo, LevelWarn, LevelError},
	"log.format":                 {FormatText, FormatJSON},
}
