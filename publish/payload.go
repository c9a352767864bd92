package publish

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// Schema is the version of the JSON payloads this package writes, in
// their "schema" field. Fields are only ever added within a version; a
// rename or removal would need a new version (see contract_test.go).
const Schema = 1

// TimeLayout is the layout of every "ts" field: RFC 3339 in UTC with
// exactly three fractional digits (milliseconds), e.g.
// "2025-11-29T09:41:07.123Z".
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Timestamp is a time written as TimeLayout. Decoding accepts any RFC 3339
// time and converts it to UTC.
type Timestamp struct{ time.Time }

// MarshalJSON writes t in UTC with millisecond precision (truncated).
func (t Timestamp) MarshalJSON() ([]byte, error) {
	u := t.UTC()
	if y := u.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("publish: timestamp year %d is outside RFC 3339's 0000-9999", y)
	}
	b := make([]byte, 0, len(TimeLayout)+2)
	b = append(b, '"')
	b = u.AppendFormat(b, TimeLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON reads an RFC 3339 string.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil // like encoding/json: null leaves the value alone
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("publish: ts: want an RFC 3339 string such as \"2025-11-29T09:41:07.123Z\": %w", err)
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("publish: ts %q: want RFC 3339 such as \"2025-11-29T09:41:07.123Z\": %w", s, err)
	}
	v = v.UTC()
	if y := v.Year(); y < 0 || y > 9999 {
		return fmt.Errorf("publish: ts %q is outside RFC 3339's years 0000-9999 in UTC", s)
	}
	t.Time = v
	return nil
}

// Class is one entry of a result's top-k list.
type Class struct {
	Label string  `json:"label"`
	Score float32 `json:"score"`
}

// Model identifies the model that produced a result.
type Model struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"` // hex of the model file's SHA-256
}

// Latency holds a result's latencies in milliseconds.
type Latency struct {
	CaptureToPublish float64 `json:"capture_to_publish"` // first frame captured -> payload built
	Inference        float64 `json:"inference"`          // model time attributed to the item
}

// Result is the payload of <prefix>/<device>/<camera>/result: one
// classified item (a trigger, possibly spanning several frames).
type Result struct {
	Schema    int       `json:"schema"`
	Seq       uint64    `json:"seq"` // per device, from 1, no gaps: a jump means lost results
	TS        Timestamp `json:"ts"`  // when the payload was built
	Device    string    `json:"device"`
	Camera    string    `json:"camera"`
	Item      uint64    `json:"item"`   // trigger id; the frames of one item share it
	Frames    int       `json:"frames"` // frames aggregated into this result
	Label     string    `json:"label"`  // top label, or the configured unknown label
	Score     float32   `json:"score"`
	Top       []Class   `json:"top"`
	Model     Model     `json:"model"`
	Backend   string    `json:"backend"`
	LatencyMS Latency   `json:"latency_ms"`
}

// FPS holds frame rates in frames per second over the last stats period.
type FPS struct {
	In        float64 `json:"in"`        // frames read from the cameras
	Processed float64 `json:"processed"` // frames classified
	Skipped   float64 `json:"skipped"`   // frames dropped by a full queue
}

// Percentiles holds inference times in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
}

// Health states, the values of Stats.Health.
const (
	HealthOK       = "ok"
	HealthDegraded = "degraded" // working, with errors or retries
	HealthDown     = "down"
)

// Stats is the payload of <prefix>/<device>/stats, published periodically.
type Stats struct {
	Schema       int               `json:"schema"`
	TS           Timestamp         `json:"ts"`
	Device       string            `json:"device"`
	UptimeS      int64             `json:"uptime_s"`
	FPS          FPS               `json:"fps"`
	QueueDepth   int               `json:"queue_depth"`
	InferenceMS  Percentiles       `json:"inference_ms"`
	Backend      string            `json:"backend"`
	Health       map[string]string `json:"health"`                  // component -> HealthOK, HealthDegraded, HealthDown
	TemperatureC *float64          `json:"temperature_c,omitempty"` // SoC temperature when readable
	EdgeTPU      *EdgeTPU          `json:"edgetpu,omitempty"`       // with backend edgetpu only
}

// EdgeTPU is the state of the Edge TPU and its watchdog: which backend
// runs the model and how often the TPU failed. Counts are since start,
// summed over the workers; State is the worst worker's.
type EdgeTPU struct {
	State     string     `json:"state"`  // ok, fallback (the CPU model runs), failed (nothing runs)
	Active    string     `json:"active"` // backend running now: edgetpu, native, tflite, or "" when failed
	Failures  int        `json:"failures"`
	Stalls    int        `json:"stalls"`
	Recovered int        `json:"recovered"`
	LastError string     `json:"last_error,omitempty"`
	Since     *Timestamp `json:"since,omitempty"` // when State last changed
}

