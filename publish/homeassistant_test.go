package publish_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/publish"
	"github.com/fruitcam/fruitcam/publish/publishtest"
)

var updateDiscovery = flag.Bool("update-discovery", false, "rewrite testdata/homeassistant.json")

// TestDiscoveryMessages: the config messages Home Assistant reads, in a
// golden file (`go test ./publish -run TestDiscoveryMessages
// -update-discovery` rewrites it after a deliberate change).
func TestDiscoveryMessages(t *testing.T) {
	topics, err := publish.NewTopics("plant/a", "board-7")
	if err != nil {
		t.Fatal(err)
	}
	msgs := publish.Discovery{Cameras: []string{"belt", "side cam"}, Model: "fruits_int8", Version: "3"}.Messages(topics)
	var got bytes.Buffer
	for _, m := range msgs {
		var v any
		if err := json.Unmarshal(m.Payload, &v); err != nil {
			t.Fatalf("%s: %v", m.Topic, err)
		}
		pretty, _ := json.MarshalIndent(v, "", "  ")
		got.WriteString(m.Topic + "\n" + string(pretty) + "\n")
	}
	path := filepath.Join("testdata", "homeassistant.txt")
	if *updateDiscovery {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("discovery messages differ from %s:\n%s", path, got.Bytes())
	}
}

// TestDiscoveryPublished: a client with Discovery publishes the configs
// retained before "online", so a Home Assistant that subscribes later
// still finds them.
func TestDiscoveryPublished(t *testing.T) {
	m := publishtest.StartMosquitto(t)
	c, err := publish.Connect(ctxT(t), publish.Options{
		Broker: m.URL(), Device: "d1", Discovery: &publish.Discovery{Cameras: []string{"belt"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer closeClient(t, c)
	sub := publishtest.Subscribe(t, publishtest.Conn{Broker: m.URL()}, "homeassistant/#")
	for _, topic := range []string{
		"homeassistant/sensor/fruitcam_d1/belt_label/config",
		"homeassistant/sensor/fruitcam_d1/belt_score/config",
		"homeassistant/sensor/fruitcam_d1/fps/config",
		"homeassistant/binary_sensor/fruitcam_d1/status/config",
	} {
		got := sub.ExpectTopic(t, topic)
		if !got.Retained {
			t.Errorf("%s not retained", topic)
		}
	}
}

// TestRediscover: a fleet config that renames the model and swaps a
// camera re-announces the device; the entities of the camera that went
// are removed (empty retained config messages).
func TestRediscover(t *testing.T) {
	m := publishtest.StartMosquitto(t)
	c, err := publish.Connect(ctxT(t), publish.Options{
		Broker: m.URL(), Device: "d1", Discovery: &publish.Discovery{Cameras: []string{"belt", "side"}, Model: "v1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer closeClient(t, c)
	if err := c.Rediscover(ctxT(t), publish.Discovery{Cameras: []string{"belt", "top"}, Model: "v2"}); err != nil {
		t.Fatal(err)
	}
	sub := publishtest.Subscribe(t, publishtest.Conn{Broker: m.URL()}, "homeassistant/#")
	time.Sleep(300 * time.Millisecond) // the retained messages
	got := map[string]string{}
	for _, msg := range sub.Received() {
		got[msg.Topic] = string(msg.Payload)
	}
	if _, ok := got["homeassistant/sensor/fruitcam_d1/side_label/config"]; ok {
		t.Error("the entities of camera side are still announced")
	}
	if p := got["homeassistant/sensor/fruitcam_d1/top_label/config"]; !strings.Contains(p, `"model":"v2"`) {
		t.Errorf("camera top's label entity: %q, want it announced with model v2", p)
	}
	if p := got["homeassistant/sensor/fruitcam_d1/belt_label/config"]; !strings.Contains(p, `"model":"v2"`) {
		t.Errorf("camera belt's label entity: %q, want model v2", p)
	}
}
