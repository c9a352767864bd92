package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/internal/config"
	"github.com/fruitcam/fruitcam/internal/signing"
	"github.com/fruitcam/fruitcam/internal/testdata"
	"github.com/fruitcam/fruitcam/publish"
	"github.com/fruitcam/fruitcam/publish/publishtest"
)

// testFleet is a fleet of agents in this process against one mosquitto,
// an operator's key, and a web server for models.
type testFleet struct {
	t       *testing.T
	broker  *publishtest.Mosquitto
	sub     *publishtest.Subscriber
	op      *publishtest.Subscriber // the operator's connection, for pushes
	key     ed25519.PrivateKey
	keys    string // the trusted keys file
	root    string // the shared test data
	models  *httptest.Server
	fetches atomic.Int64
	boards  map[string]*testBoard
}

type testBoard struct {
	id     string
	config string // its own file
	a      *agent
	cancel context.CancelFunc
	done   chan error
}

func newTestFleet(t *testing.T) *testFleet {
	f := &testFleet{t: t, root: testdata.Root(t), boards: map[string]*testBoard{}}
	f.broker = publishtest.StartMosquitto(t)
	pub, key, err := signing.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f.key = key
	f.keys = filepath.Join(t.TempDir(), "trusted_keys")
	if err := os.WriteFile(f.keys, []byte(signing.TrustedKeyLine(pub, "ops")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	models := http.FileServer(http.Dir(filepath.Join(f.root, "models")))
	f.models = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.fetches.Add(1)
		models.ServeHTTP(w, r)
	}))
	t.Cleanup(f.models.Close)
	f.sub = publishtest.Subscribe(t, publishtest.Conn{Broker: f.broker.URL()}, "fruitcam/#")
	f.op = publishtest.Subscribe(t, publishtest.Conn{Broker: f.broker.URL()})
	return f
}

// start runs board id (in group "line"), with its state in its own
// fleet.dir; a board started again keeps its directory.
func (f *testFleet) start(id string) *testBoard { return f.startAt(id, 20) }

