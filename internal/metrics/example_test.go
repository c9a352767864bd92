package metrics_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/fruitcam/fruitcam/internal/metrics"
)

// The agent registers its figures once, updates the histograms as
// results go out, copies counts kept elsewhere in at each scrape, and
// serves them on loopback until its context ends.
func Example() {
	reg := metrics.NewRegistry()
	m := metrics.NewAgent(reg, metrics.AgentOptions{
		Device: "pi-belt-1", Backend: "native",
		Cameras:    []string{"belt"},
		Components: []string{"camera:belt", "backend", "mqtt"},
	})

	// Per result: allocation-free.
	m.Inference.ObserveDuration(12 * time.Millisecond)
	m.CaptureToPublish.ObserveDuration(85 * time.Millisecond)
	m.ResultsPublished.Inc()

	// Per scrape: copy the pipeline's counters and the health map (here
	// fixed values stand for pipeline.Stats and agent.counters).
	health := map[string]string{"camera:belt": "ok", "backend": "ok", "mqtt": "down"}
	reg.OnScrape(func() {
		m.FramesIn.Set(120)
		m.QueueDepth.Set(2)
		m.SetHealth(health)
	})

	srv, err := metrics.Listen(reg, metrics.Options{
		Addr:   "127.0.0.1:0", // the config's http.listen; "" means 127.0.0.1:9464
		Health: func() map[string]string { return health },
		Log:    slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Serve(ctx) }()

	var b strings.Builder
	reg.WriteTo(&b)
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "fruitcam_frames_in_total") || strings.HasPrefix(line, `fruitcam_health{component="mqtt"`) {
			fmt.Println(line)
		}
	}
	cancel()
	fmt.Println("served:", <-done)

	_, err = metrics.Listen(reg, metrics.Options{Addr: "0.0.0.0:9464"})
	fmt.Println(err != nil)
	// Output:
	// fruitcam_frames_in_total 120
	// fruitcam_health{component="mqtt",state="ok"} 0
	// fruitcam_health{component="mqtt",state="degraded"} 0
	// fruitcam_health{component="mqtt",state="down"} 1
	// served: <nil>
	// true
}
