package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/fruitcam/fruitcam/internal/cli"
	"github.com/fruitcam/fruitcam/internal/config"
)

// cmdRun is the product's main job: cameras -> pipeline -> MQTT, until
// SIGINT/SIGTERM (then in-flight frames finish and are published) or
// until every camera is a finite source that has ended (a folder without
// loop: batch mode).
func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: agent run --config FILE")
		fs.PrintDefaults()
	}
	path := fs.String("config", "", "config `file` (YAML; see configs/ and `agent validate`)")
	pos, err := cli.ParseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return cli.Usagef("unexpected argument %q (the config goes in --config)", pos[0])
	case *path == "":
		return cli.Usagef("--config is required")
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	errs, warnings := cfg.CheckHost()
	for _, w := range warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	if len(errs) > 0 {
		return errs
	}
	log := newLogger(cfg.Log, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := newAgent(ctx, cfg, log, stdout)
	if err != nil {
		return err
	}
	return a.run(ctx)
}

// newLogger builds the agent's logger from the config: text or JSON on
// stderr, at the configured level.
func newLogger(c config.Log, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.SlogLevel()}
	if c.Format == config.FormatJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
