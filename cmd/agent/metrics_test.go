package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRunMetrics: with http.enabled the agent serves Prometheus figures
// that move as it works, and /healthz says ok.
func TestRunMetrics(t *testing.T) {
	mqttAddr, httpAddr := freePort(t), freePort(t)
	cfg := testConfig(t, `cameras:
  - name: belt
    source: {type: pattern, width: 160, height: 120, rate: 30}
http: {enabled: true, listen: "`+httpAddr+`"}
`+embeddedMQTT(t, mqttAddr))
	a, _, cancel, done := startAgent(t, cfg, mqttAddr)
	defer cancel()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + httpAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for a.stats().Items < 5 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	code, body := get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`fruitcam_agent_info{backend="native",device="testbelt"} 1`,
		"fruitcam_frames_in_total ",
		`fruitcam_inference_seconds_bucket{le="+Inf"} `,
		`fruitcam_health{component="camera:belt",state="ok"} 1`,
		`fruitcam_backend_state{state="ok"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "fruitcam_frames_in_total 0\n") || strings.Contains(body, "fruitcam_results_published_total 0\n") {
		t.Errorf("counters did not move:\n%s", body)
	}
	if code, body := get("/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	stopAgent(t, cancel, done)
}
