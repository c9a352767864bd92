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
//
// The parts split in two. The station (MQTT client and spool, embedded
// broker, HTTP server, signing keys) is built once from the board's own
// file. The line (model, pipeline, cameras, actuators; see line) is what a
// fleet config replaces while the agent runs (fleet.go).
type agent struct {
	cfg     *config.Config // the config the agent started with; its local sections never change
	log     *slog.Logger
	started time.Time
	meta    *liveMeta

	// statsNow asks for a stats message at once (a backend switched).
	statsNow chan struct{}

	metrics *metrics.Agent  // nil unless http.enabled
	http    *metrics.Server // nil unless http.enabled

	// recent remembers when each camera's error counts last grew, so that
	// health says "degraded" for a while after a fault, not forever.
	recentMu sync.Mutex
	recent   map[string]faultSeen

	broker *publish.Broker // nil unless the config runs one
	client *publish.Client // nil when MQTT is off
	mqtt   *mqttSink
	sinks  pipeline.Fanout
	gates  *gateSink // the actuators of the line running, behind a fixed sink

	// pipe is the running line's pipeline, for submit (every frame);
	// submitMu is held for reading while a frame is handed to it.
	pipe     atomic.Pointer[pipeline.Pipeline]
	submitMu sync.RWMutex
	// mu guards cur, retired and closing; swapMu serialises line swaps
	// and shutdown.
	mu      sync.Mutex
	cur     *line
	retired pipeline.Stats // the counters of the pipelines swapped out
	closing bool
	swapMu  sync.Mutex
	// camEnded is signalled when a camera's Run returns.
	camEnded chan struct{}
	// runCtx is run's context: cameras started by a swap run under it.
	runCtx context.Context

	fleet *fleet // nil unless fleet.dir is set

	paused atomic.Bool

	kept keptFrames // each camera's last item, for explain (explain.go)
}

// line is what one config builds and a fleet config replaces: the model's
// engines, the pipeline running them, the cameras and the actuators.
type line struct {
	cfg      *config.Config
	model    *modelSet
	pipe     *pipeline.Pipeline
	pipeDone chan error // Run's result, once started
	cameras  []*camera
	actuator *pipeline.Actuator // nil without actuators
}

// camera is a configured camera with what the agent needs of it at run
// time.
type camera struct {
	*capture.Camera
	cfg     config.Camera
	command *capture.Command // set for an MQTT-triggered camera
	v4l2    *capture.V4L2    // set for a V4L2 camera, for its health
	// canWait is set for a folder or pattern read as fast as possible
	// (batch mode): it waits for room in the pipeline's queue rather than
	// losing frames, as a real camera, which cannot wait, would.
	canWait bool
	// snapshots are pending snapshot commands: the camera's next frame is
	// encoded for each before it goes on (nothing is kept otherwise).
	snapshots chan chan<- snapshot

	// Set by startCamera: stop ends Run, done is closed when it returned
	// (err is then its error, ended whether it ended on its own).
	stop  context.CancelFunc
	done  chan struct{}
	err   error
	ended atomic.Bool
}