// Meta holds what is the same in every payload of one agent run.
type Meta struct {
	Device  string
	Model   Model
	Backend string // "native", "tflite", "edgetpu"
}

// Item is one classified item in plain Go values (the pipeline's result,
// adapted by the caller).
type Item struct {
	Camera    string
	Seq       uint64
	ID        uint64 // trigger id
	Frames    int
	Label     string
	Score     float32
	Top       []Class   // copied by NewResult
	Captured  time.Time // capture time of the item's first frame; zero if unknown
	Inference time.Duration
}

// NewResult builds the Result payload of it at time now. Latencies are
// rounded to microseconds; capture_to_publish is now - it.Captured
// (0 when Captured is zero or after now).
func NewResult(m Meta, it Item, now time.Time) Result {
	var top []Class
	if it.Top != nil {
		top = append(make([]Class, 0, len(it.Top)), it.Top...)
	}
	var c2p time.Duration
	if !it.Captured.IsZero() {
		c2p = max(now.Sub(it.Captured), 0)
	}
	return Result{
		Schema:  Schema,
		Seq:     it.Seq,
		TS:      Timestamp{now},
		Device:  m.Device,
		Camera:  it.Camera,
		Item:    it.ID,
		Frames:  it.Frames,
		Label:   it.Label,
		Score:   it.Score,
		Top:     top,
		Model:   m.Model,
		Backend: m.Backend,
		LatencyMS: Latency{
			CaptureToPublish: millis(c2p),
			Inference:        millis(it.Inference),
		},
	}
}

// Counters are the agent's figures for one stats period in plain Go values.
type Counters struct {
	Uptime                       time.Duration
	FramesIn, Processed, Skipped float64 // frames per second
	QueueDepth                   int
	InferenceP50, InferenceP99   time.Duration
	Health                       map[string]string // copied by NewStats
	Temperature                  float64           // degrees Celsius, used when TemperatureOK
	TemperatureOK                bool
	EdgeTPU                      *EdgeTPU // copied by NewStats
}

// NewStats builds the Stats payload of c at time now. Rates are rounded to
// 0.01 frames per second, times to microseconds, uptime down to seconds.
func NewStats(m Meta, c Counters, now time.Time) Stats {
	health := make(map[string]string, len(c.Health))
	for k, v := range c.Health {
		health[k] = v
	}
	s := Stats{
		Schema:  Schema,
		TS:      Timestamp{now},
		Device:  m.Device,
		UptimeS: int64(c.Uptime / time.Second),
		FPS: FPS{
			In:        round(c.FramesIn, 100),
			Processed: round(c.Processed, 100),
			Skipped:   round(c.Skipped, 100),
		},
		QueueDepth:  c.QueueDepth,
		InferenceMS: Percentiles{P50: millis(c.InferenceP50), P99: millis(c.InferenceP99)},
		Backend:     m.Backend,
		Health:      health,
	}
	if c.TemperatureOK {
		t := round(c.Temperature, 10)
		s.TemperatureC = &t
	}
	if c.EdgeTPU != nil {
		e := *c.EdgeTPU
		s.EdgeTPU = &e
	}
	return s
}

// millis converts d to milliseconds rounded to microseconds.
func millis(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)/time.Microsecond) / 1e3
}

func round(x, scale float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return math.Round(x*scale) / scale
}

// Encode writes v (a payload of this package) as compact JSON without a
// trailing newline and without HTML escaping, as it goes on the wire.
func Encode(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := encodeTo(&b, v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

func encodeTo(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("publish: encode %T: %w", v, err)
	}
	return nil
}

// ErrSchema is wrapped by the decoders when a payload has no usable
// "schema" field.
var ErrSchema = errors.New("publish: payload has no \"schema\" of 1 or more; is it a fruitcam payload?")

// DecodeResult reads a Result payload. Unknown fields are ignored (later
// schema versions only add fields); a missing or zero schema is an error.
func DecodeResult(b []byte) (Result, error) {
	var r Result
	if err := decode(b, "result", &r.Schema, &r); err != nil {
		return Result{}, err
	}
	return r, nil
}

// DecodeStats reads a Stats payload, like DecodeResult.
func DecodeStats(b []byte) (Stats, error) {
	var s Stats
	if err := decode(b, "stats", &s.Schema, &s); err != nil {
		return Stats{}, err
	}
	return s, nil
}

func decode(b []byte, what string, schema *int, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("publish: %s payload: %w", what, err)
	}
	if *schema < 1 {
		return fmt.Errorf("publish: %s payload: %w", what, ErrSchema)
	}
	return nil
}
