package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"time"

	"github.com/fruitcam/fruitcam/capture"
	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/internal/atomicfile"
	"github.com/fruitcam/fruitcam/internal/config"
	"github.com/fruitcam/fruitcam/internal/modelstore"
	"github.com/fruitcam/fruitcam/internal/pipeline"
	"github.com/fruitcam/fruitcam/internal/signing"
	"github.com/fruitcam/fruitcam/publish"
)

// fleet follows the device's fleet configs (design.md section 6): signed
// YAML layers published retained on <prefix>/fleet/<group>/config and
// <prefix>/<device>/config/set. A layer that verifies, parses, merges
// onto the board's own file (config.Merge), whose model fetches, loads
// and passes its self-test, is swapped in while the agent runs
// (agent.swap); it counts as good once it stayed healthy for
// fleet.health_window, and is rolled back to the last good config when
// it does not. The outcome goes to <prefix>/<device>/config/state.
//
// fleet.dir holds, written atomically:
//
//	good/<time>.json   the last fleet.keep good configs (their signed envelopes)
//	seen.json          the last version received per topic, applied or not (replays are refused)
//	state.json         the last ConfigState published (published again at start)
//	models/            models and labels fetched by URL, named by their SHA-256
type fleet struct {
	base     *config.Config // the board's own file
	dir      string
	log      *slog.Logger
	verifier *signing.Verifier
	store    *modelstore.Store
	topics   publish.Topics
	group    string // the group's config topic, "" without a group

	// Owned by run's goroutine (and newAgent before it):
	good    goodConfig // the layers of the last good config
	running goodConfig // the layers running now (good, or on trial)
	seen    map[string]signing.LastConfig
	trial   *trial // set while a config is within its health window
	retry   *retry // set while a config waits for its model server
	last    publish.ConfigState
}

// retry is a config whose model could not be fetched for a reason that
// may pass (the server down or busy, the network cut): it is tried again
// at at, and the wait doubles after each failure.
type retry struct {
	topic   string
	payload []byte
	at      time.Time
	wait    time.Duration
}

// Retry waits after a fetch that may succeed later: the first, and the
// longest (variables for tests).
var (
	firstRetry = 30 * time.Second
	maxRetry   = 15 * time.Minute
)

// goodConfig is a set of layers: what a good/ file holds.
type goodConfig struct {
	Group   *signedLayer `json:"group,omitempty"`
	Device  *signedLayer `json:"device,omitempty"`
	Applied time.Time    `json:"applied"`
}

// signedLayer is one layer as received: its topic and signed envelope.
type signedLayer struct {
	Topic    string          `json:"topic"`
	Envelope json.RawMessage `json:"envelope"`
	Version  uint64          `json:"version"`
	SHA256   string          `json:"sha256"`

	layer *config.Layer
}

// trial is a config within its health window.
type trial struct {
	state    publish.ConfigState // the "applied, checking" state published
	deadline time.Time
	failed   uint64 // the pipeline's failure count at the swap
	frames   uint64 // its processed count at the swap
	bad      int    // consecutive unhealthy checks
	reason   string
}

func openFleet(cfg *config.Config, log *slog.Logger) (*fleet, error) {
	dir := cfg.Fleet.Dir
	for _, d := range []string{dir, filepath.Join(dir, "good"), filepath.Join(dir, "models")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("fleet: %w (fleet.dir must be a directory the agent may write)", err)
		}
	}
	keys, err := signing.LoadTrustedKeys(cfg.Signing.TrustedKeys)
	if err != nil {
		return nil, err
	}
	v, err := signing.NewVerifier(keys, signing.Options{Window: cfg.Signing.Window})
	if err != nil {
		return nil, err
	}
	topics, err := publish.NewTopics(cfg.MQTT.Prefix, cfg.Device.ID)
	if err != nil {
		return nil, err
	}
	f := &fleet{
		base: cfg, dir: dir, log: log, verifier: v, topics: topics,
		store: &modelstore.Store{Dir: filepath.Join(dir, "models"), Timeout: cfg.Fleet.FetchTimeout},
		seen:  map[string]signing.LastConfig{},
	}
	if cfg.Fleet.CA != "" {
		tc, err := (publish.TLSFiles{CA: cfg.Fleet.CA}).Config()
		if err != nil {
			return nil, fmt.Errorf("fleet.ca: %w", err)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tc
		f.store.Client = &http.Client{Transport: tr}
	}
	if cfg.Device.Group != "" {
		f.group = topics.FleetConfig(cfg.Device.Group)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "seen.json")); err == nil {
		if err := json.Unmarshal(data, &f.seen); err != nil {
			log.Warn("fleet: seen.json is unreadable; accepting any version again", "err", err)
			f.seen = map[string]signing.LastConfig{}
		}
	}
	if data, err := os.ReadFile(filepath.Join(dir, "state.json")); err == nil {
		if s, err := publish.DecodeConfigState(data); err == nil {
			f.last = s
		}
	}
	return f, nil
}

