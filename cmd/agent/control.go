package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/jpeg"
	"time"

	"github.com/fruitcam/fruitcam/capture"
	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/internal/pipeline"
	"github.com/fruitcam/fruitcam/publish"
)

// command serves <prefix>/<device>/cmd/<name>. The client has decoded
// nothing but the name; the payload is an optional JSON object naming a
// camera.
func (a *agent) command(name string, payload []byte) ([]byte, error) {
	cmd, err := publish.DecodeCommand(payload)
	if err != nil {
		return nil, err
	}
	switch name {
	case publish.CmdPause:
		a.paused.Store(true)
		a.log.Info("paused by command")
		return json.Marshal(map[string]bool{"paused": true})
	case publish.CmdResume:
		a.paused.Store(false)
		a.log.Info("resumed by command")
		return json.Marshal(map[string]bool{"paused": false})
	case publish.CmdReload:
		return nil, errors.New("reload: a change to the board's own config file applies when the agent restarts (systemctl restart fruitcam); fleet configs (agent fleet push) apply while it runs")
	case publish.CmdSnapshot:
		return a.snapshot(cmd.Camera)
	case publish.CmdExplain:
		return a.explain(payload)
	case publish.CmdTrigger:
		var fired []string
		for _, c := range a.cameras() {
			if c.command == nil || (cmd.Camera != "" && cmd.Camera != c.Name) {
				continue
			}
			if !c.command.Fire() {
				return nil, fmt.Errorf("camera %s: too many triggers waiting", c.Name)
			}
			fired = append(fired, c.Name)
		}
		if len(fired) == 0 {
			return nil, fmt.Errorf("no camera with an mqtt trigger matches %q", cmd.Camera)
		}
		return json.Marshal(map[string][]string{"triggered": fired})
	}
	return nil, fmt.Errorf("%q: %w", name, publish.ErrUnknownCommand)
}

// publishStats sends the stats payload every stats_interval until stop.
func (a *agent) publishStats(stop <-chan struct{}) {
	if a.client == nil || a.cfg.MQTT.StatsInterval <= 0 {
		<-stop
		return
	}
	t := time.NewTicker(a.cfg.MQTT.StatsInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		case <-a.statsNow:
		}
		p := publish.NewStats(a.meta.get(), a.counters(a.stats()), time.Now())
		ctx, cancel := contextTimeout(a.cfg.MQTT.StatsInterval)
		if err := a.client.Stats(ctx, p); err != nil {
			a.log.Warn("publishing stats", "err", err)
		}
		cancel()
	}
}

// counters turns the pipeline's figures and the parts' health into the
// stats payload's values.
func (a *agent) counters(st pipeline.Stats) publish.Counters {
	health := map[string]string{"inference": publish.HealthOK, "pipeline": publish.HealthOK}
	if a.faultedRecently("inference", st.Failed) {
		health["inference"] = publish.HealthDegraded
	}
	if a.paused.Load() {
		health["pipeline"] = "paused"
	}
	if a.client != nil {
		health["mqtt"] = publish.HealthOK
		if !a.client.Connected() {
			health["mqtt"] = publish.HealthDown
		}
	}
	if a.mqtt != nil {
		_, dropped, ok := a.mqtt.q.Figures()
		switch {
		case !ok:
			health["spool"] = publish.HealthDown // results are being lost: a full or failing disk
		case a.faultedRecently("spool", dropped):
			health["spool"] = publish.HealthDegraded
		default:
			health["spool"] = publish.HealthOK
		}
	}
	for _, c := range a.cameras() {
		state := publish.HealthOK
		if c.v4l2 != nil {
			switch h := c.v4l2.Health(); {
			case h.State == capture.Reconnecting:
				state = publish.HealthDown
			case a.faultedRecently("camera:"+c.Name, h.Bad+uint64(h.Reopens)):
				state = publish.HealthDegraded
			}
		}
		health["camera:"+c.Name] = state
	}
	depth := st.QueueDepth
	if a.mqtt != nil {
		depth += a.mqtt.depth()
	}
	tpu := a.edgeTPUHealth()
	if tpu != nil {
		health["backend"] = map[string]string{
			infer.StateOK: publish.HealthOK, infer.StateFallback: publish.HealthDegraded, infer.StateFailed: publish.HealthDown,
		}[tpu.State]
	}
	return publish.Counters{
		Uptime:   time.Since(a.started),
		FramesIn: st.FPSIn, Processed: st.FPSProcessed, Skipped: st.FPSSkipped,
		QueueDepth:   depth,
		InferenceP50: st.InferenceP50, InferenceP99: st.InferenceP99,
		Health:  health,
		EdgeTPU: tpu,
	}
}

