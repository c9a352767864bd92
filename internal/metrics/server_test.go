package metrics

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func get(t *testing.T, h http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
	return w
}

func TestMetricsEndpoint(t *testing.T) {
	r := NewRegistry()
	r.Counter("frames_total", "f").Add(5)
	w := get(t, Handler(r, nil, nil), http.MethodGet, "/metrics")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d; want 200", w.Code)
	}
	if got := w.Header().Get("Content-Type"); got != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}
	if got, want := w.Body.String(), "# HELP frames_total f\n# TYPE frames_total counter\nframes_total 5\n"; got != want {
		t.Errorf("body %q; want %q", got, want)
	}
}

func TestHealthz(t *testing.T) {
	tests := []struct {
		name   string
		health map[string]string
		code   int
		status string // of the JSON report; "" for a 200
	}{
		{"no health func", nil, 200, ""},
		{"all ok", map[string]string{"camera:belt": "ok", "backend": "ok", "mqtt": "ok", "spool": "ok"}, 200, ""},
		{"a camera down", map[string]string{"camera:belt": "down", "backend": "ok", "mqtt": "ok"}, 503, "down"},
		{"backend degraded", map[string]string{"camera:belt": "ok", "backend": "degraded"}, 503, "degraded"},
		{"down beats degraded", map[string]string{"mqtt": "degraded", "spool": "down", "backend": "degraded"}, 503, "down"},
		{"unknown state", map[string]string{"pipeline": "paused"}, 503, "degraded"},
		{"empty state", map[string]string{"spool": ""}, 503, "degraded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f func() map[string]string
			if tt.health != nil {
				f = func() map[string]string { return tt.health }
			}
			w := get(t, Handler(NewRegistry(), f, nil), http.MethodGet, "/healthz")
			if w.Code != tt.code {
				t.Fatalf("status %d; want %d (body %q)", w.Code, tt.code, w.Body)
			}
			if tt.code == 200 {
				if w.Body.String() != "ok\n" {
					t.Errorf("body %q; want \"ok\\n\"", w.Body)
				}
				return
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q; want application/json", ct)
			}
			var rep HealthReport
			if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			if rep.Status != tt.status {
				t.Errorf("status %q; want %q", rep.Status, tt.status)
			}
			if len(rep.Components) != len(tt.health) {
				t.Errorf("components %v; want %v", rep.Components, tt.health)
			}
			for k, v := range tt.health {
				if rep.Components[k] != v {
					t.Errorf("component %s: %q; want %q", k, rep.Components[k], v)
				}
			}
		})
	}
}

func TestOtherPathsAndMethods(t *testing.T) {
	h := Handler(NewRegistry(), nil, nil)
	for _, path := range []string{"/", "/metrics/", "/metricsx", "/healthz/x", "/debug/pprof/", "/favicon.ico", "/METRICS"} {
		if w := get(t, h, http.MethodGet, path); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: status %d; want 404", path, w.Code)
		}
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		w := get(t, h, m, "/metrics")
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s /metrics: status %d, Allow %q; want 405, \"GET, HEAD\"", m, w.Code, w.Header().Get("Allow"))
		}
	}
	if w := get(t, h, http.MethodHead, "/healthz"); w.Code != http.StatusOK {
		t.Errorf("HEAD /healthz: status %d", w.Code)
	}
}

func TestListenRefusesRemote(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:9464", "[2001:db8::1]:9464"} {
		s, err := Listen(NewRegistry(), Options{Addr: addr})
		if err == nil {
			s.ln.Close()
			t.Errorf("Listen(%s) accepted a non-loopback address", addr)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "metrics: ") || !strings.Contains(msg, "http.allow_remote: true") || !strings.Contains(msg, DefaultAddr) {
			t.Errorf("Listen(%s): error %q does not say how to allow it", addr, msg)
		}
	}
	for _, addr := range []string{"9464", "127.0.0.1", "127.0.0.1:x:y"} {
		if _, err := Listen(NewRegistry(), Options{Addr: addr}); err == nil || !strings.Contains(err.Error(), "want host:port") {
			t.Errorf("Listen(%q): error %v; want one asking for host:port", addr, err)
		}
	}
}

func TestListenAllowRemote(t *testing.T) {
	s, err := Listen(NewRegistry(), Options{Addr: "0.0.0.0:0", AllowRemote: true})
	if err != nil {
		t.Fatalf("Listen with AllowRemote: %v", err)
	}
	defer s.ln.Close()
	if ip := s.Addr().(*net.TCPAddr).IP; !ip.IsUnspecified() {
		t.Errorf("bound %v; want 0.0.0.0", ip)
	}
}

func TestListenLoopback(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "localhost:0"} {
		s, err := Listen(NewRegistry(), Options{Addr: addr})
		if err != nil {
			t.Errorf("Listen(%s): %v", addr, err)
			continue
		}
		if ip := s.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
			t.Errorf("Listen(%s) bound %v", addr, ip)
		}
		s.ln.Close()
	}
	if s, err := Listen(NewRegistry(), Options{}); err == nil {
		if got := s.Addr().String(); got != DefaultAddr {
			t.Errorf("default address %s; want %s", got, DefaultAddr)
		}
		s.ln.Close()
	} // else the port is taken on this host; the default is checked by the line above when it is free
}

// TestServe runs the real server: it answers over TCP, and returns nil
// once its context is cancelled, after which the port is closed.
func TestServe(t *testing.T) {
	r := NewRegistry()
	r.Gauge("up_value", "u").Set(1)
	var mu sync.Mutex
	state := "ok"
	s, err := Listen(r, Options{Addr: "127.0.0.1:0", Health: func() map[string]string {
		mu.Lock()
		defer mu.Unlock()
		return map[string]string{"mqtt": state}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if s.srv.ReadHeaderTimeout == 0 || s.srv.ReadTimeout == 0 || s.srv.WriteTimeout == 0 || s.srv.IdleTimeout == 0 {
		t.Errorf("timeouts not all set: %+v", s.srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()

	base := "http://" + s.Addr().String()
	client := &http.Client{Timeout: 10 * time.Second}
	fetch := func(path string) (int, string) {
		t.Helper()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := fetch("/metrics"); code != 200 || !strings.Contains(body, "up_value 1\n") {
		t.Errorf("/metrics: %d %q", code, body)
	}
	if code, body := fetch("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	mu.Lock()
	state = "down"
	mu.Unlock()
	if code, body := fetch("/healthz"); code != 503 || !strings.Contains(body, `"mqtt":"down"`) {
		t.Errorf("/healthz with mqtt down: %d %q", code, body)
	}
	if code, _ := fetch("/nothing"); code != 404 {
		t.Errorf("/nothing: %d", code)
	}
	client.CloseIdleConnections()

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve after cancel: %v; want nil", err)
		}
	case <-time.After(ShutdownTimeout + 5*time.Second):
		t.Fatal("Serve did not return after its context was cancelled")
	}
	if _, err := client.Get(base + "/metrics"); err == nil {
		t.Error("server still answers after shutdown")
	}
}