// fetch returns the local copy of a model or labels file named by URL.
func (f *fleet) fetch(ctx context.Context, ref, sum string) (string, error) {
	start := time.Now()
	p, err := f.store.Fetch(ctx, ref, sum)
	if err != nil {
		return "", err
	}
	f.log.Info("fetched", "url", ref, "path", p, "took", time.Since(start).Round(time.Millisecond))
	return p, nil
}

// candidate is a config to start with, and the layers it was merged from
// (none for the board's own file).
type candidate struct {
	cfg  *config.Config
	good goodConfig
}

// candidates are the configs to start with, best first: the good ones,
// newest first, whose envelopes still verify with today's trusted keys,
// then the board's own file.
func (f *fleet) candidates() []candidate {
	var out []candidate
	for _, g := range f.goodFiles() {
		data, err := os.ReadFile(g)
		if err != nil {
			continue
		}
		var gc goodConfig
		if err := json.Unmarshal(data, &gc); err != nil {
			f.log.Warn("fleet: skipping an unreadable good config", "file", g, "err", err)
			continue
		}
		cfg, err := f.rebuild(gc)
		if err != nil {
			f.log.Warn("fleet: skipping a good config that no longer verifies", "file", g, "err", err)
			continue
		}
		out = append(out, candidate{cfg, gc})
	}
	return append(out, candidate{f.base, goodConfig{}})
}

// rebuild verifies and merges a stored set of layers.
func (f *fleet) rebuild(gc goodConfig) (*config.Config, error) {
	var layers []*config.Layer
	for _, sl := range []*signedLayer{gc.Group, gc.Device} {
		if sl == nil {
			continue
		}
		if sl.Topic != f.group && sl.Topic != f.topics.ConfigSet() {
			return nil, fmt.Errorf("layer of %s: not a topic of this device now", sl.Topic)
		}
		m, err := f.verifier.VerifyConfig(sl.Topic, sl.Envelope, signing.LastConfig{})
		if err != nil {
			return nil, err
		}
		l, err := config.ParseLayer(m.Body, layerName(sl.Topic, m.Version))
		if err != nil {
			return nil, err
		}
		sl.layer = l
		layers = append(layers, l)
	}
	return config.Merge(f.base, layers...)
}

func (f *fleet) goodFiles() []string {
	files, _ := filepath.Glob(filepath.Join(f.dir, "good", "*.json"))
	sort.Sort(sort.Reverse(sort.StringSlice(files)))
	return files
}

func layerName(topic string, version uint64) string {
	return fmt.Sprintf("%s v%d", topic, version)
}

// source names where a layer came from, for config/state.
func (f *fleet) source(topic string) string {
	if topic == f.group {
		return "group"
	}
	return "device"
}

// run receives fleet configs until ctx ends. It owns the fleet's state.
func (f *fleet) run(ctx context.Context, a *agent) {
	if a.client == nil {
		return
	}
	inbox := make(chan configMsg, 8)
	if err := a.client.Configs(ctx, a.cfg.Device.Group, func(topic string, payload []byte) {
		select {
		case inbox <- configMsg{topic, payload}:
		case <-ctx.Done():
		}
	}); err != nil {
		f.log.Error("fleet: cannot subscribe to fleet configs", "err", err)
		return
	}
	f.startState(ctx, a)
	tick := time.NewTicker(f.checkEvery())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-inbox:
			f.receive(ctx, a, m.topic, m.payload)
		case <-tick.C:
			if f.trial != nil {
				f.check(ctx, a)
			}
			if r := f.retry; r != nil && !time.Now().Before(r.at) {
				f.log.Info("fleet: trying the config's model server again", "topic", r.topic)
				f.receive(ctx, a, r.topic, r.payload)
			}
		}
	}
}

