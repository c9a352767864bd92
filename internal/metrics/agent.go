package metrics

import "sync"

// Health states of a component, as in the stats payload's "health" map
// (publish.HealthOK and the others).
const (
	HealthOK       = "ok"
	HealthDegraded = "degraded"
	HealthDown     = "down"
)

// healthStates are the states of fruitcam_health, best first.
var healthStates = []string{HealthOK, HealthDegraded, HealthDown}

// backendStates are the Edge TPU watchdog's states (infer.StateOK and
// the others); a CPU backend is always "ok".
var backendStates = []string{"ok", "fallback", "failed"}

// inferenceBuckets span an Edge TPU (2-10 ms) to a slow CPU model on a
// Pi (200 ms-1 s), in seconds, in 1-2-5 steps.
var inferenceBuckets = []float64{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2}

// latencyBuckets add to inference the queue, the frames an item waits for
// (frame_interval apart) and the broker: up to several seconds.
var latencyBuckets = []float64{0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10}

// AgentOptions say what the agent's fixed labels are.
type AgentOptions struct {
	Device  string // device.id, on fruitcam_agent_info
	Backend string // model.backend as configured, on fruitcam_agent_info
	// Cameras are the camera names: each gets its own camera counters.
	Cameras []string
	// Components are the health components, as in the stats payload
	// (camera:<name>, backend, mqtt, spool): each gets a fruitcam_health
	// state set.
	Components []string
}

// Agent is the agent's figures, the same as the stats payload's and a
// few more, under the names below. The fields are set by the agent:
// counters that mirror counts kept elsewhere (pipeline.Stats, the Edge
// TPU watchdogs, capture.Health) with Set in an OnScrape function, the
// histograms with ObserveDuration as each result is published.
type Agent struct {
	FramesIn         *Counter // fruitcam_frames_in_total: frames read from the cameras
	FramesProcessed  *Counter // fruitcam_frames_processed_total: frames classified
	FramesSkipped    *Counter // fruitcam_frames_skipped_total: dropped by a full queue, or late
	FramesFailed     *Counter // fruitcam_frames_failed_total: their inference returned an error
	ResultsPublished *Counter // fruitcam_results_published_total: results the broker acknowledged (or the sinks took)
	ResultsDropped   *Counter // fruitcam_results_dropped_total: results that never reached a sink
	MQTTReconnects   *Counter // fruitcam_mqtt_reconnects_total
	EdgeTPUFailures  *Counter // fruitcam_edgetpu_failures_total: errors and stalls
	EdgeTPUStalls    *Counter // fruitcam_edgetpu_stalls_total: of which stalls
	EdgeTPURecovered *Counter // fruitcam_edgetpu_recoveries_total: times the TPU took over again
	SpoolEvictions   *Counter // fruitcam_spool_evictions_total: results evicted, oldest first, from a full spool

	QueueDepth   *Gauge // fruitcam_queue_depth: frames and results waiting
	SpoolDepth   *Gauge // fruitcam_spool_messages: results in the disk queue
	SpoolBytes   *Gauge // fruitcam_spool_bytes: its size on disk
	FPSIn        *Gauge // fruitcam_frames_per_second{frames="in"}
	FPSProcessed *Gauge // fruitcam_frames_per_second{frames="processed"}
	FPSSkipped   *Gauge // fruitcam_frames_per_second{frames="skipped"}
	Uptime       *Gauge // fruitcam_uptime_seconds
	Temperature  *Gauge // fruitcam_temperature_celsius: absent until Set (unreadable)

	BackendState *StateSet // fruitcam_backend_state{state="ok"|"fallback"|"failed"}

	Inference        *Histogram // fruitcam_inference_seconds: model time per frame
	CaptureToPublish *Histogram // fruitcam_capture_to_publish_seconds: first frame captured -> result built

	reg *Registry
	// mu guards cameras and health, which AddCamera extends while scrapes
	// read them. It is never held while the registry's lock is taken.
	mu      sync.Mutex
	cameras map[string]CameraFigures
	health  map[string]*StateSet
}

// CameraFigures are one camera's counters, mirrored from capture.Health
// (V4L2 cameras; they stay 0 for the others).
type CameraFigures struct {
	Reopens   *Counter // fruitcam_camera_reopens_total: successful reopens after a failure
	BadFrames *Counter // fruitcam_camera_bad_frames_total: short or undecodable frames
	Dropped   *Counter // fruitcam_camera_dropped_frames_total: older frames skipped for the newest
}

