package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/fruitcam/fruitcam/capture"
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
	case publish.CmdTrigger:
		var fired []string
		for _, c := range a.cameras {
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
		}
		p := publish.NewStats(a.meta, a.counters(a.pipe.Stats()), time.Now())
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
	if st.Failed > 0 {
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
	for _, c := range a.cameras {
		state := publish.HealthOK
		if c.v4l2 != nil {
			switch h := c.v4l2.Health(); {
			case h.State == capture.Reconnecting:
				state = publish.HealthDown
			case h.Bad > 0 || h.Reopens > 0:
				state = publish.HealthDegraded
			}
		}
		health["camera:"+c.Name] = state
	}
	depth := st.QueueDepth
	if a.mqtt != nil {
		depth += a.mqtt.depth()
	}
	return publish.Counters{
		Uptime:   time.Since(a.started),
		FramesIn: st.FPSIn, Processed: st.FPSProcessed, Skipped: st.FPSSkipped,
		QueueDepth:   depth,
		InferenceP50: st.InferenceP50, InferenceP99: st.InferenceP99,
		Health: health,
	}
}

func contextTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
