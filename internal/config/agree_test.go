package config

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/preprocess"
)

// This file keeps the four descriptions of the config in agreement: the
// Go types with Default (the truth), the enums table, the reference table
// in doc.go and configs/schema.json.

// goKey is a key of the config as the Go types define it.
type goKey struct {
	key string        // as in the reference table: "cameras[].source.width"
	def reflect.Value // its default
}

// goKeys lists every leaf key and every list, with its default, in
// struct order.
func goKeys() []goKey {
	var out []goKey
	var walk func(v reflect.Value, key string)
	walk = func(v reflect.Value, key string) {
		for _, f := range fieldsOf(v.Type()) {
			sub := joinKey(key, f.name)
			fv := v.Field(f.index)
			switch {
			case fv.Kind() == reflect.Struct && fv.Type() != durationType:
				walk(fv, sub)
			case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.Struct:
				out = append(out, goKey{sub, fv})
				walk(listDefaults[fv.Type().Elem()](), sub+"[]")
			default:
				out = append(out, goKey{sub, fv})
			}
		}
	}
	walk(reflect.ValueOf(Default()).Elem(), "")
	return out
}

// TestEnumsMatchTheirUsers checks the enumerations the config shares with
// other packages.
func TestEnumsMatchTheirUsers(t *testing.T) {
	parsers := map[string]func(string) error{
		"model.normalize": func(s string) error { _, err := preprocess.ParseNormalize(s); return err },
		"model.resize":    func(s string) error { _, err := preprocess.ParseResize(s); return err },
		"model.fit":       func(s string) error { _, err := preprocess.ParseFit(s); return err },
		"model.color":     func(s string) error { _, err := preprocess.ParseColorOrder(s); return err },
	}
	for key, parse := range parsers {
		for _, v := range enums[key] {
			if err := parse(v); err != nil {
				t.Errorf("%s: %q is allowed here but preprocess rejects it: %v", key, v, err)
			}
		}
		if err := parse("bogus"); err == nil {
			t.Errorf("%s: preprocess accepts bogus", key)
		}
	}
	for _, b := range []string{infer.BackendNative, infer.BackendTFLite, infer.BackendEdgeTPU} {
		if !slices.Contains(enums["model.backend"], b) {
			t.Errorf("model.backend does not allow infer's backend %q", b)
		}
	}
	for _, k := range goKeys() {
		if vals, ok := enums[k.key]; ok && k.def.Kind() == reflect.String && !slices.Contains(vals, k.def.String()) && k.def.String() != "" {
			t.Errorf("%s: the default %q is not an allowed value", k.key, k.def.String())
		}
	}
}

