package publishtest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/internal/testdata"
)

// MosquittoPath is where Debian's mosquitto package installs the broker.
const MosquittoPath = "/usr/sbin/mosquitto"

// Mosquitto is a mosquitto broker run by a test in the foreground on
// loopback ports, anonymous, without persistence (retained messages are
// lost when it stops, like the embedded broker's). It listens for MQTT on
// TCP (URL), on WebSockets (WebSocketURL) and on TLS (TLSURL, with a
// certificate for 127.0.0.1 from a CA made for the test, TLSConfig).
type Mosquitto struct {
	t       testing.TB
	bin     string
	conf    string
	port    int
	wsPort  int
	tlsPort int
	tls     *tls.Config
	// mtlsPort is a TLS listener that also requires a client certificate
	// signed by the test CA.
	mtlsPort int
	certs    Certs

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	log    *syncBuffer
}

// StartMosquitto starts mosquitto on a free loopback port and returns once
// it accepts connections. Without mosquitto installed the test is skipped,
// or fails under CI=true (install Debian's mosquitto package). It is
// killed at cleanup.
func StartMosquitto(t testing.TB) *Mosquitto {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		bin = MosquittoPath
		if _, err := os.Stat(bin); err != nil {
			testdata.Missing(t, fmt.Errorf("publishtest: mosquitto not found in PATH or at %s (apt-get install mosquitto): %w", MosquittoPath, err))
		}
	}
	m := &Mosquitto{t: t, bin: bin}
	t.Cleanup(m.Kill)
	// A free port can be taken between closing our probe and mosquitto's
	// bind; try a few.
	// Run as root, mosquitto becomes its own user before it reads the
	// certificates: let it into the test's temporary directory.
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	m.certs = NewCerts(t, dir)
	m.tls = &tls.Config{RootCAs: m.certs.Pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	for attempt := 0; ; attempt++ {
		m.port, m.wsPort, m.tlsPort, m.mtlsPort = freePort(t), freePort(t), freePort(t), freePort(t)
		m.conf = filepath.Join(dir, "mosquitto.conf")
		conf := fmt.Sprintf(`per_listener_settings false
allow_anonymous true
persistence false
log_dest stderr
log_type error
log_type warning
listener %d 127.0.0.1
listener %d 127.0.0.1
protocol websockets
listener %[3]d 127.0.0.1
cafile %[5]s
certfile %[6]s
keyfile %[7]s
listener %[4]d 127.0.0.1
cafile %[5]s
certfile %[6]s
keyfile %[7]s
require_certificate true
`, m.port, m.wsPort, m.tlsPort, m.mtlsPort, m.certs.CA, m.certs.ServerCert, m.certs.ServerKey)
		if err := os.WriteFile(m.conf, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		err := m.start()
		if err == nil {
			return m
		}
		if attempt == 4 {
			t.Fatal(err)
		}
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Addr returns 127.0.0.1:port.
func (m *Mosquitto) Addr() string { return "127.0.0.1:" + strconv.Itoa(m.port) }

// URL returns tcp://Addr().
func (m *Mosquitto) URL() string { return "tcp://" + m.Addr() }

// WebSocketURL returns the ws:// URL of the WebSocket listener.
func (m *Mosquitto) WebSocketURL() string {
	return "ws://127.0.0.1:" + strconv.Itoa(m.wsPort) + "/mqtt"
}

// TLSURL returns the ssl:// URL of the TLS listener.
func (m *Mosquitto) TLSURL() string { return "ssl://127.0.0.1:" + strconv.Itoa(m.tlsPort) }

// MTLSURL returns the ssl:// URL of the listener that requires a client
// certificate (Certs().ClientCert).
func (m *Mosquitto) MTLSURL() string { return "ssl://127.0.0.1:" + strconv.Itoa(m.mtlsPort) }

// Certs returns the files of the test PKI the TLS listeners use.
func (m *Mosquitto) Certs() Certs { return m.certs }

// TLSConfig trusts the test CA that signed the TLS listener's certificate.
func (m *Mosquitto) TLSConfig() *tls.Config { return m.tls.Clone() }

// Start starts the broker again on the same port after Kill.
func (m *Mosquitto) Start() {
	m.t.Helper()
	if err := m.start(); err != nil {
		m.t.Fatal(err)
	}
}

func (m *Mosquitto) start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		return errors.New("publishtest: mosquitto is already running")
	}
	log := &syncBuffer{}
	cmd := exec.Command(m.bin, "-c", m.conf)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("publishtest: start %s: %w", m.bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	m.cmd, m.exited, m.log = cmd, exited, log

	// Ready when it accepts a connection; the short retry interval is a
	// readiness probe bounded by Wait, not a synchronisation sleep.
	deadline := time.NewTimer(Wait)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if m.listening() {
			return nil
		}
		select {
		case <-exited:
			m.cmd = nil
			return fmt.Errorf("publishtest: mosquitto exited on start: %s", log.String())
		case <-deadline.C:
			m.killLocked()
			return fmt.Errorf("publishtest: mosquitto did not listen on %s within %s: %s", m.Addr(), Wait, log.String())
		case <-tick.C:
		}
	}
}

func (m *Mosquitto) listening() bool {
	for _, p := range []int{m.port, m.wsPort, m.tlsPort} {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(p), time.Second)
		if err != nil {
			return false
		}
		c.Close()
	}
	return true
}

// Kill stops the broker with SIGKILL, as a crash would, and waits for it
// to exit. Calling it when it is not running does nothing.
func (m *Mosquitto) Kill() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.killLocked()
}

func (m *Mosquitto) killLocked() {
	if m.cmd == nil {
		return
	}
	_ = m.cmd.Process.Kill()
	<-m.exited
	m.cmd = nil
}

// Log returns what the running (or last) mosquitto wrote.
func (m *Mosquitto) Log() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.log == nil {
		return ""
	}
	return m.log.String()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
