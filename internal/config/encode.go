package config

import (
	"bytes"
	"reflect"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Marshal returns c as YAML in the file format, every key present (the
// effective config: defaults filled, fields that do not apply to a
// source's or trigger's type left out). Parse reads it back to an equal
// Config. It holds no secrets: passwords are only ever named by file or
// environment variable.
func (c *Config) Marshal() ([]byte, error) {
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{encodeValue(reflect.ValueOf(c).Elem())}}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// MarshalYAML makes yaml.Marshal(c) write the file format too.
func (c *Config) MarshalYAML() (any, error) {
	return encodeValue(reflect.ValueOf(c).Elem()), nil
}

func encodeValue(v reflect.Value) *yaml.Node {
	scalar := func(tag, s string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: s}
	}
	switch {
	case v.Type() == durationType:
		return scalar("!!str", v.Interface().(interface{ String() string }).String())
	case v.Kind() == reflect.Struct:
		n := &yaml.Node{Kind: yaml.MappingNode}
		fs := fieldsOf(v.Type())
		typ := ""
		if f, ok := lookupField(fs, "type"); ok {
			typ = v.Field(f.index).String()
		}
		for _, f := range fs {
			if f.only != nil && typ != "" && !slices.Contains(f.only, typ) {
				continue
			}
			n.Content = append(n.Content, scalar("!!str", f.name), encodeValue(v.Field(f.index)))
		}
		return n
	case v.Kind() == reflect.Slice:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		if v.Type().Elem().Kind() != reflect.Struct || v.Len() == 0 {
			n.Style = yaml.FlowStyle
		}
		for i := range v.Len() {
			n.Content = append(n.Content, encodeValue(v.Index(i)))
		}
		return n
	case v.Kind() == reflect.String:
		return scalar("!!str", v.String())
	case v.Kind() == reflect.Int:
		return scalar("!!int", strconv.FormatInt(v.Int(), 10))
	case v.Kind() == reflect.Float64:
		return scalar("", strconv.FormatFloat(v.Float(), 'g', -1, 64))
	case v.Kind() == reflect.Bool:
		return scalar("!!bool", strconv.FormatBool(v.Bool()))
	}
	panic("config: no encoding for " + v.Type().String()) // a new field type needs a case here
}