type configMsg struct {
	topic   string
	payload []byte
}

// checkEvery is how often a config on trial is checked: a tenth of the
// window, between 100 ms and 5 s.
func (f *fleet) checkEvery() time.Duration {
	return min(max(f.base.Fleet.HealthWindow/10, 100*time.Millisecond), 5*time.Second)
}

// startState publishes the state at start: the last one, with what runs
// now.
func (f *fleet) startState(ctx context.Context, a *agent) {
	s := f.last
	if s.State == "" {
		s = publish.ConfigState{Source: "local", State: publish.ConfigApplied, Health: publish.HealthPassed}
	}
	if s.State == publish.ConfigApplied && s.Health == publish.HealthChecking {
		// The agent stopped within a trial: it now runs the last good config.
		s.State, s.Health, s.Reason = publish.ConfigRolledBack, "", "the agent restarted before the health window ended"
	}
	f.publish(ctx, a, s)
}

// receive handles one message on a config topic.
func (f *fleet) receive(ctx context.Context, a *agent, topic string, payload []byte) {
	if len(payload) == 0 {
		f.log.Warn("fleet: an empty retained message on a config topic is ignored; to drop a layer, push one that holds only version: 1", "topic", topic)
		return
	}
	var again *retry
	if r := f.retry; r != nil && r.topic == topic {
		// A new config for the topic supersedes the one waiting; the one
		// waiting comes through here again, as a version not yet handled.
		f.retry = nil
		if string(r.payload) == string(payload) {
			again = r
		}
	}
	prev, hadPrev := f.seen[topic]
	m, err := f.verifier.VerifyConfig(topic, payload, f.seen[topic])
	switch {
	case errors.Is(err, signing.ErrCurrentVersion):
		f.log.Debug("fleet: config already handled", "topic", topic)
		return
	case err != nil:
		f.log.Warn("fleet: config refused", "topic", topic, "err", err)
		f.publish(ctx, a, publish.ConfigState{Source: f.source(topic), Topic: topic, State: publish.ConfigRejected, Reason: err.Error()})
		return
	}
	f.seen[topic] = m.Last()
	if err := f.save("seen.json", f.seen); err != nil {
		f.log.Error("fleet: cannot record the version received", "err", err)
	}
	sl := &signedLayer{Topic: topic, Envelope: payload, Version: m.Version, SHA256: m.Last().SHA256}
	st := publish.ConfigState{Source: f.source(topic), Topic: topic, Version: m.Version, SHA256: sl.SHA256}
	f.log.Info("fleet: config received", "topic", topic, "version", m.Version, "key", m.KeyID)
	if sl.layer, err = config.ParseLayer(m.Body, layerName(topic, m.Version)); err != nil {
		f.reject(ctx, a, st, err)
		return
	}
	next := f.running
	if topic == f.group {
		next.Group = sl
	} else {
		next.Device = sl
	}
	cfg, err := config.Merge(f.base, layersOf(next)...)
	if err != nil {
		f.reject(ctx, a, st, err)
		return
	}
	if err := a.swap(ctx, cfg); err != nil {
		switch {
		case ctx.Err() != nil:
			// Shutting down mid-way (a download cut short): not the
			// config's fault. Forget the version, so that the retained
			// config is handled anew at the next start.
			f.unsee(topic, prev, hadPrev)
		case errors.Is(err, modelstore.ErrUnreachable):
			wait := firstRetry
			if again != nil {
				wait = min(2*again.wait, maxRetry)
			}
			f.unsee(topic, prev, hadPrev)
			f.retry = &retry{topic: topic, payload: payload, at: time.Now().Add(wait), wait: wait}
			f.reject(ctx, a, st, fmt.Errorf("%w; trying again in %v", err, wait))
		default:
			f.reject(ctx, a, st, err)
		}
		return
	}
	f.running = next
	st.State = publish.ConfigApplied
	if f.base.Fleet.HealthWindow <= 0 {
		f.commit(ctx, a, st)
		return
	}
	stats := a.stats()
	st.Health = publish.HealthChecking
	f.trial = &trial{state: st, deadline: time.Now().Add(f.base.Fleet.HealthWindow), failed: stats.Failed, frames: stats.Processed}
	f.publish(ctx, a, st)
}

