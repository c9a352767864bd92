package infer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/fruitcam/fruitcam/infer/preprocess"
	"github.com/fruitcam/fruitcam/infer/tfl"
)

// MetadataName is the name of the .tflite metadata entry holding
// fruitcam's model metadata. Other entries (TFLite's own
// "min_runtime_version", "TFLITE_METADATA", ...) are ignored.
const MetadataName = "fruitcam"

// MetadataSchema is the metadata schema version this build reads and
// writes.
const MetadataSchema = 1

// Metadata is what a fruitcam-converted model says about itself (design
// §4), stored as UTF-8 JSON in the buffer of the "fruitcam" metadata
// entry:
//
//	{"schema":1,"name":"fruits","version":"3","labels":["Apricot",...],
//	 "normalize":"unit","color_order":"rgb","resize":"nearest","fit":"squash",
//	 "converter":"fruitcam-convert 0.1"}
//
// Every field but schema is optional; unset preprocessing fields fall back
// to the agent's options and then to the defaults of package preprocess.
type Metadata struct {
	Schema     int      `json:"schema"`
	Name       string   `json:"name,omitempty"`
	Version    string   `json:"version,omitempty"`
	Labels     []string `json:"labels,omitempty"`
	Normalize  string   `json:"normalize,omitempty"`   // unit | symmetric | caffe | none
	ColorOrder string   `json:"color_order,omitempty"` // rgb | bgr
	Resize     string   `json:"resize,omitempty"`      // nearest | bilinear | area
	Fit        string   `json:"fit,omitempty"`         // squash | crop
	Converter  string   `json:"converter,omitempty"`
}

// ParseMetadata decodes and validates metadata JSON. Decoding is strict:
// an unknown field is an error, since it means the file was written for a
// different schema than the one it declares.
func ParseMetadata(data []byte) (*Metadata, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Metadata
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("infer: metadata %q: %w", MetadataName, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("infer: metadata %q: data after the JSON object", MetadataName)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate checks the schema version and the preprocessing names.
func (m *Metadata) Validate() error {
	switch {
	case m.Schema == 0:
		return fmt.Errorf("infer: metadata %q: missing \"schema\"", MetadataName)
	case m.Schema > MetadataSchema:
		return fmt.Errorf("infer: metadata %q: schema %d is newer than this agent reads (%d); upgrade the agent", MetadataName, m.Schema, MetadataSchema)
	case m.Schema < 0:
		return fmt.Errorf("infer: metadata %q: schema %d", MetadataName, m.Schema)
	}
	for i, l := range m.Labels {
		if l == "" {
			return fmt.Errorf("infer: metadata %q: label %d is empty", MetadataName, i)
		}
	}
	if _, err := preprocess.ParseNormalize(m.Normalize); err != nil {
		return fmt.Errorf("infer: metadata %q: %w", MetadataName, err)
	}
	if _, err := preprocess.ParseColorOrder(m.ColorOrder); err != nil {
		return fmt.Errorf("infer: metadata %q: %w", MetadataName, err)
	}
	if _, err := preprocess.ParseResize(m.Resize); err != nil {
		return fmt.Errorf("infer: metadata %q: %w", MetadataName, err)
	}
	if _, err := preprocess.ParseFit(m.Fit); err != nil {
		return fmt.Errorf("infer: metadata %q: %w", MetadataName, err)
	}
	return nil
}

// Marshal validates m and encodes it as the metadata buffer's JSON.
func (m *Metadata) Marshal() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// ReadMetadata returns the fruitcam metadata of a model, nil (and no
// error) when it has none.
func ReadMetadata(m *tfl.Model) (*Metadata, error) {
	for _, md := range m.Metadata {
		if md.Name != MetadataName {
			continue
		}
		buf := m.Buffer(md.Buffer)
		if len(buf) == 0 {
			return nil, fmt.Errorf("infer: metadata %q: buffer %d is empty", MetadataName, md.Buffer)
		}
		return ParseMetadata(buf)
	}
	return nil, nil
}

// Metadata returns the model's fruitcam metadata, nil when it has none.
func (f *File) Metadata() (*Metadata, error) {
	md, err := ReadMetadata(f.Model)
	if err != nil {
		return nil, fmt.Errorf("%w (model %s)", err, f.Path)
	}
	return md, nil
}

// SetMetadata stores md as m's fruitcam metadata entry, replacing any
// earlier one, so a converted model carries its own labels and
// preprocessing. m is changed in place; its other metadata entries (TFLite's
// own "min_runtime_version", say) are kept.
func SetMetadata(m *tfl.Model, md *Metadata) error {
	data, err := md.Marshal()
	if err != nil {
		return err
	}
	for i, e := range m.Metadata {
		if e.Name == MetadataName {
			m.Metadata = append(m.Metadata[:i:i], m.Metadata[i+1:]...)
			break
		}
	}
	if len(m.Buffers) == 0 {
		// Buffer 0 is the empty buffer by convention.
		m.Buffers = append(m.Buffers, nil)
	}
	m.Buffers = append(m.Buffers, data)
	m.Metadata = append(m.Metadata, tfl.Metadata{Name: MetadataName, Buffer: len(m.Buffers) - 1})
	return nil
}
