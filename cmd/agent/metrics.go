package main

import (
	"context"
	"strings"
	"time"

	"github.com/fruitcam/fruitcam/internal/metrics"
	"github.com/fruitcam/fruitcam/internal/pipeline"
)

// startMetrics registers the agent's figures and binds the HTTP server of
// /metrics and /healthz (http.enabled); run serves it.
func (a *agent) startMetrics() error {
	h := a.cfg.HTTP
	if !h.Enabled {
		return nil
	}
	reg := metrics.NewRegistry()
	o := metrics.AgentOptions{Device: a.cfg.Device.ID, Backend: a.cfg.Model.Backend, Components: []string{"backend"}}
	for _, c := range a.cfg.Cameras {
		o.Cameras = append(o.Cameras, c.Name)
		o.Components = append(o.Components, "camera:"+c.Name)
	}
	if a.cfg.MQTT.Enabled {
		o.Components = append(o.Components, "mqtt", "spool")
	}
	a.metrics = metrics.NewAgent(reg, o)
	reg.OnScrape(a.mirrorMetrics)
	srv, err := metrics.Listen(reg, metrics.Options{
		Addr: h.Listen, AllowRemote: h.AllowRemote, Health: a.health, Log: a.log.With("part", "http"),
	})
	if err != nil {
		return err
	}
	a.http = srv
	a.log.Info("metrics at http://"+srv.Addr().String()+"/metrics", "healthz", "http://"+srv.Addr().String()+"/healthz")
	return nil
}

// mirrorMetrics copies the counts kept elsewhere into the registry, once
// per scrape.
func (a *agent) mirrorMetrics() {
	m := a.metrics
	st := a.stats()
	m.FramesIn.Set(st.FramesIn)
	m.FramesProcessed.Set(st.Processed)
	m.FramesSkipped.Set(st.Skipped)
	m.FramesFailed.Set(st.Failed)
	m.FPSIn.Set(st.FPSIn)
	m.FPSProcessed.Set(st.FPSProcessed)
	m.FPSSkipped.Set(st.FPSSkipped)
	depth := st.QueueDepth
	published, dropped := st.Items, st.SinkErrors
	if a.mqtt != nil {
		depth += a.mqtt.depth()
		var lost uint64
		published, lost = a.mqtt.counts()
		dropped += lost
		m.SpoolDepth.Set(float64(a.mqtt.depth()))
		m.SpoolEvictions.Set(lost)
	}
	m.QueueDepth.Set(float64(depth))
	m.ResultsPublished.Set(published)
	m.ResultsDropped.Set(dropped)
	if a.client != nil {
		m.MQTTReconnects.Set(uint64(a.client.Reconnects()))
	}
	m.Uptime.Set(time.Since(a.started).Seconds())
	if tpu := a.edgeTPUHealth(); tpu != nil {
		m.EdgeTPUFailures.Set(uint64(tpu.Failures))
		m.EdgeTPUStalls.Set(uint64(tpu.Stalls))
		m.EdgeTPURecovered.Set(uint64(tpu.Recovered))
		m.BackendState.Set(tpu.State)
	}
	for _, c := range a.cameras() {
		if c.v4l2 == nil {
			continue
		}
		f, ok := m.Camera(c.Name)
		if !ok {
			continue // a fleet config is adding it
		}
		h := c.v4l2.Health()
		f.Reopens.Set(uint64(h.Reopens))
		f.BadFrames.Set(h.Bad)
		f.Dropped.Set(h.Dropped)
	}
	m.SetHealth(a.health())
}

// health is each component's state for /healthz and the metrics: the
// cameras, the backend and the broker link (the stats carry the rest).
func (a *agent) health() map[string]string {
	all := a.counters(a.stats()).Health
	out := make(map[string]string, len(all))
	for k, v := range all {
		if strings.HasPrefix(k, "camera:") || k == "backend" || k == "mqtt" || k == "spool" {
			out[k] = v
		}
	}
	if _, ok := out["backend"]; !ok {
		out["backend"] = all["inference"] // a CPU backend: its own errors
	}
	return out
}

// serveMetrics runs the HTTP server until ctx ends (nothing without one).
func (a *agent) serveMetrics(ctx context.Context) {
	if a.http == nil {
		return
	}
	if err := a.http.Serve(ctx); err != nil {
		a.log.Error("metrics server", "err", err)
	}
}

// metricsSink feeds the latency histograms from every result.
type metricsSink struct{ m *metrics.Agent }

func (s metricsSink) Send(_ context.Context, r pipeline.Result) error {
	s.m.Inference.ObserveDuration(r.Inference)
	if !r.Captured.IsZero() {
		s.m.CaptureToPublish.ObserveDuration(r.Done.Sub(r.Captured))
	}
	return nil
}