// unsee forgets that a topic's version was received, restoring the one
// before, so that it is handled again.
func (f *fleet) unsee(topic string, prev signing.LastConfig, had bool) {
	if had {
		f.seen[topic] = prev
	} else {
		delete(f.seen, topic)
	}
	if err := f.save("seen.json", f.seen); err != nil {
		f.log.Error("fleet: cannot record the versions received", "err", err)
	}
}

func layersOf(g goodConfig) []*config.Layer {
	var out []*config.Layer
	for _, sl := range []*signedLayer{g.Group, g.Device} {
		if sl != nil {
			out = append(out, sl.layer)
		}
	}
	return out
}

func (f *fleet) reject(ctx context.Context, a *agent, st publish.ConfigState, err error) {
	f.log.Warn("fleet: config rejected; the running config stays", "topic", st.Topic, "version", st.Version, "err", err)
	st.State, st.Reason = publish.ConfigRejected, err.Error()
	f.publish(ctx, a, st)
}

// check runs a config's health check: a camera down or failed, or
// inference failing, twice in a row fails it; so does a window in which
// no frame was classified although a camera runs continuously.
func (f *fleet) check(ctx context.Context, a *agent) {
	t := f.trial
	reason := a.unhealthy(t.failed)
	if reason == "" {
		t.bad = 0
	} else if t.bad++; t.bad >= 2 {
		f.rollback(ctx, a, reason)
		return
	}
	if time.Now().Before(t.deadline) {
		return
	}
	if a.continuous() && a.stats().Processed == t.frames {
		f.rollback(ctx, a, fmt.Sprintf("no frame was classified within the health window (%v)", f.base.Fleet.HealthWindow))
		return
	}
	f.trial = nil
	st := t.state
	st.Health = publish.HealthPassed
	f.commit(ctx, a, st)
}

// commit keeps the running config as good and publishes st.
func (f *fleet) commit(ctx context.Context, a *agent, st publish.ConfigState) {
	f.good = f.running
	f.good.Applied = time.Now().UTC()
	name := f.good.Applied.Format("20060102T150405.000000000Z") + ".json"
	if err := f.save(filepath.Join("good", name), f.good); err != nil {
		f.log.Error("fleet: cannot keep the good config", "err", err)
	}
	files := f.goodFiles()
	for _, old := range files[min(len(files), f.base.Fleet.Keep):] {
		os.Remove(old)
	}
	f.pruneModels()
	f.log.Info("fleet: config is good", "topic", st.Topic, "version", st.Version)
	f.publish(ctx, a, st)
}

// pruneModels removes fetched files that no kept config names.
func (f *fleet) pruneModels() {
	var keep []string
	for _, c := range f.candidates() {
		for _, ref := range [][2]string{{c.cfg.Model.Path, c.cfg.Model.SHA256}, {c.cfg.Model.Labels, c.cfg.Model.LabelsSHA256}} {
			if config.IsURL(ref[0]) {
				if p, err := f.store.Path(ref[0], ref[1]); err == nil {
					keep = append(keep, p)
				}
			}
		}
	}
	if err := f.store.Prune(keep); err != nil {
		f.log.Warn("fleet: pruning fetched models", "err", err)
	}
}

