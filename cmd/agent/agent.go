package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fruitcam/fruitcam/capture"
	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/internal/config"
	"github.com/fruitcam/fruitcam/internal/metrics"
	"github.com/fruitcam/fruitcam/internal/pipeline"
	"github.com/fruitcam/fruitcam/internal/signing"
	"github.com/fruitcam/fruitcam/publish"
)

// agent is one `agent run`: the parts built from the config and the
// goroutines that connect them. A frame's path: camera.Run reads it from
// its Source when the Trigger fires, agent.submit hands it to the
// pipeline, a pipeline worker classifies a micro-batch with its
// infer.Classifier (preprocess -> engine -> ranking), the pipeline
// aggregates the item and sends the Result to the sinks: MQTT (mqttSink),
// stdout JSON lines, GPIO actuators.
type agent struct {
	cfg     *config.Config
	log     *slog.Logger
	started time.Time
	meta    *liveMeta

	// watchdogs guard the Edge TPU engines (one per worker; none on the
	// CPU backends); statsNow asks for a stats message at once (a backend
	// switched).
	watchdogs []*infer.Watchdog
	statsNow  chan struct{}

	metrics *metrics.Agent  // nil unless http.enabled
	http    *metrics.Server // nil unless http.enabled

	// recent remembers when each camera's error counts last grew, so that
	// health says "degraded" for a while after a fault, not forever.
	recentMu sync.Mutex
	recent   map[string]faultSeen

	broker   *publish.Broker // nil unless the config runs one
	client   *publish.Client // nil when MQTT is off
	mqtt     *mqttSink
	actuator *pipeline.Actuator
	pipe     *pipeline.Pipeline
	cameras  []*camera

	paused atomic.Bool
}

// camera is a configured camera with what the agent needs of it at run
// time.
type camera struct {
	*capture.Camera
	command *capture.Command // set for an MQTT-triggered camera
	v4l2    *capture.V4L2    // set for a V4L2 camera, for its health
	// canWait is set for a folder or pattern read as fast as possible
	// (batch mode): it waits for room in the pipeline's queue rather than
	// losing frames, as a real camera, which cannot wait, would.
	canWait bool
	// snapshots are pending snapshot commands: the camera's next frame is
	// encoded for each before it goes on (nothing is kept otherwise).
	snapshots chan chan<- snapshot
}

