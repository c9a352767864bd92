package publish

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// DefaultPrefix is the first topic level when Options.Prefix is empty.
const DefaultPrefix = "fruitcam"

// Status payloads, published retained on Topics.Status.
const (
	StatusOnline  = "online"
	StatusOffline = "offline"
)

// Topics builds the topic names of one device (see the table in doc.go).
// The zero value is not useful; make one with NewTopics.
type Topics struct {
	prefix string
	device string
	base   string // prefix/device/
}

// NewTopics checks prefix (one or more levels, default "fruitcam") and
// device (exactly one level) and returns the topic builder for them.
func NewTopics(prefix, device string) (Topics, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if err := checkPrefix(prefix); err != nil {
		return Topics{}, err
	}
	if err := CheckLevel("device", device); err != nil {
		return Topics{}, err
	}
	return Topics{prefix: prefix, device: device, base: prefix + "/" + device + "/"}, nil
}

// Prefix returns the prefix, for example "fruitcam".
func (t Topics) Prefix() string { return t.prefix }

// Device returns the device id.
func (t Topics) Device() string { return t.device }

// Status is <prefix>/<device>/status: "online" / "offline", retained.
func (t Topics) Status() string { return t.base + "status" }

// Result is <prefix>/<device>/<camera>/result: a Result payload per item.
func (t Topics) Result(camera string) string { return t.base + camera + "/result" }

// Label is <prefix>/<device>/<camera>/label: the bare label, retained.
func (t Topics) Label(camera string) string { return t.base + camera + "/label" }

// Stats is <prefix>/<device>/stats: a Stats payload every few seconds.
func (t Topics) Stats() string { return t.base + "stats" }

// Commands is the filter <prefix>/<device>/cmd/+ the agent subscribes to.
func (t Topics) Commands() string { return t.base + "cmd/+" }

// Command is <prefix>/<device>/cmd/<name>.
func (t Topics) Command(name string) string { return t.base + "cmd/" + name }

// Reply is <prefix>/<device>/cmd/<name>/reply: a Reply payload.
func (t Topics) Reply(name string) string { return t.base + "cmd/" + name + "/reply" }

// DeviceFilter is <prefix>/<device>/#: everything of this device.
func (t Topics) DeviceFilter() string { return t.base + "#" }

// AllFilter is <prefix>/#: everything of every device under the prefix.
func (t Topics) AllFilter() string { return t.prefix + "/#" }

// commandName returns the <name> of a topic <prefix>/<device>/cmd/<name>.
func (t Topics) commandName(topic string) (string, bool) {
	rest, ok := strings.CutPrefix(topic, t.base+"cmd/")
	if !ok || rest == "" || strings.Contains(rest, "/") {
		return "", false
	}
	return rest, true
}

// CheckLevel reports whether s can be one topic level naming a device,
// camera or command: non-empty UTF-8 without '/', '+', '#' or NUL, not
// starting with '$', at most 128 bytes. what names the thing in the error.
func CheckLevel(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("publish: %s name is empty; give it a name such as %q", what, "belt1")
	case len(s) > 128:
		return fmt.Errorf("publish: %s name %.20q… is %d bytes long; use at most 128", what, s, len(s))
	case !utf8.ValidString(s):
		return fmt.Errorf("publish: %s name %q is not valid UTF-8", what, s)
	case strings.ContainsAny(s, "/+#\x00"):
		return fmt.Errorf("publish: %s name %q contains '/', '+', '#' or NUL, which MQTT topic levels cannot hold; use letters, digits, '-' or '_'", what, s)
	case s[0] == '$':
		return fmt.Errorf("publish: %s name %q starts with '$', which MQTT reserves for broker topics", what, s)
	}
	return nil
}

func checkPrefix(p string) error {
	for _, level := range strings.Split(p, "/") {
		if err := CheckLevel("topic prefix", level); err != nil {
			return fmt.Errorf("publish: topic prefix %q: each '/'-separated level must be a plain name: %w", p, err)
		}
	}
	return nil
}

// filterCovers reports whether every topic that filter matches is also
// matched by pattern (both MQTT topic filters; a topic without wildcards
// is a filter matching itself). "#" matches the parent level too
// (MQTT 3.1.1 section 4.7.1.2), so "a/#" covers "a".
func filterCovers(pattern, filter string) bool {
	for {
		p, pRest, pMore := strings.Cut(pattern, "/")
		if p == "#" {
			return true
		}
		f, fRest, fMore := strings.Cut(filter, "/")
		if f == "#" {
			return false // filter reaches further than a non-# pattern level
		}
		if p != "+" && (f == "+" || f != p) {
			return false
		}
		switch {
		case !pMore && !fMore:
			return true
		case !fMore:
			// filter ends; pattern continues: covered only by a final "#".
			return pRest == "#"
		case !pMore:
			return false
		}
		pattern, filter = pRest, fRest
	}
}
