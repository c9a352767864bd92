package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// DefaultAddr is where the server listens when enabled without an
// address: loopback only, so that a scraper on the board itself (or an
// SSH tunnel) reads it and nothing on the network does.
const DefaultAddr = "127.0.0.1:9464"

// Server timeouts. Scrapes are small and local; the limits only keep a
// slow or hostile client from holding a connection and its goroutine.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 10 * time.Second
	WriteTimeout      = 10 * time.Second
	IdleTimeout       = 60 * time.Second
	ShutdownTimeout   = 5 * time.Second
	maxHeaderBytes    = 8 << 10
)

// Options configure Listen.
type Options struct {
	// Addr is host:port to listen on; "" means DefaultAddr. A host that
	// is not a loopback address (0.0.0.0, ::, "", a LAN address or a name
	// resolving to one) needs AllowRemote.
	Addr string
	// AllowRemote permits a non-loopback Addr. The figures say what the
	// board does and when it fails, and the server has no
	// authentication, so exposing it is a decision the config must state.
	AllowRemote bool
	// Health returns the state of each component (camera:<name>, backend,
	// mqtt, spool -> HealthOK, HealthDegraded, HealthDown). It is called
	// once per /healthz request, from the request's goroutine. Nil: the
	// agent is healthy while it answers.
	Health func() map[string]string
	// Log receives the server's errors; nil discards them.
	Log *slog.Logger
}

// Server serves /metrics and /healthz over HTTP.
type Server struct {
	ln  net.Listener
	srv *http.Server
	log *slog.Logger
}

// Listen binds o.Addr, refusing a non-loopback address unless
// o.AllowRemote, and returns the server, ready for Serve. Binding here
// rather than in Serve makes a taken port a start-up error.
func Listen(r *Registry, o Options) (*Server, error) {
	addr := o.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen address %q: want host:port such as %s: %w", addr, DefaultAddr, err)
	}
	if !o.AllowRemote {
		// Refuse the obvious cases before binding, so that the port is
		// never open to the network, even for an instant.
		if ip := net.ParseIP(host); host == "" || ip != nil && !ip.IsLoopback() {
			return nil, remoteError(addr)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listening on %s: %w", addr, err)
	}
	// A name (localhost, a host name) is only known after resolution.
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !o.AllowRemote && !tcp.IP.IsLoopback() {
		ln.Close()
		return nil, remoteError(fmt.Sprintf("%s (%s)", addr, tcp))
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{ln: ln, log: log}
	s.srv = &http.Server{
		Handler:           Handler(r, o.Health, log),
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return s, nil
}

func remoteError(addr string) error {
	return fmt.Errorf("metrics: refusing to serve /metrics on %s: it is not a loopback address, and the figures would be open to the network without authentication; listen on %s, or set http.allow_remote: true to expose them on purpose", addr, DefaultAddr)
}

// Addr returns the address the server listens on (with the port chosen
// when Addr's was 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve answers requests until ctx is done, then shuts down gracefully:
// it stops accepting, lets requests in flight finish for up to
// ShutdownTimeout, then closes what is left. It returns nil after a
// shutdown caused by ctx, an error when serving failed. Serve may be
// called once.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("metrics: serving on %s: %w", s.ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		s.log.Warn("metrics server stopped", "err", serr)
	}
	if err != nil {
		s.srv.Close()
		return fmt.Errorf("metrics: shutting down on %s: requests still running after %s: %w", s.ln.Addr(), ShutdownTimeout, err)
	}
	return nil
}

// Handler returns the server's handler: /metrics writes r, /healthz
// reports health (nil: always ok), any other path is 404. Both accept GET
// and HEAD only.
func Handler(r *Registry, health func() map[string]string, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &handler{reg: r, health: health, log: log}
}

type handler struct {
	reg    *Registry
	health func() map[string]string
	log    *slog.Logger
}

func (h *handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path != "/metrics" && req.URL.Path != "/healthz" {
		http.NotFound(w, req)
		return
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed: use GET", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if req.URL.Path == "/metrics" {
		w.Header().Set("Content-Type", ContentType)
		if _, err := h.reg.WriteTo(w); err != nil {
			h.log.Debug("metrics scrape not delivered", "remote", req.RemoteAddr, "err", err)
		}
		return
	}
	code, body := healthz(h.health)
	if code == http.StatusOK {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(code)
	io.WriteString(w, body)
}

// HealthReport is the body of an unhealthy /healthz: Status is the worst
// component's state (down, else degraded), Components every component's.
type HealthReport struct {
	Status     string            `json:"status"`
	Components map[string]string `json:"components"`
}

// healthz returns 200 "ok" when every component is ok (or there are
// none), else 503 with a HealthReport. A state other than the three
// (paused, empty) counts as degraded: not ok, yet not down.
func healthz(health func() map[string]string) (int, string) {
	var comps map[string]string
	if health != nil {
		comps = health()
	}
	status := HealthOK
	for _, st := range comps {
		switch {
		case st == HealthOK:
		case st == HealthDown:
			status = HealthDown
		case status == HealthOK:
			status = HealthDegraded
		}
	}
	if status == HealthOK {
		return http.StatusOK, "ok\n"
	}
	b, err := json.Marshal(HealthReport{Status: status, Components: comps})
	if err != nil { // cannot happen for a map of strings; say so rather than hide it
		return http.StatusInternalServerError, fmt.Sprintf("metrics: encoding the health report: %v\n", err)
	}
	return http.StatusServiceUnavailable, string(b) + "\n"
}