// newAgent builds everything the config describes. Failures here are
// startup errors (missing model, camera that cannot be opened, broker
// that refuses), reported before anything runs.
func newAgent(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) (a *agent, err error) {
	a = &agent{cfg: cfg, log: log, started: time.Now(), meta: &liveMeta{}, statsNow: make(chan struct{}, 1),
		camEnded: make(chan struct{}, 1), gates: &gateSink{}}
	// The returns below set a to nil on error: close what was built
	// through a copy of the pointer.
	built := a
	defer func() {
		if err != nil {
			built.close()
		}
	}()
	model, err := a.startModel(ctx)
	if err != nil {
		return nil, err
	}
	cfg = a.cfg
	l := &line{cfg: cfg, model: model}
	a.cur = l
	a.meta.set(model.meta)
	if err := a.startMetrics(); err != nil {
		return nil, err
	}
	if a.metrics != nil {
		a.sinks = append(a.sinks, metricsSink{a.metrics})
	}
	if cfg.MQTT.Enabled {
		if err := a.connect(ctx); err != nil {
			return nil, err
		}
		a.sinks = append(a.sinks, a.mqtt)
	}
	if cfg.Stdout.Enabled {
		a.sinks = append(a.sinks, &linesSink{lines: publish.NewJSONLines(stdout), meta: a.meta})
	}
	a.sinks = append(a.sinks, a.gates)
	if err := a.buildLine(l, nil, nil); err != nil {
		return nil, err
	}
	a.gates.set(l.actuator)
	a.pipe.Store(l.pipe)
	if a.client != nil {
		if err := a.client.Commands(ctx, a.command); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// startModel loads the model of the config to start with. With fleet
// configs that is the last good one, so that a board rebooting without
// its broker runs what it ran; when its model no longer loads, the one
// before it, and finally the board's own file. It sets a.cfg.
func (a *agent) startModel(ctx context.Context) (*modelSet, error) {
	if a.cfg.Fleet.Dir == "" {
		return a.loadModel(ctx, a.cfg)
	}
	var err error
	if a.fleet, err = openFleet(a.cfg, a.log.With("part", "fleet")); err != nil {
		return nil, err
	}
	cands := a.fleet.candidates()
	for i, c := range cands {
		model, err := a.loadModel(ctx, c.cfg)
		if err == nil {
			a.cfg = c.cfg
			a.fleet.good, a.fleet.running = c.good, c.good
			if c.good.Group != nil || c.good.Device != nil {
				a.log.Info("fleet: starting with the last good fleet config", "applied", c.good.Applied)
			}
			return model, nil
		}
		if i == len(cands)-1 {
			return nil, err
		}
		a.log.Warn("fleet: a good config cannot start; trying the one before it", "err", err)
	}
	panic("unreachable") // candidates ends with the board's own file
}

// buildLine builds l's pipeline, cameras and actuators from l.cfg around
// its loaded model, taking the cameras in keep (running already) and the
// actuator gates (when not nil) as they are. On error, what it built is
// closed again.
func (a *agent) buildLine(l *line, keep map[string]*camera, gates *pipeline.Actuator) (err error) {
	cfg := l.cfg
	var opened []*camera
	defer func() {
		if err != nil {
			for _, c := range opened {
				c.Source.Close()
			}
			l.cameras = nil
			if l.actuator != nil && l.actuator != gates {
				l.actuator.Close()
			}
			l.actuator = nil
		}
	}()
	l.actuator = gates
	if gates == nil && len(cfg.Actuators) > 0 {
		if l.actuator, err = newActuator(cfg.Actuators, a.log); err != nil {
			return err
		}
	}
	l.pipe, err = pipeline.New(pipeline.Options{
		Queue:        cfg.Pipeline.Queue,
		BatchSize:    cfg.Infer.Batch.Size,
		BatchTimeout: cfg.Infer.Batch.Timeout,
		TopK:         cfg.Model.Top,
		Aggregate:    cfg.Pipeline.Aggregate,
		Threshold:    float32(cfg.Pipeline.Threshold),
		Unknown:      cfg.Pipeline.UnknownLabel,
	}, l.model.classifiers, a.sinks, a.log)
	if err != nil {
		return err
	}
	for _, cc := range cfg.Cameras {
		if c := keep[cc.Name]; c != nil {
			l.cameras = append(l.cameras, c)
			continue
		}
		c, err := a.openCamera(cc)
		if err != nil {
			return err
		}
		opened = append(opened, c)
		l.cameras = append(l.cameras, c)
	}
	return nil
}

// modelSet is a loaded model: one classifier per worker, their engines,
// the Edge TPU watchdogs among them, and what results say about it.
type modelSet struct {
	classifiers []pipeline.Classifier
	engines     []infer.Engine
	watchdogs   []*infer.Watchdog
	meta        publish.Meta
}

// close frees the engines (after the pipeline using them has returned).
func (m *modelSet) close() {
	for _, e := range m.engines {
		e.Close()
	}
}

// loadModel reads cfg's model (fetching it first when it is named by
// URL) and builds one classifier per worker.
func (a *agent) loadModel(ctx context.Context, cfg *config.Config) (ms *modelSet, err error) {
	m := cfg.Model
	path, labels, err := a.fetchModel(ctx, cfg)
	if err != nil {
		return nil, err
	}
	f, err := infer.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if m.SHA256 != "" && !strings.EqualFold(m.SHA256, f.SHA256) {
		return nil, fmt.Errorf("model %s: its SHA-256 is %s, but model.sha256 says %s: the file changed, or the config names another file", path, f.SHA256, m.SHA256)
	}
	md, err := f.Metadata()
	if err != nil {
		return nil, err
	}
	opts := infer.ClassifierOptions{
		Normalize: m.Normalize, Resize: m.Resize, Fit: m.Fit, ColorOrder: m.Color,
		MaxBatch: cfg.Infer.Batch.Size, Graph: f.Model,
	}
	if labels != "" {
		if opts.Labels, err = infer.ReadLabels(labels); err != nil {
			return nil, err
		}
	}
	ms = &modelSet{}
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
	meta := publish.Meta{Device: cfg.Device.ID, Backend: plan.Backend, Model: publish.Model{SHA256: plan.File.SHA256}}
	if md != nil {
		meta.Model.Name, meta.Model.Version = md.Name, md.Version
	}
	if meta.Model.Name == "" {
		meta.Model.Name = strings.TrimSuffix(strings.TrimSuffix(baseName(m.Path), ".tflite"), "_edgetpu")
	}
	ms.meta = meta
	built := ms
	defer func() {
		if err != nil {
			built.close()
		}
	}()
	for range cfg.Infer.Workers {
		e, err := plan.NewEngine()
		if err != nil {
			return nil, err
		}
		ms.engines = append(ms.engines, e)
		if w, ok := e.(*infer.Watchdog); ok {
			ms.watchdogs = append(ms.watchdogs, w)
		}
		c, err := infer.NewClassifier(e, md, opts)
		if err != nil {
			return nil, err
		}
		ms.classifiers = append(ms.classifiers, c)
	}
	args := []any{"path", plan.File.Path, "name", meta.Model.Name, "backend", plan.Backend,
		"workers", cfg.Infer.Workers, "sha256", plan.File.SHA256[:12], "why", plan.Reason}
	if plan.Fallback != nil {
		args = append(args, "fallback", plan.Fallback.Path, "fallback_backend", plan.FallbackBackend)
	}
	a.log.Info("model loaded", args...)
	return ms, nil
}

// fetchModel returns the local paths of cfg's model and labels, fetching
// those named by URL into the fleet's model store.
func (a *agent) fetchModel(ctx context.Context, cfg *config.Config) (model, labels string, err error) {
	model, labels = cfg.Model.Path, cfg.Model.Labels
	if !config.IsURL(model) && !config.IsURL(labels) {
		return model, labels, nil
	}
	if a.fleet == nil {
		return "", "", errors.New("model: named by URL, but fleet.dir is not set: set fleet.dir, where fetched files are kept")
	}
	if config.IsURL(model) {
		if model, err = a.fleet.fetch(ctx, model, cfg.Model.SHA256); err != nil {
			return "", "", err
		}
	}
	if config.IsURL(labels) {
		if labels, err = a.fleet.fetch(ctx, labels, cfg.Model.LabelsSHA256); err != nil {
			return "", "", err
		}
	}
	return model, labels, nil
}

// line returns the line running now.
func (a *agent) line() *line {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cur
}

// cameras returns the cameras running now.
func (a *agent) cameras() []*camera {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cur.cameras
}

// watchdogs returns the Edge TPU watchdogs of the model running now.
func (a *agent) watchdogs() []*infer.Watchdog { return a.line().model.watchdogs }

// stats returns the pipeline's counters, those of pipelines swapped out
// by fleet configs included (rates and percentiles are the running one's).
func (a *agent) stats() pipeline.Stats {
	a.mu.Lock()
	p, r := a.cur.pipe, a.retired
	a.mu.Unlock()
	st := p.Stats()
	addCounts(&st, r)
	return st
}

// addCounts adds src's counters (not its rates, depth or percentiles) to
// dst.
func addCounts(dst *pipeline.Stats, src pipeline.Stats) {
	dst.FramesIn += src.FramesIn
	dst.Processed += src.Processed
	dst.Skipped += src.Skipped
	dst.Failed += src.Failed
	dst.Batches += src.Batches
	dst.Items += src.Items
	dst.Incomplete += src.Incomplete
	dst.Lost += src.Lost
	dst.SinkErrors += src.SinkErrors
}

// gateSink sends results to the actuators of the line running (none
// before the first line, or without actuators).
type gateSink struct {
	p atomic.Pointer[pipeline.Actuator]
}

func (g *gateSink) set(act *pipeline.Actuator) { g.p.Store(act) }

func (g *gateSink) Send(ctx context.Context, r pipeline.Result) error {
	if act := g.p.Load(); act != nil {
		return act.Send(ctx, r)
	}
	return nil
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
	base    atomic.Pointer[publish.Meta]
	backend atomic.Pointer[string]
}

// set replaces the model (a fleet config swapped it in).
func (l *liveMeta) set(m publish.Meta) {
	l.base.Store(&m)
	l.backend.Store(nil)
}

func (l *liveMeta) get() publish.Meta {
	var m publish.Meta
	if p := l.base.Load(); p != nil {
		m = *p
	}
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
	m := a.meta.get().Model
	d := &publish.Discovery{Prefix: h.Prefix, Model: m.Name, Version: m.Version}
	for _, c := range a.line().cfg.Cameras {
		d.Cameras = append(d.Cameras, c.Name)
	}
	return d
}

// openCamera builds a camera's source and trigger.
func (a *agent) openCamera(cc config.Camera) (*camera, error) {
	c := &camera{cfg: cc, snapshots: make(chan chan<- snapshot, 4), Camera: &capture.Camera{
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
// says "offline". Meanwhile fleet configs may swap the line (fleet.go).
func (a *agent) run(ctx context.Context) error {
	defer a.close()
	a.runCtx = ctx
	l := a.line()
	a.startPipeline(ctx, l)
	for _, c := range l.cameras {
		a.startCamera(ctx, c)
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
	fleetCtx, stopFleet := context.WithCancel(ctx)
	fleetDone := make(chan struct{})
	go func() {
		defer close(fleetDone)
		if a.fleet != nil {
			a.fleet.run(fleetCtx, a)
		}
	}()
	a.log.Info("agent running", "device", a.cfg.Device.ID, "cameras", len(l.cameras))

	// A board that follows fleet configs is a service: it runs until
	// stopped, and a camera that ends is the health check's business
	// (the config that brought it is rolled back).
	for a.fleet != nil || !a.camerasEnded() {
		select {
		case <-ctx.Done():
		case <-a.camEnded:
			continue
		}
		break
	}
	stopFleet()
	<-fleetDone
	// No swap from here on: the line running now is the last.
	a.swapMu.Lock()
	a.mu.Lock()
	a.closing = true
	l = a.cur
	a.mu.Unlock()
	a.swapMu.Unlock()
	for _, c := range l.cameras {
		c.stop()
		<-c.done
	}
	if ctx.Err() != nil {
		a.log.Info("shutting down: finishing in-flight frames")
	} else {
		a.log.Info("every source has ended: finishing")
	}
	closeErr := l.pipe.Close()
	pipeErr := <-l.pipeDone
	close(stopStats)
	<-statsDone
	st := a.stats()
	a.log.Info("pipeline done", "frames", st.FramesIn, "processed", st.Processed, "skipped", st.Skipped,
		"items", st.Items, "lost", st.Lost)
	var errs []error
	for _, c := range l.cameras {
		if c.err != nil && c.ended.Load() && ctx.Err() == nil {
			errs = append(errs, c.err)
		}
	}
	return errors.Join(append(errs, closeErr, pipeErr)...)
}

// startPipeline runs l's pipeline until it is closed.
func (a *agent) startPipeline(ctx context.Context, l *line) {
	l.pipeDone = make(chan error, 1)
	go func() { l.pipeDone <- l.pipe.Run(context.WithoutCancel(ctx)) }()
}

// startCamera runs c until ctx ends, its source ends, or c.stop is called.
func (a *agent) startCamera(ctx context.Context, c *camera) {
	cctx, cancel := context.WithCancel(ctx)
	c.stop, c.done = cancel, make(chan struct{})
	go func() {
		defer close(c.done)
		c.err = c.Run(cctx, func(f *capture.Frame) { a.submit(cctx, c, f) })
		if cctx.Err() == nil {
			c.ended.Store(true)
			if c.err != nil {
				a.log.Error("camera stopped", "camera", c.Name, "err", c.err)
			}
		}
		select {
		case a.camEnded <- struct{}{}:
		default:
		}
	}()
}

// camerasEnded reports whether every camera of the running line has
// ended on its own (folders read to the end).
func (a *agent) camerasEnded() bool {
	for _, c := range a.cameras() {
		if !c.ended.Load() {
			return false
		}
	}
	return true
}

// submit hands a frame to the pipeline, unless classification is paused.
func (a *agent) submit(ctx context.Context, c *camera, f *capture.Frame) {
	select {
	case reply := <-c.snapshots:
		reply <- takeSnapshot(c.Name, f)
	default:
	}
	a.kept.keep(c.Name, f)
	// The read lock spans the hand-over, so that a swap (fleet.go), which
	// takes the write lock to change pipelines, never closes a pipeline
	// a frame is on its way into: no frame is lost to a swap.
	a.submitMu.RLock()
	defer a.submitMu.RUnlock()
	pipe := a.pipe.Load()
	switch {
	case a.paused.Load():
		f.Release()
	case c.canWait:
		pipe.SubmitWait(ctx, f) // an error is ctx's end: the run is over
	default:
		pipe.Submit(f)
	}
}

// close releases everything newAgent built, last first. The MQTT sink
// drains its queue, and the client says "offline", within a bounded time
// of its own: the run context is over by now.
func (a *agent) close() {
	if l := a.cur; l != nil {
		for _, c := range l.cameras {
			if err := c.Source.Close(); err != nil {
				a.log.Warn("closing camera", "camera", c.Name, "err", err)
			}
		}
		if l.actuator != nil {
			l.actuator.Close()
		}
		if l.model != nil {
			l.model.close()
		}
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