// newAgent builds everything the config describes. Failures here are
// startup errors (missing model, camera that cannot be opened, broker
// that refuses), reported before anything runs.
func newAgent(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) (a *agent, err error) {
	a = &agent{cfg: cfg, log: log, started: time.Now(), meta: &liveMeta{}, statsNow: make(chan struct{}, 1)}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	classifiers, err := a.loadModel()
	if err != nil {
		return nil, err
	}
	if err := a.startMetrics(); err != nil {
		return nil, err
	}
	var sinks pipeline.Fanout
	if a.metrics != nil {
		sinks = append(sinks, metricsSink{a.metrics})
	}
	if cfg.MQTT.Enabled {
		if err := a.connect(ctx); err != nil {
			return nil, err
		}
		sinks = append(sinks, a.mqtt)
	}
	if cfg.Stdout.Enabled {
		sinks = append(sinks, &linesSink{lines: publish.NewJSONLines(stdout), meta: a.meta})
	}
	if len(cfg.Actuators) > 0 {
		if a.actuator, err = newActuator(cfg.Actuators, log); err != nil {
			return nil, err
		}
		sinks = append(sinks, a.actuator)
	}
	a.pipe, err = pipeline.New(pipeline.Options{
		Queue:        cfg.Pipeline.Queue,
		BatchSize:    cfg.Infer.Batch.Size,
		BatchTimeout: cfg.Infer.Batch.Timeout,
		TopK:         cfg.Model.Top,
		Aggregate:    cfg.Pipeline.Aggregate,
		Threshold:    float32(cfg.Pipeline.Threshold),
		Unknown:      cfg.Pipeline.UnknownLabel,
	}, classifiers, sinks, log)
	if err != nil {
		return nil, err
	}
	for _, cc := range cfg.Cameras {
		c, err := a.openCamera(cc)
		if err != nil {
			return nil, err
		}
		a.cameras = append(a.cameras, c)
	}
	if a.client != nil {
		if err := a.client.Commands(ctx, a.command); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// loadModel reads the model and builds one classifier per worker.
func (a *agent) loadModel() ([]pipeline.Classifier, error) {
	m := a.cfg.Model
	f, err := infer.ReadFile(m.Path)
	if err != nil {
		return nil, err
	}
	md, err := f.Metadata()
	if err != nil {
		return nil, err
	}
	opts := infer.ClassifierOptions{
		Normalize: m.Normalize, Resize: m.Resize, Fit: m.Fit, ColorOrder: m.Color,
		MaxBatch: a.cfg.Infer.Batch.Size, Graph: f.Model,
	}
	if m.Labels != "" {
		if opts.Labels, err = infer.ReadLabels(m.Labels); err != nil {
			return nil, err
		}
	}
	plan, err := infer.Choose(f, infer.Options{
		Backend: m.Backend, Threads: m.Threads, XNNPACK: m.XNNPACK, Device: m.EdgeTPU.Device, CPUModel: m.CPUModel,
		Watchdog: m.EdgeTPU.Watchdog, Retry: m.EdgeTPU.Retry, OnHealth: a.backendChanged,
		Logger: a.log.With("part", "backend"),
	})
	if err != nil {
		return nil, err
	}
	if plan.File != f {
		// auto runs the CPU model of an Edge TPU model: its own graph, and
		// its own metadata unless it has none.
		opts.Graph = plan.File.Model
		if cmd, err := plan.File.Metadata(); err != nil {
			return nil, err
		} else if cmd != nil {
			md = cmd
		}
	}
	meta := publish.Meta{Device: a.cfg.Device.ID, Backend: plan.Backend, Model: publish.Model{SHA256: plan.File.SHA256}}
	if md != nil {
		meta.Model.Name, meta.Model.Version = md.Name, md.Version
	}
	if meta.Model.Name == "" {
		meta.Model.Name = strings.TrimSuffix(strings.TrimSuffix(baseName(m.Path), ".tflite"), "_edgetpu")
	}
	a.meta.base = meta
	var out []pipeline.Classifier
	for range a.cfg.Infer.Workers {
		e, err := plan.NewEngine()
		if err != nil {
			return nil, err
		}
		if w, ok := e.(*infer.Watchdog); ok {
			a.watchdogs = append(a.watchdogs, w)
		}
		c, err := infer.NewClassifier(e, md, opts)
		if err != nil {
			e.Close()
			return nil, err
		}
		out = append(out, c)
	}
	args := []any{"path", plan.File.Path, "name", meta.Model.Name, "backend", plan.Backend,
		"workers", a.cfg.Infer.Workers, "sha256", plan.File.SHA256[:12], "why", plan.Reason}
	if plan.Fallback != nil {
		args = append(args, "fallback", plan.Fallback.Path, "fallback_backend", plan.FallbackBackend)
	}
	a.log.Info("model loaded", args...)
	return out, nil
}

// backendChanged is told by an Edge TPU watchdog that it switched backends
// (on the worker's goroutine): results name the backend now running, and
// the stats say so at once.
func (a *agent) backendChanged(h infer.Health) {
	active := h.Active
	if active == "" {
		active = "none"
	}
	a.meta.backend.Store(&active)
	select {
	case a.statsNow <- struct{}{}:
	default:
	}
}

// liveMeta is the payloads' Meta with the backend running now: it changes
// when the Edge TPU fails over to the CPU model and back.
type liveMeta struct {
	base    publish.Meta
	backend atomic.Pointer[string]
}

func (l *liveMeta) get() publish.Meta {
	m := l.base
	if b := l.backend.Load(); b != nil {
		m.Backend = *b
	}
	return m
}

// connect starts the embedded broker when configured, then the MQTT
// client.
func (a *agent) connect(ctx context.Context) error {
	m := a.cfg.MQTT
	broker := m.Broker
	if m.Embedded.Enabled {
		users := map[string]string{}
		var operators []string
		for i := range m.Embedded.Users {
			u := &m.Embedded.Users[i]
			pw, err := u.Password()
			if err != nil {
				return err
			}
			users[u.Username] = pw
			if u.Username != m.Username {
				operators = append(operators, u.Username)
			}
		}
		b, err := publish.StartBroker(ctx, publish.BrokerOptions{
			Listen: m.Embedded.Listen, Prefix: m.Prefix, Device: a.cfg.Device.ID,
			Users: users, Agent: m.Username, Operators: operators, Logger: a.log.With("part", "broker"),
		})
		if err != nil {
			return err
		}
		a.broker = b
		broker = b.URL()
		a.log.Info("embedded MQTT broker listening", "addr", b.Addr())
	}
	pw, err := m.Password()
	if err != nil {
		return err
	}
	qos, err := publish.QoSLevel(m.QoS)
	if err != nil {
		return err
	}
	authorize, err := a.authorizer()
	if err != nil {
		return err
	}
	var tlsConf *tls.Config
	if m.TLS.Set() {
		t := m.TLS
		if tlsConf, err = (publish.TLSFiles{CA: t.CA, Cert: t.Cert, Key: t.Key, ServerName: t.ServerName}).Config(); err != nil {
			return err
		}
	}
	a.client, err = publish.Connect(ctx, publish.Options{
		Broker: broker, ClientID: m.ClientID, Prefix: m.Prefix, Device: a.cfg.Device.ID, QoS: qos,
		Username: m.Username, Password: pw, KeepAlive: m.Keepalive, TLS: tlsConf, Logger: a.log.With("part", "mqtt"),
		Discovery: a.discovery(), Authorize: authorize,
	})
	if err != nil {
		return err
	}
	q, err := openQueue(m.Spool, a.log.With("part", "spool"))
	if err != nil {
		return err
	}
	a.mqtt = newMQTTSink(a.client, q, a.meta, a.log)
	return nil
}

// authorizer decides whose commands run. With trusted keys, only commands
// signed by one of them, for this device, within the window, once. Without,
// commands through the embedded broker run (its users are authenticated
// and its ACL lets only operators publish commands), and from an external
// broker only when the config allows unsigned commands.
func (a *agent) authorizer() (func(topic string, payload []byte) ([]byte, error), error) {
	s := a.cfg.Signing
	if s.TrustedKeys == "" {
		if a.cfg.MQTT.Embedded.Enabled || s.AllowUnsigned {
			return nil, nil
		}
		a.log.Warn("commands are refused: no signing.trusted_keys (make one with agent keygen), and signing.allow_unsigned is off")
		return func(string, []byte) ([]byte, error) {
			return nil, errors.New("commands must be signed, and this device trusts no key yet: set signing.trusted_keys (agent keygen makes a key), or signing.allow_unsigned: true on a trusted network")
		}, nil
	}
	keys, err := signing.LoadTrustedKeys(s.TrustedKeys)
	if err != nil {
		return nil, err
	}
	v, err := signing.NewVerifier(keys, signing.Options{Window: s.Window, NotBefore: time.Now()})
	if err != nil {
		return nil, err
	}
	a.log.Info("commands must be signed", "keys", strings.Join(v.Keys(), ", "))
	return func(topic string, payload []byte) ([]byte, error) {
		m, err := v.VerifyCommand(topic, payload, time.Now())
		if err != nil {
			return nil, err
		}
		a.log.Info("signed command", "topic", topic, "key", m.KeyID)
		return m.Body, nil
	}, nil
}

// discovery is the Home Assistant announcement of the config, nil when
// it is off.
func (a *agent) discovery() *publish.Discovery {
	h := a.cfg.MQTT.HomeAssistant
	if !h.Enabled {
		return nil
	}
	d := &publish.Discovery{Prefix: h.Prefix, Model: a.meta.base.Model.Name, Version: a.meta.base.Model.Version}
	for _, c := range a.cfg.Cameras {
		d.Cameras = append(d.Cameras, c.Name)
	}
	return d
}

// openCamera builds a camera's source and trigger.
func (a *agent) openCamera(cc config.Camera) (*camera, error) {
	c := &camera{snapshots: make(chan chan<- snapshot, 4), Camera: &capture.Camera{
		Name:          cc.Name,
		Frames:        cc.Trigger.Frames,
		FrameInterval: cc.Trigger.FrameInterval,
		ROI:           image.Rect(cc.ROI.X, cc.ROI.Y, cc.ROI.X+cc.ROI.Width, cc.ROI.Y+cc.ROI.Height),
	}}
	s := cc.Source
	c.canWait = s.Type != config.SourceV4L2 && s.Rate == 0
	var err error
	switch s.Type {
	case config.SourceFolder:
		c.Source, err = capture.NewFolder(s.Path, capture.FolderOptions{Rate: s.Rate, Loop: s.Loop, Logger: a.log.With("camera", cc.Name)})
	case config.SourcePattern:
		c.Source, err = capture.NewPattern(capture.PatternOptions{Width: s.Width, Height: s.Height, Rate: s.Rate})
	case config.SourceV4L2:
		c.v4l2, err = capture.OpenV4L2(capture.V4L2Options{
			Device: s.Device, Formats: s.Formats, Width: s.Width, Height: s.Height, FPS: float64(s.FPS),
			Buffers: s.Buffers, Timeout: s.Timeout, Logger: a.log.With("camera", cc.Name),
		})
		c.Source = c.v4l2
	default:
		err = fmt.Errorf("source type %q", s.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("camera %s: %w", cc.Name, err)
	}
	t := cc.Trigger
	switch t.Type {
	case config.TriggerContinuous:
		if t.FPS > 0 {
			c.Trigger, err = capture.Continuous(t.FPS)
		}
	case config.TriggerInterval:
		c.Trigger, err = capture.Interval(t.Interval)
	case config.TriggerGPIO:
		c.Trigger, err = gpioTrigger(t)
	case config.TriggerMQTT:
		c.command = capture.NewCommand()
		c.Trigger = c.command
	}
	if err != nil {
		c.Source.Close()
		return nil, fmt.Errorf("camera %s: trigger: %w", cc.Name, err)
	}
	return c, nil
}

// gpioTrigger opens a light barrier's input pin.
func gpioTrigger(t config.Trigger) (capture.Trigger, error) {
	edge, err := capture.ParseEdge(t.Edge)
	if err != nil {
		return nil, err
	}
	pin, err := capture.OpenPin(t.Pin)
	if err != nil {
		return nil, err
	}
	return capture.GPIO(pin, capture.GPIOOptions{Edge: edge, Debounce: t.Debounce})
}

// run runs the cameras and the pipeline until ctx ends or every camera's
// source has ended, then shuts down in order: cameras stop, the pipeline
// finishes what it holds and publishes it, the sinks drain, the device
// says "offline".
func (a *agent) run(ctx context.Context) error {
	defer a.close()
	pipeDone := make(chan error, 1)
	go func() { pipeDone <- a.pipe.Run(context.WithoutCancel(ctx)) }()

	var wg sync.WaitGroup
	camErrs := make([]error, len(a.cameras))
	for i, c := range a.cameras {
		wg.Go(func() {
			camErrs[i] = c.Run(ctx, func(f *capture.Frame) { a.submit(ctx, c, f) })
			if camErrs[i] != nil && ctx.Err() == nil {
				a.log.Error("camera stopped", "camera", c.Name, "err", camErrs[i])
			}
		})
	}
	statsDone := make(chan struct{})
	stopStats := make(chan struct{})
	go func() {
		defer close(statsDone)
		a.publishStats(stopStats)
	}()
	httpCtx, stopHTTP := context.WithCancel(ctx)
	httpDone := make(chan struct{})
	go func() {
		defer close(httpDone)
		a.serveMetrics(httpCtx)
	}()
	defer func() {
		stopHTTP()
		<-httpDone
	}()
	a.log.Info("agent running", "device", a.cfg.Device.ID, "cameras", len(a.cameras))

	wg.Wait()
	if ctx.Err() != nil {
		a.log.Info("shutting down: finishing in-flight frames")
	} else {
		a.log.Info("every source has ended: finishing")
	}
	closeErr := a.pipe.Close()
	pipeErr := <-pipeDone
	close(stopStats)
	<-statsDone
	st := a.pipe.Stats()
	a.log.Info("pipeline done", "frames", st.FramesIn, "processed", st.Processed, "skipped", st.Skipped,
		"items", st.Items, "lost", st.Lost)
	var errs []error
	for _, err := range camErrs {
		if err != nil && ctx.Err() == nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(append(errs, closeErr, pipeErr)...)
}

// submit hands a frame to the pipeline, unless classification is paused.
func (a *agent) submit(ctx context.Context, c *camera, f *capture.Frame) {
	select {
	case reply := <-c.snapshots:
		reply <- takeSnapshot(c.Name, f)
	default:
	}
	switch {
	case a.paused.Load():
		f.Release()
	case c.canWait:
		a.pipe.SubmitWait(ctx, f) // an error is ctx's end: the run is over
	default:
		a.pipe.Submit(f)
	}
}

// close releases everything newAgent built, last first. The MQTT sink
// drains its queue, and the client says "offline", within a bounded time
// of its own: the run context is over by now.
func (a *agent) close() {
	for _, c := range a.cameras {
		if err := c.Source.Close(); err != nil {
			a.log.Warn("closing camera", "camera", c.Name, "err", err)
		}
	}
	if a.actuator != nil {
		a.actuator.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if a.mqtt != nil {
		a.mqtt.close(ctx)
	}
	if a.client != nil {
		if err := a.client.Close(ctx); err != nil {
			a.log.Warn("closing MQTT", "err", err)
		}
	}
	if a.broker != nil {
		// The broker has acknowledged every result, but forwards them to
		// its subscribers on its own goroutines: give those a moment
		// before the listener goes, so the last results are not lost to
		// the consumers of an agent that stops.
		time.Sleep(brokerGrace)
		a.broker.Close()
	}
}

// brokerGrace is how long an embedded broker outlives the agent's own
// client at shutdown.
const brokerGrace = 250 * time.Millisecond

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
