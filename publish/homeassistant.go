package publish

import (
	"context"
	"encoding/json"
	"strings"
)

// Discovery describes the device to Home Assistant's MQTT discovery
// (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery): after
// every connection the client publishes, retained, one config message per
// entity under Prefix, before "online". Home Assistant then shows the
// device with, per camera, the last label and its score, and for the
// device the processed frames per second and whether it is online; the
// status topic is every entity's availability.
type Discovery struct {
	// Prefix is Home Assistant's discovery prefix; default "homeassistant".
	Prefix  string
	Cameras []string
	// Model and Version name the model the device runs (shown as the
	// device's model and software version).
	Model, Version string
}

// Message is one MQTT message to publish.
type Message struct {
	Topic   string
	Payload []byte
}

// haEntity is the subset of Home Assistant's MQTT entity config we use.
type haEntity struct {
	Name              string   `json:"name"`
	UniqueID          string   `json:"unique_id"`
	ObjectID          string   `json:"object_id"`
	StateTopic        string   `json:"state_topic"`
	ValueTemplate     string   `json:"value_template,omitempty"`
	Unit              string   `json:"unit_of_measurement,omitempty"`
	StateClass        string   `json:"state_class,omitempty"`
	DeviceClass       string   `json:"device_class,omitempty"`
	Icon              string   `json:"icon,omitempty"`
	PayloadOn         string   `json:"payload_on,omitempty"`
	PayloadOff        string   `json:"payload_off,omitempty"`
	AvailabilityTopic string   `json:"availability_topic,omitempty"`
	PayloadAvailable  string   `json:"payload_available,omitempty"`
	PayloadNotAvail   string   `json:"payload_not_available,omitempty"`
	Device            haDevice `json:"device"`
}

type haDevice struct {
	Identifiers  []string `json:"identifiers"`
	Name         string   `json:"name"`
	Manufacturer string   `json:"manufacturer"`
	Model        string   `json:"model,omitempty"`
	SWVersion    string   `json:"sw_version,omitempty"`
}

// Messages returns the discovery config messages of the device whose
// topics are t, in a stable order.
func (d Discovery) Messages(t Topics) []Message {
	prefix := d.Prefix
	if prefix == "" {
		prefix = "homeassistant"
	}
	// Home Assistant's node and object ids allow [a-zA-Z0-9_-].
	node := haID(strings.ReplaceAll(t.Prefix(), "/", "_") + "_" + t.Device())
	dev := haDevice{Identifiers: []string{node}, Name: "fruitcam " + t.Device(), Manufacturer: "fruitcam", Model: d.Model, SWVersion: d.Version}
	avail := func(e haEntity) haEntity {
		e.AvailabilityTopic, e.PayloadAvailable, e.PayloadNotAvail = t.Status(), StatusOnline, StatusOffline
		e.Device = dev
		return e
	}
	var out []Message
	add := func(component, object string, e haEntity) {
		e.UniqueID = node + "_" + object
		e.ObjectID = node + "_" + object
		b, _ := json.Marshal(e) // plain strings: cannot fail
		out = append(out, Message{Topic: prefix + "/" + component + "/" + node + "/" + object + "/config", Payload: b})
	}
	for _, cam := range d.Cameras {
		c := haID(cam)
		add("sensor", c+"_label", avail(haEntity{Name: cam + " label", StateTopic: t.Label(cam), Icon: "mdi:fruit-cherries"}))
		add("sensor", c+"_score", avail(haEntity{
			Name: cam + " score", StateTopic: t.Result(cam), ValueTemplate: "{{ (value_json.score * 100) | round(1) }}",
			Unit: "%", StateClass: "measurement", Icon: "mdi:percent",
		}))
	}
	add("sensor", "fps", avail(haEntity{
		Name: "frames per second", StateTopic: t.Stats(), ValueTemplate: "{{ value_json.fps.processed }}",
		Unit: "fps", StateClass: "measurement", Icon: "mdi:speedometer",
	}))
	add("binary_sensor", "status", haEntity{
		Name: "status", StateTopic: t.Status(), PayloadOn: StatusOnline, PayloadOff: StatusOffline,
		DeviceClass: "connectivity", Device: dev,
	})
	return out
}

// haID keeps the characters Home Assistant allows in ids.
func haID(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			return r
		}
		return '_'
	}, s)
}

// Rediscover replaces the Home Assistant announcement (a fleet config
// changed the model or the cameras): the new config messages go out now,
// retained, and again after every connection; entities of cameras that
// are gone are removed (an empty retained config message, as Home
// Assistant's discovery protocol has it). Without Options.Discovery it
// does nothing.
func (c *Client) Rediscover(ctx context.Context, d Discovery) error {
	// After an announcement in progress, so that the old one cannot land
	// after the new.
	c.announce.Lock()
	defer c.announce.Unlock()
	c.mu.Lock()
	old := c.opts.Discovery
	if old == nil || c.closed {
		c.mu.Unlock()
		return nil
	}
	c.opts.Discovery = &d
	c.mu.Unlock()
	msgs := d.Messages(c.topics)
	kept := make(map[string]bool, len(msgs))
	for _, m := range msgs {
		kept[m.Topic] = true
	}
	for _, m := range old.Messages(c.topics) {
		if !kept[m.Topic] {
			msgs = append(msgs, Message{Topic: m.Topic}) // removes the entity
		}
	}
	for _, m := range msgs {
		if err := c.publishQoS1(ctx, m.Topic, m.Payload, "Home Assistant discovery "+m.Topic); err != nil {
			return err
		}
	}
	return nil
}