// schemaNode resolves "$ref"s in the schema.
func schemaNode(root, n map[string]any) map[string]any {
	for {
		ref, ok := n["$ref"].(string)
		if !ok {
			return n
		}
		n = root["$defs"].(map[string]any)[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
	}
}

func readSchema(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(configsDir + "/schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(data, &root); err != nil {
		t.Fatalf("schema.json: %v", err)
	}
	if root["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("schema.json: $schema = %v, want draft 2020-12", root["$schema"])
	}
	return root
}

// schemaKeys flattens the schema into the reference table's keys.
func schemaKeys(t *testing.T, root map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	var walk func(n map[string]any, key string)
	walk = func(n map[string]any, key string) {
		raw := n
		n = schemaNode(root, n)
		if key != "" {
			// Keep the node's own description and default beside the
			// referenced definition's type.
			merged := map[string]any{}
			for k, v := range n {
				merged[k] = v
			}
			for k, v := range raw {
				merged[k] = v
			}
			out[key] = merged
		}
		switch n["type"] {
		case "object":
			if n["additionalProperties"] != false {
				t.Errorf("schema.json: %q does not forbid unknown keys (additionalProperties: false)", key)
			}
			for name, p := range n["properties"].(map[string]any) {
				walk(p.(map[string]any), joinKey(key, name))
			}
		case "array":
			items := schemaNode(root, n["items"].(map[string]any))
			if items["type"] == "object" {
				walk(items, key+"[]")
				delete(out, key+"[]")
			} else {
				out[key+"[]"] = items
			}
		}
	}
	walk(root, "")
	return out
}

// jsonValue is a default as JSON would hold it.
func jsonValue(v reflect.Value) any {
	switch {
	case v.Type() == durationType:
		return time.Duration(v.Int()).String()
	case v.Kind() == reflect.Slice:
		out := []any{}
		for i := range v.Len() {
			out = append(out, jsonValue(v.Index(i)))
		}
		return out
	case v.Kind() == reflect.Int:
		return float64(v.Int())
	}
	return v.Interface()
}

// TestSchemaAgrees checks configs/schema.json against the Go types: the
// same keys, types, enumerations and defaults.
func TestSchemaAgrees(t *testing.T) {
	root := readSchema(t)
	sk := schemaKeys(t, root)
	doc := referenceTable(t)
	seen := map[string]bool{}
	for _, k := range goKeys() {
		seen[k.key] = true
		n, ok := sk[k.key]
		if !ok {
			t.Errorf("schema.json has no %s", k.key)
			continue
		}
		wantType := map[reflect.Kind]string{reflect.String: "string", reflect.Int: "integer", reflect.Float64: "number", reflect.Bool: "boolean", reflect.Slice: "array"}[k.def.Kind()]
		if k.def.Type() == durationType {
			wantType = "string"
			if n["$ref"] != "#/$defs/duration" {
				t.Errorf("schema.json: %s is not a #/$defs/duration", k.key)
			}
		}
		if got, ok := n["type"]; ok && got != wantType {
			t.Errorf("schema.json: %s has type %v, want %s", k.key, got, wantType)
		} else if !ok && n["enum"] == nil && n["const"] == nil {
			t.Errorf("schema.json: %s has no type", k.key)
		}
		// Defaults: the schema gives one exactly when the reference
		// table gives a literal one, and it is Go's.
		row, inDoc := doc[k.key]
		computed := inDoc && strings.HasPrefix(row.def, "(")
		if d, ok := n["default"]; ok {
			if computed {
				t.Errorf("schema.json: %s has default %v, but its default is %s", k.key, d, row.def)
			} else if !reflect.DeepEqual(d, jsonValue(k.def)) {
				t.Errorf("schema.json: %s default %#v, want %#v", k.key, d, jsonValue(k.def))
			}
		} else if inDoc && !computed {
			t.Errorf("schema.json: %s has no default (want %#v)", k.key, jsonValue(k.def))
		}
	}
	for key, n := range sk {
		if !seen[key] && n["type"] != "object" && !strings.HasSuffix(key, "[]") {
			t.Errorf("schema.json has %s, which the config does not", key)
		}
	}
	// Enumerations, both ways.
	for key, n := range sk {
		e, ok := n["enum"].([]any)
		if !ok || key == "mqtt.qos" {
			continue
		}
		var got []string
		for _, v := range e {
			got = append(got, v.(string))
		}
		if want, ok := enums[key]; !ok {
			t.Errorf("schema.json enumerates %s, the config does not", key)
		} else if !slices.Equal(got, want) {
			t.Errorf("schema.json: %s enum %q, want %q", key, got, want)
		}
	}
	for key := range enums {
		if _, ok := sk[key]["enum"]; !ok {
			t.Errorf("schema.json: %s has no enum", key)
		}
	}
}

type docRow struct{ typ, def, meaning string }

var docRowRE = regexp.MustCompile("^//\t\\| `([^`]+)` \\| ([^|]+) \\| ([^|]+) \\| (.+) \\|$")

// referenceTable reads the table in doc.go.
func referenceTable(t *testing.T) map[string]docRow {
	t.Helper()
	data, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]docRow{}
	for _, line := range strings.Split(string(data), "\n") {
		if m := docRowRE.FindStringSubmatch(line); m != nil {
			if _, dup := rows[m[1]]; dup {
				t.Errorf("doc.go: %s is in the table twice", m[1])
			}
			rows[m[1]] = docRow{m[2], m[3], m[4]}
		}
	}
	if len(rows) == 0 {
		t.Fatal("doc.go: no reference table")
	}
	return rows
}

// docValue renders a default as the reference table writes it.
func docValue(v reflect.Value) string {
	switch {
	case v.Type() == durationType:
		return time.Duration(v.Int()).String()
	case v.Kind() == reflect.String:
		if v.String() == "" {
			return `""`
		}
		return v.String()
	case v.Kind() == reflect.Slice:
		var parts []string
		for i := range v.Len() {
			parts = append(parts, docValue(v.Index(i)))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case v.Kind() == reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	}
	return fmt.Sprint(v.Interface())
}

// TestReferenceTableAgrees checks the table in doc.go against the Go
// types: every key once, its type, and its default.
func TestReferenceTableAgrees(t *testing.T) {
	rows := referenceTable(t)
	seen := map[string]bool{}
	for _, k := range goKeys() {
		seen[k.key] = true
		row, ok := rows[k.key]
		if !ok {
			t.Errorf("doc.go: the reference table has no %s", k.key)
			continue
		}
		types := map[string][]string{
			"string": {"string", "path", "URL", "host:port"}, "int": {"int"}, "float64": {"number"}, "bool": {"bool"},
			"time.Duration": {"duration"}, "[]string": {"list of strings"},
		}[k.def.Type().String()]
		if k.def.Kind() == reflect.Slice && k.def.Type().Elem().Kind() == reflect.Struct {
			types = []string{"list"}
		}
		if !slices.Contains(types, row.typ) {
			t.Errorf("doc.go: %s has type %q, want one of %q", k.key, row.typ, types)
		}
		// A default in parentheses is described, not literal: required,
		// or filled by Resolve. Go's default is then the zero value.
		if strings.HasPrefix(row.def, "(") {
			if !k.def.IsZero() && k.key != "version" {
				t.Errorf("doc.go: %s default is %s, but Default() sets %s", k.key, row.def, docValue(k.def))
			}
			continue
		}
		if got := docValue(k.def); got != row.def {
			t.Errorf("doc.go: %s default is %s, but Default() sets %s", k.key, row.def, got)
		}
	}
	for key := range rows {
		if !seen[key] {
			t.Errorf("doc.go: the reference table has %s, which the config does not", key)
		}
	}
}
