package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// FleetSections are the top-level keys a fleet config may set, besides
// version.
var FleetSections = []string{"model", "infer", "cameras", "pipeline", "actuators"}

// Layer is a parsed fleet config: its YAML, checked on its own.
type Layer struct {
	Name   string // for messages: "group lines v12"
	Data   []byte // the YAML, as signed
	SHA256 string // hex SHA-256 of Data

	root *yaml.Node
}

// ParseLayer checks a fleet config on its own: UTF-8 YAML, one mapping
// with version: 1, only FleetSections, known keys with values of the
// right types, absolute paths, and a sha256 for a model or labels named
// by URL. What needs the rest of the config (required keys, consistency)
// is checked by Merge. name is used in messages.
func ParseLayer(data []byte, name string) (*Layer, error) {
	fail := func(line int, key, format string, args ...any) error {
		return Errors{{File: name, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}}
	}
	switch {
	case len(data) > MaxSize:
		return nil, fail(0, "", "larger than %d KiB: is this a fleet config?", MaxSize>>10)
	case !utf8.Valid(data):
		return nil, fail(0, "", "not UTF-8: save the file as UTF-8")
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fail(0, "", "empty: a fleet config needs at least version: 1 and one setting")
		}
		return nil, yamlError(name, data, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fail(extra.Line, "", "a second YAML document: a fleet config holds one")
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(name, data, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, fail(root.Line, "", "a fleet config is a mapping of keys (version: 1, model: ..., pipeline: ...), got %s", describe(root))
	}
	d := newDecoder(name)
	var errs Errors
	sawVersion := false
	for _, p := range d.pairs(root, "", 0) {
		k := p.k.Value
		switch {
		case k == "version":
			sawVersion = true
			if v := deref(p.v); v.Kind != yaml.ScalarNode || v.Value != fmt.Sprint(Version) {
				return nil, fail(v.Line, "version", "%s is not supported: this agent reads version %d", describe(v), Version)
			}
		case slices.Contains(localSections, k):
			errs = append(errs, &Error{File: name, Line: p.k.Line, Key: k,
				Msg: fmt.Sprintf("a fleet config may not set %s: it stays in each board's own config file, so that no config from the network can cut a board off or change whom it trusts (a fleet config may set %s)", k, strings.Join(FleetSections, ", "))})
		}
	}
	d.errs = nil
	if !sawVersion {
		errs = append(errs, &Error{File: name, Line: root.Line, Key: "version", Msg: fmt.Sprintf("missing: start the file with version: %d", Version)})
	}
	if d.exhausted != nil {
		return nil, Errors{d.exhausted}
	}
	if len(errs) > 0 {
		return nil, errs.err()
	}
	// Decode onto the defaults to find unknown keys and wrong types; the
	// values are thrown away.
	c := Default()
	d.value(root, reflect.ValueOf(c).Elem(), "")
	if d.exhausted != nil {
		return nil, Errors{d.exhausted}
	}
	errs = d.errs
	v := &validator{c: c}
	for key, path := range map[string]string{"model.path": c.Model.Path, "model.labels": c.Model.Labels, "model.cpu_model": c.Model.CPUModel} {
		if path != "" && !IsURL(path) && !filepath.IsAbs(path) {
			v.errorf(key, "%q is relative: a fleet config names files by absolute path on the board, or by URL with sha256", path)
		}
	}
	for i, cam := range c.Cameras {
		if p := cam.Source.Path; p != "" && !filepath.IsAbs(p) {
			v.errorf(fmt.Sprintf("cameras[%d].source.path", i), "%q is relative: a fleet config names files by absolute path on the board", p)
		}
	}
	if c.Model.Path != "" {
		v.reference("model.path", c.Model.Path, "model.sha256", c.Model.SHA256)
	}
	if c.Model.Labels != "" {
		v.reference("model.labels", c.Model.Labels, "model.labels_sha256", c.Model.LabelsSHA256)
	}
	for _, e := range v.errs {
		e.File, e.Line = name, d.lines[e.Key]
		if e.Line == 0 {
			e.Line = d.lines[parentKey(e.Key)]
		}
		errs = append(errs, e)
	}
	for i, item := range root.Content {
		if i%2 == 0 && item.Value == "cameras" {
			if err := checkCameraNames(name, root.Content[i+1]); err != nil {
				errs = append(errs, err...)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs.err()
	}
	sum := sha256.Sum256(data)
	return &Layer{Name: name, Data: data, SHA256: hex.EncodeToString(sum[:]), root: root}, nil
}

// localSections are the top-level keys only a board's own file may set.
var localSections = []string{"device", "mqtt", "signing", "http", "fleet", "stdout", "log"}

// checkCameraNames requires a name on every camera of a layer: cameras
// merge by name.
func checkCameraNames(file string, seq *yaml.Node) Errors {
	seq = deref(seq)
	if seq.Kind != yaml.SequenceNode {
		return nil // reported by the decoder
	}
	var errs Errors
	for i, item := range seq.Content {
		item = deref(item)
		if cameraName(item) == "" {
			errs = append(errs, &Error{File: file, Line: item.Line, Key: fmt.Sprintf("cameras[%d].name", i),
				Msg: "missing: cameras in a fleet config merge by name; name the camera to change or add"})
		}
	}
	return errs
}

func cameraName(item *yaml.Node) string {
	if item.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(item.Content); i += 2 {
		if item.Content[i].Value == "name" {
			if v := deref(item.Content[i+1]); v.Kind == yaml.ScalarNode {
				return v.Value
			}
		}
	}
	return ""
}

// Merge returns base with layers merged on top, in order (the group's,
// then the device's), validated as a whole. base is not modified. Errors
// name the layer that set the key at fault, or base's file.
func Merge(base *Config, layers ...*Layer) (*Config, error) {
	c := base.Clone()
	src := &origin{file: "", lines: map[string]int{}, files: map[string]string{}}
	if base.src != nil {
		src.file = base.src.file
		for k, l := range base.src.lines {
			src.lines[k] = l
		}
		for k, f := range base.src.files {
			src.files[k] = f
		}
	}
	var errs Errors
	for _, l := range layers {
		if l == nil {
			continue
		}
		if l.root == nil {
			return nil, fmt.Errorf("config: merge %s: not made by ParseLayer", l.Name)
		}
		d := newDecoder(l.Name)
		rv := reflect.ValueOf(c).Elem()
		for _, p := range d.pairs(l.root, "", 0) {
			key := p.k.Value
			if key == "version" {
				continue
			}
			if key == "cameras" {
				d.lines["cameras"] = p.k.Line
				mergeCameras(d, deref(p.v), c)
				continue
			}
			f, ok := lookupField(fieldsOf(rv.Type()), key)
			if !ok {
				continue // ParseLayer refused it
			}
			d.lines[key] = p.k.Line
			d.value(p.v, rv.Field(f.index), key)
		}
		errs = append(errs, d.errs...)
		for k, line := range d.lines {
			src.lines[k] = line
			src.files[k] = l.Name
		}
	}
	if len(errs) > 0 {
		return nil, errs.err()
	}
	d := newDecoder("")
	d.applyTypes(reflect.ValueOf(c).Elem(), "")
	c.src = src
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// mergeCameras merges a layer's cameras into c's by name.
func mergeCameras(d *decoder, seq *yaml.Node, c *Config) {
	if seq.Kind != yaml.SequenceNode {
		return
	}
	for _, item := range seq.Content {
		item = deref(item)
		name := cameraName(item)
		i := slices.IndexFunc(c.Cameras, func(cam Camera) bool { return cam.Name == name })
		if i < 0 {
			c.Cameras = append(c.Cameras, DefaultCamera())
			i = len(c.Cameras) - 1
		}
		key := fmt.Sprintf("cameras[%d]", i)
		d.lines[key] = item.Line
		d.value(item, reflect.ValueOf(&c.Cameras[i]).Elem(), key)
	}
}

// Clone returns a deep copy of c: the lists are copied, so changing the
// copy leaves c as it is.
func (c *Config) Clone() *Config {
	n := *c
	n.Cameras = slices.Clone(c.Cameras)
	for i := range n.Cameras {
		n.Cameras[i].Source.Formats = slices.Clone(c.Cameras[i].Source.Formats)
	}
	n.Actuators = slices.Clone(c.Actuators)
	n.MQTT.Embedded.Users = slices.Clone(c.MQTT.Embedded.Users)
	return &n
}

// IsURL reports whether a model or labels path is a URL (fetched into
// fleet.dir) rather than a file on the board.
func IsURL(p string) bool {
	for _, s := range []string{"http://", "https://", "file://"} {
		if len(p) >= len(s) && strings.EqualFold(p[:len(s)], s) {
			return true
		}
	}
	return false
}

// reference checks a file named by path or URL and its optional SHA-256.
func (v *validator) reference(key, path, sumKey, sum string) {
	if sum != "" && !isSHA256(sum) {
		v.errorf(sumKey, "%q is not a SHA-256: 64 hex digits, as sha256sum prints", sum)
	}
	if !IsURL(path) {
		return
	}
	if sum == "" {
		v.errorf(sumKey, "missing: %s is a URL, so the agent needs the file's SHA-256 to trust what it downloads (sha256sum FILE)", key)
	}
	u, err := url.Parse(path)
	switch {
	case err != nil:
		v.errorf(key, "%q is not a URL: %v", path, err)
	case u.User != nil:
		v.errorf(key, "the URL carries a user name or password: configs are published and logged; serve the file without credentials in the URL")
	case u.Scheme != "file" && u.Host == "":
		v.errorf(key, "%q has no host", path)
	case u.Scheme == "file" && !strings.HasPrefix(u.Path, "/"):
		v.errorf(key, "%q: a file URL names an absolute path, file:///path", path)
	}
}

func isSHA256(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

// fleet checks the fleet section of a board's own file.
func (v *validator) fleet() {
	f := &v.c.Fleet
	if f.Dir == "" {
		for _, k := range []struct{ key, path string }{{"model.path", v.c.Model.Path}, {"model.labels", v.c.Model.Labels}} {
			if IsURL(k.path) {
				v.errorf(k.key, "is a URL, but fleet.dir is not set: the agent keeps the files it fetches there; set fleet.dir")
			}
		}
		return
	}
	v.positive("fleet.keep", f.Keep, 100)
	v.durationAtLeast("fleet.health_window", f.HealthWindow, 0)
	v.durationAtLeast("fleet.fetch_timeout", f.FetchTimeout, time.Second)
	if v.c.Signing.TrustedKeys == "" {
		v.errorf("fleet.dir", "fleet configs are followed only when signed: set signing.trusted_keys (the operators' public keys, see agent keygen)")
	}
	if !v.c.MQTT.Enabled {
		v.errorf("fleet.dir", "fleet configs arrive over MQTT: enable mqtt, or remove fleet.dir")
	}
}