// NewAgent registers the agent's figures in r. The backend state starts
// at "ok" (a CPU backend never leaves it); each component's health is
// unknown (all 0) until SetHealth, so a scrape before the first update
// claims nothing; the temperature is absent until set.
func NewAgent(r *Registry, o AgentOptions) *Agent {
	info := r.Gauge("fruitcam_agent_info", "The agent's device id and configured backend; always 1.",
		Label{"device", o.Device}, Label{"backend", o.Backend})
	info.Set(1)
	a := &Agent{
		FramesIn:         r.Counter("fruitcam_frames_in_total", "Frames read from the cameras."),
		FramesProcessed:  r.Counter("fruitcam_frames_processed_total", "Frames classified."),
		FramesSkipped:    r.Counter("fruitcam_frames_skipped_total", "Frames dropped from the full queue or arriving after their item was published."),
		FramesFailed:     r.Counter("fruitcam_frames_failed_total", "Frames whose inference returned an error."),
		ResultsPublished: r.Counter("fruitcam_results_published_total", "Results delivered to the broker or the other sinks."),
		ResultsDropped:   r.Counter("fruitcam_results_dropped_total", "Results that could not be delivered nor kept."),
		MQTTReconnects:   r.Counter("fruitcam_mqtt_reconnects_total", "Connections to the broker made again after it was lost."),
		EdgeTPUFailures:  r.Counter("fruitcam_edgetpu_failures_total", "Edge TPU failures (errors and stalls)."),
		EdgeTPUStalls:    r.Counter("fruitcam_edgetpu_stalls_total", "Edge TPU inferences that exceeded the watchdog timeout."),
		EdgeTPURecovered: r.Counter("fruitcam_edgetpu_recoveries_total", "Times a reopened Edge TPU took over from the CPU model again."),
		SpoolEvictions:   r.Counter("fruitcam_spool_evictions_total", "Results evicted, oldest first, from the full disk queue."),

		QueueDepth:   r.Gauge("fruitcam_queue_depth", "Frames and results waiting to be classified or sent."),
		SpoolDepth:   r.Gauge("fruitcam_spool_messages", "Results in the disk queue, not yet acknowledged by the broker."),
		SpoolBytes:   r.Gauge("fruitcam_spool_bytes", "Size of the disk queue in bytes."),
		FPSIn:        r.Gauge("fruitcam_frames_per_second", "Frame rates over the last 10 s, as in the stats payload.", Label{"frames", "in"}),
		FPSProcessed: r.Gauge("fruitcam_frames_per_second", "Frame rates over the last 10 s, as in the stats payload.", Label{"frames", "processed"}),
		FPSSkipped:   r.Gauge("fruitcam_frames_per_second", "Frame rates over the last 10 s, as in the stats payload.", Label{"frames", "skipped"}),
		Uptime:       r.Gauge("fruitcam_uptime_seconds", "Seconds since the agent started."),
		Temperature:  r.Gauge("fruitcam_temperature_celsius", "SoC temperature; absent when it cannot be read."),

		BackendState: r.StateSet("fruitcam_backend_state", "State of the inference backend: ok, fallback (the CPU model runs for a failed Edge TPU) or failed.", "state", backendStates),

		Inference:        r.Histogram("fruitcam_inference_seconds", "Model time per frame.", inferenceBuckets),
		CaptureToPublish: r.Histogram("fruitcam_capture_to_publish_seconds", "Time from the capture of an item's first frame to its result.", latencyBuckets),

		reg:     r,
		cameras: make(map[string]CameraFigures, len(o.Cameras)),
		health:  make(map[string]*StateSet, len(o.Components)),
	}
	a.Temperature.Unset()
	a.BackendState.Set("ok")
	for _, c := range o.Cameras {
		a.addCounters(c)
	}
	for _, c := range o.Components {
		a.addComponent(c)
	}
	return a
}

// AddCamera registers the counters and the health (component
// camera:<name>) of a camera added while the agent runs (by a fleet
// config); a camera already registered is left as it is.
func (a *Agent) AddCamera(name string) {
	a.addCounters(name)
	a.addComponent("camera:" + name)
}

func (a *Agent) addCounters(name string) {
	if _, ok := a.Camera(name); ok {
		return
	}
	l := Label{"camera", name}
	f := CameraFigures{
		Reopens:   a.reg.Counter("fruitcam_camera_reopens_total", "Times a camera was reopened after it failed or disappeared.", l),
		BadFrames: a.reg.Counter("fruitcam_camera_bad_frames_total", "Frames discarded as short or undecodable.", l),
		Dropped:   a.reg.Counter("fruitcam_camera_dropped_frames_total", "Older frames skipped to hand out the newest.", l),
	}
	a.mu.Lock()
	a.cameras[name] = f
	a.mu.Unlock()
}

func (a *Agent) addComponent(c string) {
	a.mu.Lock()
	_, ok := a.health[c]
	a.mu.Unlock()
	if ok {
		return
	}
	s := a.reg.StateSet("fruitcam_health", "Health of each component, as in the stats payload: ok, degraded or down.", "state", healthStates, Label{"component", c})
	a.mu.Lock()
	a.health[c] = s
	a.mu.Unlock()
}

// Camera returns a camera's counters, if it is registered.
func (a *Agent) Camera(name string) (CameraFigures, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f, ok := a.cameras[name]
	return f, ok
}

// SetHealth sets each registered component's fruitcam_health from h
// (component -> state, the stats payload's map). A component missing
// from h, or in a state other than ok, degraded and down, shows all 0.
func (a *Agent) SetHealth(h map[string]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for c, s := range a.health {
		s.Set(h[c])
	}
}