// startAt is start with the pattern camera at rate frames per second (0:
// as fast as the pipeline takes them, none dropped).
func (f *testFleet) startAt(id string, rate float64) *testBoard {
	t := f.t
	b := f.boards[id]
	if b == nil {
		dir := t.TempDir()
		yaml := fmt.Sprintf(`version: 1
device: {id: %s, group: line}
model:
  path: %s/models/coral/mobilenet_v1_0.25_128_quant.tflite
  labels: %s/models/coral/imagenet_labels.txt
  top: 3
cameras:
  - name: belt
    source: {type: pattern, width: 96, height: 96, rate: %g}
mqtt:
  broker: %s
  keepalive: 2s
  stats_interval: 1s
signing: {trusted_keys: %s}
fleet: {dir: %s/fleet, health_window: 1500ms}
`, id, f.root, f.root, rate, f.broker.URL(), f.keys, dir)
		b = &testBoard{id: id, config: filepath.Join(dir, "agent.yaml")}
		if err := os.WriteFile(b.config, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		f.boards[id] = b
	}
	cfg, err := config.Load(b.config)
	if err != nil {
		t.Fatal(err)
	}
	b.a, b.cancel, b.done = startOn(t, cfg)
	return b
}

func (f *testFleet) stop(id string) {
	b := f.boards[id]
	stopAgent(f.t, b.cancel, b.done)
	b.a = nil
}

// push signs a fleet config for topic with version and publishes it
// retained, as agent fleet push does.
func (f *testFleet) push(topic string, version uint64, yaml string) {
	env, err := signing.Sign(f.key, signing.Message{Purpose: signing.Config, Topic: topic, Body: []byte(yaml), Version: version, Time: time.Now()})
	if err != nil {
		f.t.Fatal(err)
	}
	publishtest.Publish(f.t, f.op.Client(), topic, 1, true, env)
}

// pushCLI pushes a fleet config with agent fleet push and returns its
// version.
func (f *testFleet) pushCLI(target, name, yaml string) uint64 {
	t := f.t
	t.Helper()
	dir := t.TempDir()
	key := filepath.Join(dir, "ops.pem")
	if err := signing.SavePrivateKey(key, f.key); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "layer.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := fleetCLI("fleet", "push", target, name, "--key", key, "--broker", f.broker.URL(), file)
	if code != 0 {
		t.Fatalf("agent fleet push: exit %d: %s%s", code, out, errOut)
	}
	var v uint64
	if _, err := fmt.Sscanf(out, "pushed version %d", &v); err != nil {
		t.Fatalf("agent fleet push printed %q", out)
	}
	return v
}

// state waits until board id's last config state satisfies ok.
func (f *testFleet) state(id, what string, ok func(publish.ConfigState) bool) publish.ConfigState {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last publish.ConfigState
	for time.Now().Before(deadline) {
		msgs := f.sub.Received()
		for i := len(msgs) - 1; i >= 0; i-- {
			if msgs[i].Topic == "fruitcam/"+id+"/config/state" {
				s, err := publish.DecodeConfigState(msgs[i].Payload)
				if err != nil {
					f.t.Fatalf("%s: config state: %v", id, err)
				}
				last = s
				break
			}
		}
		if ok(last) {
			return last
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.t.Fatalf("%s: no config state %s within 30 s; the last: %+v", id, what, last)
	return last
}

// results counts board id's results so far.
func (f *testFleet) results(id string) int {
	n := 0
	for _, m := range f.sub.Received() {
		if m.Topic == "fruitcam/"+id+"/belt/result" {
			n++
		}
	}
	return n
}

// lastResult returns board id's latest result.
func (f *testFleet) lastResult(id string) publish.Result {
	msgs := f.sub.Received()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Topic == "fruitcam/"+id+"/belt/result" {
			r, err := publish.DecodeResult(msgs[i].Payload)
			if err != nil {
				f.t.Fatal(err)
			}
			return r
		}
	}
	f.t.Fatalf("%s: no result", id)
	return publish.Result{}
}

// stillPublishing checks that each board publishes results after the
// counts in before.
func (f *testFleet) stillPublishing(before map[string]int) map[string]int {
	f.t.Helper()
	now := map[string]int{}
	for id, b := range f.boards {
		if b.a == nil {
			continue
		}
		deadline := time.Now().Add(10 * time.Second)
		for f.results(id) <= before[id] && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := f.results(id); n <= before[id] {
			f.t.Fatalf("%s stopped publishing results (%d, then %d)", id, before[id], n)
		}
		now[id] = f.results(id)
	}
	return now
}

func fileSHA256(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func applied(version uint64, source string) func(publish.ConfigState) bool {
	return func(s publish.ConfigState) bool {
		return s.Source == source && s.Version == version && s.State == publish.ConfigApplied && s.Health == publish.HealthPassed
	}
}

// TestFleet is the fleet's whole loop: four boards of group "line"
// against one mosquitto; a group config that swaps the model (fetched by
// URL, hash checked); a device override; a bad config (rejected); a
// config that fails its health check (rolled back); a model with a wrong
// hash and one that cannot run (refused); a board offline
// during two pushes that picks the retained config up when it returns.
// No board stops publishing results throughout.
func TestFleet(t *testing.T) {
	f := newTestFleet(t)
	const group = "fruitcam/fleet/line/config"
	for _, id := range []string{"belt-1", "belt-2", "belt-3", "belt-4"} {
		f.start(id)
	}
	for _, id := range []string{"belt-1", "belt-2", "belt-3", "belt-4"} {
		f.state(id, "local", func(s publish.ConfigState) bool { return s.Source == "local" && s.State == publish.ConfigApplied })
	}
	counts := f.stillPublishing(nil)

	// 1. The group's config: a new model by URL, labels by path, a threshold.
	model05 := filepath.Join(f.root, "models/coral/mobilenet_v1_0.5_160_quant.tflite")
	sum05 := fileSHA256(t, model05)
	// Pushed as an operator does, with agent fleet push (the version is
	// the time in ms): the later pushes sign directly, with small versions.
	v1 := f.pushCLI("--group", "line", fmt.Sprintf(`version: 1
model:
  path: %s/coral/mobilenet_v1_0.5_160_quant.tflite
  sha256: %s
  labels: %s/models/coral/imagenet_labels.txt
pipeline: {threshold: 0.01, unknown_label: unsure}
`, f.models.URL, sum05, f.root))
	for _, id := range []string{"belt-1", "belt-2", "belt-3", "belt-4"} {
		s := f.state(id, "group v1 applied", applied(v1, "group"))
		if s.Running.Model.SHA256 != sum05 || s.Running.Group == nil || s.Running.Group.Version != v1 {
			t.Errorf("%s runs %+v after group v1, want model %s", id, s.Running, sum05[:12])
		}
	}
	if n := f.fetches.Load(); n != 4 {
		t.Errorf("the model was fetched %d times, want once per board (4)", n)
	}
	counts = f.stillPublishing(counts)
	if r := f.lastResult("belt-2"); r.Model.SHA256 != sum05 {
		t.Errorf("belt-2's results name model %s, want %s", r.Model.SHA256, sum05)
	}

	// belt-4 goes offline: it misses the next pushes.
	f.stop("belt-4")

	// 2. belt-3's own override, merged over the group's.
	f.push("fruitcam/belt-3/config/set", 1, "version: 1\nmodel: {top: 2}\n")
	s := f.state("belt-3", "device v1 applied", applied(1, "device"))
	if s.Running.Group == nil || s.Running.Group.Version != v1 || s.Running.Device == nil || s.Running.Model.SHA256 != sum05 {
		t.Errorf("belt-3 runs %+v, want group v1 and device v1", s.Running)
	}
	counts = f.stillPublishing(counts)
	if r := f.lastResult("belt-3"); len(r.Top) != 2 {
		t.Errorf("belt-3's result has %d classes, want its override's 2", len(r.Top))
	}
	if r := f.lastResult("belt-1"); len(r.Top) != 3 {
		t.Errorf("belt-1's result has %d classes, want 3 (the override is belt-3's)", len(r.Top))
	}

	// 3. A bad config: rejected, the board runs on.
	f.push("fruitcam/belt-2/config/set", 1, "version: 1\npipeline: {treshold: 0.5}\n")
	s = f.state("belt-2", "device v1 rejected", func(s publish.ConfigState) bool {
		return s.Version == 1 && s.Source == "device" && s.State == publish.ConfigRejected
	})
	if !strings.Contains(s.Reason, "treshold: unknown key") || s.Running.Group == nil || s.Running.Device != nil {
		t.Errorf("belt-2 rejected with %q and runs %+v", s.Reason, s.Running)
	}

	// 4. A config that fails its health check: rolled back.
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "broken.jpg"), []byte("not a jpeg"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.push("fruitcam/belt-1/config/set", 1, fmt.Sprintf(`version: 1
cameras:
  - name: belt
    source: {type: folder, path: %s, loop: true}
`, bad))
	s = f.state("belt-1", "device v1 rolled back", func(s publish.ConfigState) bool {
		return s.Version == 1 && s.State == publish.ConfigRolledBack
	})
	t.Logf("belt-1 rolled back: %s", s.Reason)
	if !strings.Contains(s.Reason, "camera belt stopped") || s.Running.Device != nil || s.Running.Model.SHA256 != sum05 {
		t.Errorf("belt-1 rolled back with %q and runs %+v", s.Reason, s.Running)
	}
	counts = f.stillPublishing(counts)

	// 5. A model with a wrong hash: refused by every board. (A hash the
	// board has fetched before would be served from its store: the hash
	// names the content, the URL only where to find it.)
	wrong := sha256.Sum256([]byte("another model"))
	f.push(group, v1+1, fmt.Sprintf(`version: 1
model:
  path: %s/coral/mobilenet_v1_0.25_128_quant.tflite
  sha256: %x
`, f.models.URL, wrong))
	for _, id := range []string{"belt-1", "belt-2", "belt-3"} {
		s := f.state(id, "group v2 rejected", func(s publish.ConfigState) bool { return s.Version == v1+1 && s.State == publish.ConfigRejected })
		if !strings.Contains(s.Reason, "sha256 mismatch") {
			t.Errorf("%s rejected group v2 with %q, want a hash mismatch", id, s.Reason)
		}
		if s.Running.Model.SHA256 != sum05 {
			t.Errorf("%s runs model %s after refusing v2, want %s", id, s.Running.Model.SHA256, sum05)
		}
	}
	// 6. A model that does not load here (a custom operator): refused.
	broken := filepath.Join(f.root, "models/coral/model_invoking_error.tflite")
	f.push("fruitcam/belt-2/config/set", 2, fmt.Sprintf("version: 1\nmodel: {path: 'file://%s', sha256: %s}\n", broken, fileSHA256(t, broken)))
	s = f.state("belt-2", "device v2 rejected", func(s publish.ConfigState) bool {
		return s.Source == "device" && s.Version == 2 && s.State == publish.ConfigRejected
	})
	t.Logf("belt-2 refused a model it cannot run: %s", s.Reason)
	if !strings.Contains(s.Reason, "fake-op-double") {
		t.Errorf("belt-2 rejected device v2 with %q, want its model refused", s.Reason)
	}
	counts = f.stillPublishing(counts)

	// 7. The group's next config, while belt-4 is still offline.
	f.push(group, v1+2, fmt.Sprintf(`version: 1
model:
  path: %s/coral/mobilenet_v1_0.5_160_quant.tflite
  sha256: %s
  labels: %s/models/coral/imagenet_labels.txt
pipeline: {threshold: 0.02, unknown_label: unsure}
`, f.models.URL, sum05, f.root))
	for _, id := range []string{"belt-1", "belt-2", "belt-3"} {
		f.state(id, "group v3 applied", applied(v1+2, "group"))
	}
	// belt-4 returns: it starts with its last good config (group v1, from
	// its disk), then picks the retained group v3 up.
	f.start("belt-4")
	s = f.state("belt-4", "group v3 applied", applied(v1+2, "group"))
	if s.Running.Model.SHA256 != sum05 {
		t.Errorf("belt-4 runs %+v", s.Running)
	}
	f.stillPublishing(counts)

	// What the operator sees.
	code, out, errOut := fleetCLI("fleet", "status", "--broker", f.broker.URL(), "--group", "line", "--wait", "1s")
	t.Logf("agent fleet status:\n%s%s", out, errOut)
	if code != 0 || !strings.Contains(out, "4 boards: 4 applied") {
		t.Errorf("agent fleet status: exit %d, %q", code, out)
	}
	for _, want := range []string{"belt-1", "belt-2", "belt-3", "belt-4", fmt.Sprintf("applied v%d (passed)", v1+2), "mobilenet_v1_0.5_160_quant"} {
		if !strings.Contains(out, want) {
			t.Errorf("agent fleet status does not show %q", want)
		}
	}
	for _, id := range []string{"belt-1", "belt-2", "belt-3", "belt-4"} {
		f.stop(id)
	}
}

// TestFleetSwapLosesNoFrame: a camera read as fast as the pipeline takes
// frames (none may be dropped) runs through a model swap, an options-only
// swap and a rollback; every frame it read is classified.
func TestFleetSwapLosesNoFrame(t *testing.T) {
	f := newTestFleet(t)
	b := f.startAt("belt-1", 0)
	f.state("belt-1", "local", func(s publish.ConfigState) bool { return s.Source == "local" })
	model05 := filepath.Join(f.root, "models/coral/mobilenet_v1_0.5_160_quant.tflite")
	f.push("fruitcam/fleet/line/config", 1, fmt.Sprintf("version: 1\nmodel: {path: '%s', sha256: %s}\n", model05, fileSHA256(t, model05)))
	f.state("belt-1", "group v1", applied(1, "group"))
	f.push("fruitcam/belt-1/config/set", 1, "version: 1\nmodel: {top: 1}\npipeline: {threshold: 0.2}\n")
	f.state("belt-1", "device v1", applied(1, "device"))
	f.push("fruitcam/belt-1/config/set", 2, "version: 1\ncameras: [{name: belt, source: {type: folder, path: /nonexistent-fruitcam/*.jpg}}]\n")
	f.state("belt-1", "device v2 rejected", func(s publish.ConfigState) bool { return s.Version == 2 && s.State == publish.ConfigRejected })
	a := b.a
	f.stop("belt-1")
	st := a.stats()
	t.Logf("frames in %d, processed %d, skipped %d, failed %d, items %d", st.FramesIn, st.Processed, st.Skipped, st.Failed, st.Items)
	if st.FramesIn == 0 || st.Skipped != 0 || st.Failed != 0 || st.Processed != st.FramesIn {
		t.Errorf("frames in %d, processed %d, skipped %d, failed %d: a swap lost frames", st.FramesIn, st.Processed, st.Skipped, st.Failed)
	}
}

// TestSelfTest: a new model must classify the self-test image, and name
// its label when one is configured.
func TestSelfTest(t *testing.T) {
	_, _, banana := mobileNet(t)
	cfg := testConfig(t, "cameras: [{name: belt, source: {type: pattern}}]\nmqtt: {enabled: false}\nstdout: {enabled: true}\n")
	a := &agent{cfg: cfg, log: quietLog(), meta: &liveMeta{}, statsNow: make(chan struct{}, 1)}
	ms, err := a.loadModel(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ms.close()
	for _, tc := range []struct {
		st   config.SelfTest
		want string
	}{
		{config.SelfTest{}, ""},
		{config.SelfTest{Image: banana, Label: "banana"}, ""},
		{config.SelfTest{Image: banana, Label: "lemon"}, `self-test: the new model calls ` + banana + ` "banana"`},
		{config.SelfTest{Image: filepath.Join(t.TempDir(), "missing.jpg")}, "self-test: "},
	} {
		c := cfg.Clone()
		c.Fleet.SelfTest = tc.st
		err := selfTest(ms, c)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("selfTest(%+v) = %v, want %q", tc.st, err, tc.want)
		}
	}
}

// TestFleetPrivateCA: models come from an https:// server whose
// certificate a private CA signed (fleet.ca); without it the fetch is
// refused with the TLS error.
func TestFleetPrivateCA(t *testing.T) {
	model := testdata.Path(t, "models/coral/mobilenet_v1_0.25_128_quant.tflite")
	srv := httptest.NewUnstartedServer(http.FileServer(http.Dir(filepath.Dir(model))))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake, expected
	srv.StartTLS()
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	pub, _, err := signing.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "trusted_keys")
	if err := os.WriteFile(keys, []byte(signing.TrustedKeyLine(pub, "ops")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	url := srv.URL + "/" + filepath.Base(model)
	for _, withCA := range []bool{true, false} {
		cfg := testConfig(t, fmt.Sprintf("cameras: [{name: belt, source: {type: pattern}}]\nsigning: {trusted_keys: %s}\nfleet: {dir: %s}\n", keys, t.TempDir()))
		if withCA {
			cfg.Fleet.CA = ca
		}
		f, err := openFleet(cfg, quietLog())
		if err != nil {
			t.Fatal(err)
		}
		p, err := f.fetch(t.Context(), url, fileSHA256(t, model))
		switch {
		case withCA && (err != nil || fileSHA256(t, p) != fileSHA256(t, model)):
			t.Errorf("with fleet.ca: %q, %v", p, err)
		case !withCA && (err == nil || !strings.Contains(err.Error(), "certificate")):
			t.Errorf("without fleet.ca: %q, %v; want a certificate error", p, err)
		}
	}
}

// TestFleetModelServerDown: a model server that is down when a config
// arrives is tried again (the config is rejected meanwhile, saying so),
// and the config applies once the server answers.
func TestFleetModelServerDown(t *testing.T) {
	defer func(w time.Duration) { firstRetry = w }(firstRetry)
	firstRetry = 300 * time.Millisecond
	f := newTestFleet(t)
	model := filepath.Join(f.root, "models/coral/mobilenet_v1_0.5_160_quant.tflite")
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		http.ServeFile(w, r, model)
	}))
	defer srv.Close()
	f.start("belt-1")
	f.state("belt-1", "local", func(s publish.ConfigState) bool { return s.Source == "local" })
	f.push("fruitcam/fleet/line/config", 1, fmt.Sprintf("version: 1\nmodel: {path: %s/m.tflite, sha256: %s}\n", srv.URL, fileSHA256(t, model)))
	s := f.state("belt-1", "rejected, retrying", func(s publish.ConfigState) bool {
		return s.Version == 1 && s.State == publish.ConfigRejected && strings.Contains(s.Reason, "trying again in")
	})
	t.Logf("while the server is down: %s", s.Reason)
	s = f.state("belt-1", "applied after the server came back", applied(1, "group"))
	if s.Running.Model.SHA256 != fileSHA256(t, model) {
		t.Errorf("belt-1 runs %+v", s.Running)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("%d requests, want 2 refused and 1 served", n)
	}
	f.stop("belt-1")
}