// faultMemory is how long a component stays "degraded" after its error
// count last grew.
const faultMemory = time.Minute

// faultSeen is a component's error count when it last grew.
type faultSeen struct {
	count uint64
	at    time.Time
}

// faultedRecently records a component's error count and reports whether
// it grew within faultMemory. The first sight of a non-zero count counts
// as growth.
func (a *agent) faultedRecently(component string, count uint64) bool {
	a.recentMu.Lock()
	defer a.recentMu.Unlock()
	if a.recent == nil {
		a.recent = map[string]faultSeen{}
	}
	seen := a.recent[component]
	now := time.Now()
	if count > seen.count {
		seen = faultSeen{count: count, at: now}
		a.recent[component] = seen
	}
	return seen.count > 0 && now.Sub(seen.at) < faultMemory
}

// edgeTPUHealth sums the workers' Edge TPU watchdogs (nil without any):
// the worst state, the counts added up.
func (a *agent) edgeTPUHealth() *publish.EdgeTPU {
	if len(a.watchdogs()) == 0 {
		return nil
	}
	rank := map[string]int{infer.StateOK: 0, infer.StateFallback: 1, infer.StateFailed: 2}
	var out publish.EdgeTPU
	var since time.Time
	for i, w := range a.watchdogs() {
		h := w.Health()
		if i == 0 || rank[h.State] > rank[out.State] {
			out.State, out.Active = h.State, h.Active
		}
		out.Failures += h.Failures
		out.Stalls += h.Stalls
		out.Recovered += h.Recovered
		if h.LastError != "" {
			out.LastError = h.LastError
		}
		if h.Since.After(since) {
			since = h.Since
		}
	}
	if !since.IsZero() {
		out.Since = &publish.Timestamp{Time: since}
	}
	return &out
}

func contextTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// snapshot is the answer to the snapshot command: one camera's frame as
// JPEG (base64 in the JSON reply).
type snapshot struct {
	Camera   string    `json:"camera"`
	Seq      uint64    `json:"seq"`
	Item     uint64    `json:"item"`
	Captured time.Time `json:"captured"`
	Width    int       `json:"width"`
	Height   int       `json:"height"`
	JPEG     []byte    `json:"jpeg"`
	err      error
}

// snapshotWait bounds how long the command waits for a camera's next
// frame: a triggered camera only takes frames when its trigger fires.
const snapshotWait = 5 * time.Second

// snapshot asks one camera (the only one, or the one named) for its next
// frame, as it will be classified (region of interest applied).
func (a *agent) snapshot(name string) ([]byte, error) {
	var c *camera
	for _, cc := range a.cameras() {
		if cc.Name == name || (name == "" && len(a.cameras()) == 1) {
			c = cc
		}
	}
	if c == nil {
		return nil, fmt.Errorf("snapshot: name the camera (\"camera\": ...); %q is not one of the %d cameras", name, len(a.cameras()))
	}
	reply := make(chan snapshot, 1)
	select {
	case c.snapshots <- reply:
	default:
		return nil, fmt.Errorf("snapshot: camera %s has too many snapshots pending", c.Name)
	}
	select {
	case s := <-reply:
		if s.err != nil {
			return nil, s.err
		}
		return json.Marshal(s)
	case <-time.After(snapshotWait):
		return nil, fmt.Errorf("snapshot: camera %s took no frame within %s (a triggered camera waits for its trigger)", c.Name, snapshotWait)
	}
}

// takeSnapshot encodes f; it runs on the camera's goroutine, only when a
// snapshot was asked for.
func takeSnapshot(camera string, f *capture.Frame) snapshot {
	var buf bytes.Buffer
	b := f.Image.Bounds()
	s := snapshot{Camera: camera, Seq: f.Seq, Item: f.Item, Captured: f.Captured, Width: b.Dx(), Height: b.Dy()}
	if err := jpeg.Encode(&buf, f.Image, &jpeg.Options{Quality: 85}); err != nil {
		s.err = fmt.Errorf("snapshot: camera %s: %w", camera, err)
		return s
	}
	s.JPEG = buf.Bytes()
	return s
}
