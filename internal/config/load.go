package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// MaxSize is the largest config file accepted. Real configs are a few
// kilobytes; the limit keeps a wrong path (a model, a video) from being
// read into memory and parsed.
const MaxSize = 1 << 20

// maxErrors bounds the errors reported for one file: past it, the file
// is probably not a config at all.
const maxErrors = 50

// Load reads, parses and validates the config file at path, then Resolves
// it: relative paths in it become absolute paths from the file's directory,
// and device.id and mqtt.client_id get their host-derived defaults. The
// error lists every problem found (see Errors).
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := c.Resolve(dir); err != nil {
		return nil, err
	}
	return c, nil
}

// Parse decodes and validates a config: environment references are
// substituted, the YAML is decoded strictly onto Default() (unknown keys,
// duplicate keys and values of the wrong type are errors), fields that do
// not apply to a source's or trigger's type are cleared, and Validate
// runs. name is used in error messages ("configs/pi.yaml:12: ...").
//
// Parse does not touch the file system: relative paths stay relative and
// device.id may be empty; Resolve (which Load calls) completes them.
func Parse(data []byte, name string) (*Config, error) {
	return parse(data, name, os.LookupEnv)
}

func parse(data []byte, name string, lookup func(string) (string, bool)) (*Config, error) {
	fileErr := func(line int, key, format string, args ...any) error {
		return Errors{{File: name, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}}
	}
	if len(data) > MaxSize {
		return nil, fileErr(0, "", "larger than %d KiB: is this a config file?", MaxSize>>10)
	}
	// Line numbers, ${VAR} substitution and error positions all count in
	// UTF-8; the YAML decoder would silently decode UTF-16 instead.
	if bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) {
		return nil, fileErr(0, "", "the file is UTF-16 (it starts with a byte order mark): save it as UTF-8")
	}
	if !utf8.Valid(data) {
		bad := 0
		for bad < len(data) {
			r, size := utf8.DecodeRune(data[bad:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			bad += size
		}
		return nil, fileErr(1+bytes.Count(data[:bad], []byte("\n")), "", "not UTF-8 (byte %#x at offset %d): save the file as UTF-8", data[bad], bad)
	}
	text, errs := expand(data, name, lookup)
	if errs != nil {
		return nil, errs.err()
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(text))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fileErr(0, "", "empty: a config needs at least version: 1, model.path and one camera")
		}
		return nil, yamlError(name, text, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fileErr(extra.Line, "", "a second YAML document: a config file holds one")
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(name, text, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, fileErr(0, "", "empty: a config needs at least version: 1, model.path and one camera")
	}
	if root.Kind != yaml.MappingNode {
		return nil, fileErr(root.Line, "", "a config is a mapping of keys (version: 1, model: ..., cameras: ...), got %s", describe(root))
	}

	d := newDecoder(name)
	// The version decides how everything else is read, so check it first.
	var version *yaml.Node
	for _, p := range d.pairs(root, "", 0) {
		if p.k.Value == "version" {
			version = deref(p.v)
		}
	}
	d.errs, d.nodes = nil, 0
	switch {
	case version == nil:
		d.fail(root, "version", "missing: start the file with version: %d", Version)
	case version.Kind != yaml.ScalarNode || version.Value != strconv.Itoa(Version):
		return nil, fileErr(version.Line, "version", "%s is not supported: this agent reads version %d", describe(version), Version)
	}

	c := Default()
	d.value(root, reflect.ValueOf(c).Elem(), "")
	if d.exhausted != nil {
		return nil, Errors{d.exhausted}
	}
	d.applyTypes(reflect.ValueOf(c).Elem(), "")
	if version == nil {
		c.Version = 0
	}
	c.src = &origin{file: name, lines: d.lines}
	errs = d.errs
	// Report what Validate finds too, except about keys whose values could
	// not be decoded (they hold defaults, and the error is already there).
	for _, e := range c.validate() {
		if !d.badKey(e.Key) {
			errs = append(errs, e)
		}
	}
	if len(errs) == 0 {
		return c, nil
	}
	errs.err() // sort
	if len(errs) > maxErrors {
		errs = append(errs[:maxErrors:maxErrors], &Error{File: name, Msg: fmt.Sprintf("and %d more errors", len(errs)-maxErrors)})
	}
	return nil, errs
}

// badKey reports whether key, or a key enclosing it, failed to decode.
func (d *decoder) badKey(key string) bool {
	for ; key != ""; key = parentKey(key) {
		if d.bad[key] {
			return true
		}
	}
	return false
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns a yaml syntax error into an Error at its line.
func yamlError(name string, text []byte, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if line > 0 {
		lines := bytes.Split(text, []byte("\n"))
		for l := max(line-1, 1); l <= line && l <= len(lines); l++ {
			if bytes.HasPrefix(bytes.TrimLeft(lines[l-1], " "), []byte("\t")) {
				msg += " (YAML indents with spaces, not tabs)"
				break
			}
		}
	}
	return Errors{{File: name, Line: line, Msg: "invalid YAML: " + msg}}
}

// machineIDFiles and hostname are where Resolve looks for a device id;
// tests replace them.
var (
	machineIDFiles = []string{"/etc/machine-id", "/var/lib/dbus/machine-id"}
	hostname       = os.Hostname
)

// Resolve completes a parsed config with what depends on where it lives:
// relative paths (model.path, model.labels, folder sources' path, password
// files) become relative to dir, the directory of the config file; an
// empty device.id becomes the machine id (/etc/machine-id), else the host
// name; an empty mqtt.client_id becomes "fruitcam-" + device.id. Load
// calls it; a config received another way (a fleet config) calls it with
// the directory its relative paths refer to. Resolve is idempotent.
func (c *Config) Resolve(dir string) error {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	if !IsURL(c.Model.Path) {
		abs(&c.Model.Path)
	}
	if !IsURL(c.Model.Labels) {
		abs(&c.Model.Labels)
	}
	abs(&c.Fleet.Dir)
	abs(&c.Fleet.CA)
	abs(&c.Fleet.SelfTest.Image)
	abs(&c.Model.CPUModel)
	abs(&c.MQTT.Spool.Dir)
	abs(&c.MQTT.TLS.CA)
	abs(&c.Signing.TrustedKeys)
	abs(&c.MQTT.TLS.Cert)
	abs(&c.MQTT.TLS.Key)
	for i := range c.Cameras {
		if c.Cameras[i].Source.Type == SourceFolder {
			abs(&c.Cameras[i].Source.Path)
		}
	}
	abs(&c.MQTT.PasswordFile)
	for i := range c.MQTT.Embedded.Users {
		abs(&c.MQTT.Embedded.Users[i].PasswordFile)
	}

	if c.Device.ID == "" {
		id, err := hostID()
		if err != nil {
			return c.Errorf("device.id", "not set, and %v: set device.id", err)
		}
		c.Device.ID = id
	}
	if c.MQTT.ClientID == "" {
		c.MQTT.ClientID = "fruitcam-" + c.Device.ID
	}
	return nil
}

// hostID returns the machine id (stable across reboots and network
// changes), else the host name, as a valid device id.
func hostID() (string, error) {
	for _, f := range machineIDFiles {
		b, err := os.ReadFile(f)
		if id := strings.TrimSpace(string(b)); err == nil && validTopicLevel(id) {
			return id, nil
		}
	}
	h, err := hostname()
	if err != nil {
		return "", fmt.Errorf("no machine id and no host name (%v)", err)
	}
	if !validTopicLevel(h) {
		return "", fmt.Errorf("no machine id, and the host name %q is not a valid device id", h)
	}
	return h, nil
}
