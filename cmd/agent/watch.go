package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/fruitcam/fruitcam/internal/cli"
	"github.com/fruitcam/fruitcam/internal/config"
	"github.com/fruitcam/fruitcam/publish"
)

// cmdWatch subscribes to a device's topics and prints what arrives, one
// line per message: what an operator (or a newcomer running make demo)
// wants to see. It reads the broker, credentials, prefix and device from
// the agent's config.
func cmdWatch(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: agent watch --config FILE [--count N] [--timeout D]")
		fs.PrintDefaults()
	}
	path := fs.String("config", "", "the agent's config `file` (broker, user, prefix, device)")
	count := fs.Int("count", 0, "stop after this many results (0: until interrupted)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to keep trying to reach the broker")
	pos, err := cli.ParseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return cli.Usagef("unexpected argument %q", pos[0])
	case *path == "":
		return cli.Usagef("--config is required")
	case *count < 0:
		return cli.Usagef("--count must not be negative")
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	if !cfg.MQTT.Enabled {
		return fmt.Errorf("%s: mqtt is not enabled: nothing to watch", *path)
	}
	pw, err := cfg.MQTT.Password()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	msgs := make(chan mqtt.Message, 256)
	topic := cfg.MQTT.Prefix + "/" + cfg.Device.ID + "/#"
	c, broker, err := dial(ctx, cfg, cfg.MQTT.Username, pw, "watch", *timeout, func(c mqtt.Client) {
		c.Subscribe(topic, 1, func(_ mqtt.Client, msg mqtt.Message) { msgs <- msg })
	})
	if err != nil || c == nil {
		return err
	}
	defer c.Disconnect(250)
	fmt.Fprintf(stdout, "watching %s on %s\n", topic, broker)
	results := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case msg := <-msgs:
			if printMessage(stdout, msg.Topic(), msg.Payload()) {
				results++
				if *count > 0 && results >= *count {
					return nil
				}
			}
		}
	}
}

// dial connects to the broker of cfg (the embedded one when it runs one)
// as user, retrying until timeout: the agent may still be starting its
// broker. onConnect runs after every connection. A nil client with a nil
// error means ctx ended first.
func dial(ctx context.Context, cfg *config.Config, user, pw, tool string, timeout time.Duration, onConnect func(mqtt.Client)) (mqtt.Client, string, error) {
	m := cfg.MQTT
	broker := m.Broker
	if m.Embedded.Enabled {
		broker = "tcp://" + m.Embedded.Listen
	}
	opts := mqtt.NewClientOptions().AddBroker(broker).
		SetClientID(fmt.Sprintf("fruitcam-%s-%d", tool, os.Getpid())).
		SetUsername(user).SetPassword(pw).
		SetConnectTimeout(5 * time.Second).SetAutoReconnect(true).
		SetOnConnectHandler(onConnect)
	if m.TLS.Set() && !m.Embedded.Enabled {
		t := m.TLS
		tc, err := (publish.TLSFiles{CA: t.CA, Cert: t.Cert, Key: t.Key, ServerName: t.ServerName}).Config()
		if err != nil {
			return nil, broker, err
		}
		opts.SetTLSConfig(tc)
	}
	c := mqtt.NewClient(opts)
	deadline := time.Now().Add(timeout)
	for {
		tok := c.Connect()
		tok.Wait()
		if tok.Error() == nil {
			return c, broker, nil
		}
		if time.Now().After(deadline) {
			return nil, broker, fmt.Errorf("%s: cannot reach %s: %w", tool, broker, tok.Error())
		}
		select {
		case <-ctx.Done():
			return nil, broker, nil
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// printMessage prints one message readably and reports whether it was a
// result.
func printMessage(w io.Writer, topic string, payload []byte) bool {
	switch {
	case strings.HasSuffix(topic, "/result"):
		r, err := publish.DecodeResult(payload)
		if err != nil {
			fmt.Fprintf(w, "%s: %v\n", topic, err)
			return false
		}
		var alt []string
		for _, c := range r.Top[min(1, len(r.Top)):] {
			alt = append(alt, fmt.Sprintf("%s %.1f%%", short(c.Label), 100*c.Score))
		}
		fmt.Fprintf(w, "#%-5d %-8s %-16s %5.1f%%   (%s)   capture→publish %.0f ms, inference %.1f ms\n",
			r.Seq, r.Camera, short(r.Label), 100*r.Score, strings.Join(alt, ", "), r.LatencyMS.CaptureToPublish, r.LatencyMS.Inference)
		return true
	case strings.HasSuffix(topic, "/stats"):
		s, err := publish.DecodeStats(payload)
		if err != nil {
			fmt.Fprintf(w, "%s: %v\n", topic, err)
			return false
		}
		fmt.Fprintf(w, "stats: %.1f frames/s in, %.1f processed, %.1f skipped; queue %d; inference p50 %.1f ms, p99 %.1f ms; %v\n",
			s.FPS.In, s.FPS.Processed, s.FPS.Skipped, s.QueueDepth, s.InferenceMS.P50, s.InferenceMS.P99, s.Health)
	case strings.HasSuffix(topic, "/label"):
		// The label topic repeats the result's label for dashboards.
	default:
		fmt.Fprintf(w, "%s: %s\n", topic, payload)
	}
	return false
}

// short keeps the first of a label's synonyms ("punching bag, punch bag,
// ..." from ImageNet), so lines stay readable.
func short(label string) string {
	if i := strings.Index(label, ","); i > 0 {
		return label[:i]
	}
	return label
}
