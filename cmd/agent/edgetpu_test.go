//go:build tflite && cgo

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/infer/delegate/delegatetest"
	"github.com/fruitcam/fruitcam/internal/testdata"
	"github.com/fruitcam/fruitcam/publish"
	"github.com/fruitcam/fruitcam/publish/publishtest"
)

// TestRunEdgeTPUFailover runs the agent with backend auto on an Edge TPU
// model and the fake TPU of delegatetest (libedgetpu's entry points, the
// compiled operator run by the CPU model): results come from the TPU; the
// TPU fails (an unplugged USB accelerator) and the results go on from the
// CPU model, the stats saying so at once; the TPU comes back and the agent
// returns to it. No result is lost on the way.
func TestRunEdgeTPUFailover(t *testing.T) {
	root := testdata.Root(t)
	dir := delegatetest.FakeTPU(t)
	control := delegatetest.Use(t, dir, root+"/models/coral/mobilenet_v1_0.25_128_quant.tflite")
	addr := freePort(t)
	cfg := testConfig(t, `cameras:
  - name: belt
    source: {type: pattern, width: 160, height: 120, rate: 50}
`+embeddedMQTT(t, addr))
	cfg.Model.Path = root + "/models/coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite"
	cfg.Model.Backend = "auto"
	cfg.Model.EdgeTPU.Watchdog = time.Second
	cfg.Model.EdgeTPU.Retry = 50 * time.Millisecond
	cfg.Infer.Workers, cfg.Infer.Batch.Size = 1, 1
	cfg.MQTT.StatsInterval = time.Hour // only the stats a backend switch sends

	a, sub, cancel, done := startAgent(t, cfg, addr)
	defer cancel()
	resultFrom := func(backend string) func(publishtest.Message) bool {
		return func(m publishtest.Message) bool {
			r, err := publish.DecodeResult(m.Payload)
			return strings.HasSuffix(m.Topic, "/result") && err == nil && r.Backend == backend
		}
	}
	statsWith := func(state, health string) func(publishtest.Message) bool {
		return func(m publishtest.Message) bool {
			if m.Topic != "fruitcam/testbelt/stats" {
				return false
			}
			st, err := publish.DecodeStats(m.Payload)
			return err == nil && st.EdgeTPU != nil && st.EdgeTPU.State == state && st.Health["backend"] == health
		}
	}
	sub.WaitFor(t, "a result from the TPU", resultFrom("edgetpu"))

	delegatetest.SetControl(t, control, delegatetest.Fail)
	m := sub.WaitFor(t, "stats saying the CPU model runs", statsWith("fallback", publish.HealthDegraded))
	st, _ := publish.DecodeStats(m.Payload)
	if st.EdgeTPU.Active != "native" || st.EdgeTPU.Failures != 1 || !strings.Contains(st.EdgeTPU.LastError, "USB") {
		t.Errorf("stats after the failure: %+v", *st.EdgeTPU)
	}
	sub.WaitFor(t, "a result from the CPU model", resultFrom("native"))

	delegatetest.SetControl(t, control, delegatetest.OK)
	sub.WaitFor(t, "stats saying the TPU is back", statsWith("ok", publish.HealthOK))
	sub.WaitFor(t, "a result from the TPU again", resultFrom("edgetpu"))

	stopAgent(t, cancel, done)
	waitAllResults(t, sub, a.stats().Items)
	if f := a.stats().Failed; f != 0 {
		t.Errorf("%d frames failed: the switch must not lose any", f)
	}
}