// rollback returns to the last good config.
func (f *fleet) rollback(ctx context.Context, a *agent, reason string) {
	st := f.trial.state
	f.trial = nil
	f.log.Warn("fleet: config failed its health check; rolling back", "topic", st.Topic, "version", st.Version, "reason", reason)
	st.State, st.Health, st.Reason = publish.ConfigRolledBack, "", reason
	cfg, err := config.Merge(f.base, layersOf(f.good)...)
	if err == nil {
		err = a.swap(ctx, cfg)
	}
	if err != nil {
		// The good config ran before; failing now (a model deleted, a
		// camera gone) leaves the board on the config on trial, which is
		// better than nothing running.
		st.Reason += "; and the rollback failed: " + err.Error()
		f.log.Error("fleet: rollback failed", "err", err)
	} else {
		f.running = f.good
	}
	f.publish(ctx, a, st)
}

// publish completes st with what runs, records and publishes it.
func (f *fleet) publish(ctx context.Context, a *agent, st publish.ConfigState) {
	st.TS = publish.Timestamp{Time: time.Now()}
	st.Group = f.base.Device.Group
	meta := a.meta.get()
	st.Running = publish.Running{Model: meta.Model, Backend: meta.Backend}
	if l := f.running.Group; l != nil {
		st.Running.Group = &publish.Layer{Version: l.Version, SHA256: l.SHA256}
	}
	if l := f.running.Device; l != nil {
		st.Running.Device = &publish.Layer{Version: l.Version, SHA256: l.SHA256}
	}
	if y, err := a.line().cfg.Marshal(); err == nil {
		sum := sha256.Sum256(y)
		st.Running.SHA256 = hex.EncodeToString(sum[:])
	}
	f.last = st
	if err := f.save("state.json", st); err != nil {
		f.log.Error("fleet: cannot record the config state", "err", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := a.client.ConfigState(pctx, st); err != nil {
		f.log.Warn("fleet: config state not published (sent again after reconnecting)", "err", err)
	}
}

func (f *fleet) save(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(f.dir, name), append(data, '\n'), 0o640)
}

// unhealthy says what is wrong with the running line now, "" when
// nothing: a camera down (a V4L2 device that does not answer) or whose
// source failed, or classifications failing since failedBefore.
func (a *agent) unhealthy(failedBefore uint64) string {
	for _, c := range a.cameras() {
		if c.ended.Load() && c.err != nil {
			return fmt.Sprintf("camera %s stopped: %v", c.Name, c.err)
		}
		if c.v4l2 != nil && c.v4l2.Health().State == capture.Reconnecting {
			msg := fmt.Sprintf("camera %s (%s) is down", c.Name, c.cfg.Source.Device)
			if err := c.v4l2.Health().Err; err != nil {
				msg += ": " + err.Error()
			}
			return msg
		}
	}
	if st := a.stats(); st.Failed > failedBefore {
		return fmt.Sprintf("%d frames failed to classify", st.Failed-failedBefore)
	}
	return ""
}

// continuous reports whether a camera of the running line should deliver
// frames all the time (a continuous or interval trigger).
func (a *agent) continuous() bool {
	for _, c := range a.cameras() {
		if t := c.cfg.Trigger.Type; t == config.TriggerContinuous || t == config.TriggerInterval {
			return true
		}
	}
	return false
}

// swap replaces the running line with one built from next, keeping what
// did not change: cameras whose settings are the same run on (their next
// frame goes to the new pipeline), and so do unchanged actuators. The new
// model is loaded and self-tested before anything stops; the old
// pipeline then classifies and sends what it holds. A failure leaves the
// old line running.
func (a *agent) swap(ctx context.Context, next *config.Config) error {
	a.swapMu.Lock()
	defer a.swapMu.Unlock()
	a.mu.Lock()
	old, closing := a.cur, a.closing
	a.mu.Unlock()
	if closing {
		return errors.New("the agent is shutting down")
	}
	model, err := a.loadModel(ctx, next)
	if err != nil {
		return fmt.Errorf("model: %w", err)
	}
	if err := selfTest(model, next); err != nil {
		model.close()
		return err
	}
	l := &line{cfg: next, model: model}
	keep := map[string]*camera{}
	for _, c := range old.cameras {
		if i := slices.IndexFunc(next.Cameras, func(cc config.Camera) bool { return cc.Name == c.Name }); i >= 0 && reflect.DeepEqual(next.Cameras[i], c.cfg) {
			keep[c.Name] = c
		}
	}
	sameGates := reflect.DeepEqual(old.cfg.Actuators, next.Actuators)
	// A changed camera stops first: a V4L2 device opens once.
	var stopped []*camera
	for _, c := range old.cameras {
		if keep[c.Name] == nil {
			c.stop()
			<-c.done
			c.Source.Close()
			stopped = append(stopped, c)
		}
	}
	var gates *pipeline.Actuator
	if sameGates {
		gates = old.actuator
	}
	if err := a.buildLine(l, keep, gates); err != nil {
		model.close()
		cams := slices.Clone(old.cameras)
		for i, c := range cams { // back as they were
			if !slices.Contains(stopped, c) {
				continue
			}
			nc, err := a.openCamera(c.cfg)
			if err != nil {
				a.log.Error("fleet: a camera could not be reopened", "camera", c.Name, "err", err)
				continue
			}
			cams[i] = nc
			a.startCamera(a.runCtx, nc)
		}
		a.mu.Lock()
		old.cameras = cams
		a.mu.Unlock()
		return err
	}
	a.startPipeline(a.runCtx, l)
	a.submitMu.Lock()
	a.pipe.Store(l.pipe)
	a.submitMu.Unlock()
	a.gates.set(l.actuator)
	a.meta.set(model.meta)
	a.mu.Lock()
	a.cur = l
	a.mu.Unlock()
	for _, c := range l.cameras {
		if keep[c.Name] == nil {
			if a.metrics != nil {
				a.metrics.AddCamera(c.Name)
			}
			a.startCamera(a.runCtx, c)
		}
	}
	select {
	case a.statsNow <- struct{}{}:
	default:
	}
	if d := a.discovery(); d != nil && a.client != nil {
		if err := a.client.Rediscover(ctx, *d); err != nil {
			a.log.Warn("fleet: Home Assistant not told of the new config (it is after the next connection)", "err", err)
		}
	}
	// The old pipeline finishes its frames with the old model.
	old.pipe.Close()
	<-old.pipeDone
	st := old.pipe.Stats()
	a.mu.Lock()
	addCounts(&a.retired, st)
	a.mu.Unlock()
	old.model.close()
	if !sameGates && old.actuator != nil {
		old.actuator.Close()
	}
	a.log.Info("fleet: new config running", "model", model.meta.Model.Name, "kept_cameras", len(keep), "cameras", len(l.cameras))
	return nil
}

// selfTest classifies the self-test image (fleet.selftest.image, else a
// synthetic frame) with a new model before it replaces the running one:
// it must answer, with finite scores, and name fleet.selftest.label when
// that is set.
func selfTest(m *modelSet, cfg *config.Config) error {
	st := cfg.Fleet.SelfTest
	var img image.Image
	if st.Image != "" {
		var err error
		if img, err = preprocess.DecodeFile(st.Image); err != nil {
			return fmt.Errorf("self-test: %w", err)
		}
	} else {
		img = testCard()
	}
	res, err := m.classifiers[0].ClassifyInto(nil, []image.Image{img}, 1)
	if err != nil {
		return fmt.Errorf("self-test: the new model failed to classify %s: %w", describeImage(st.Image), err)
	}
	if len(res) != 1 || len(res[0].Top) == 0 {
		return fmt.Errorf("self-test: the new model gave no class for %s", describeImage(st.Image))
	}
	for _, s := range res[0].Scores {
		if math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
			return fmt.Errorf("self-test: the new model's scores for %s are not finite (%v): a broken model", describeImage(st.Image), s)
		}
	}
	if got := res[0].Top[0].Label; st.Label != "" && got != st.Label {
		return fmt.Errorf("self-test: the new model calls %s %q (%.2f), not %q: a wrong or broken model (or labels), refused", describeImage(st.Image), got, res[0].Top[0].Score, st.Label)
	}
	return nil
}

func describeImage(p string) string {
	if p == "" {
		return "the synthetic test frame"
	}
	return p
}

// testCard is a synthetic frame with colour, gradients and edges, for a
// self-test without an image.
func testCard() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 224, 224))
	for y := range 224 {
		for x := range 224 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8((x ^ y) & 0xff), 255})
		}
	}
	return img
}
