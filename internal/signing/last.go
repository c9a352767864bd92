package signing

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/fruitcam/fruitcam/internal/atomicfile"
)

// LoadLastConfig reads the LastConfig saved at path. A missing file is
// the zero LastConfig (a device that never received a config), not an
// error; a damaged one is an error, since guessing would either reopen
// old configs to replay or lock out new ones.
func LoadLastConfig(path string) (LastConfig, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return LastConfig{}, nil
	}
	if err != nil {
		return LastConfig{}, fmt.Errorf("signing: last config: %w", err)
	}
	return ParseLastConfig(data, path)
}

// ParseLastConfig decodes a LastConfig file's contents; name is used in
// errors.
func ParseLastConfig(data []byte, name string) (LastConfig, error) {
	var l LastConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return LastConfig{}, fmt.Errorf("signing: last config %s: %v; want {\"version\":N,\"sha256\":\"<hex>\"}: restore it, or delete it to accept any signed config version", name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return LastConfig{}, fmt.Errorf("signing: last config %s: data after the JSON object; restore it, or delete it to accept any signed config version", name)
	}
	if l.Version > MaxVersion {
		return LastConfig{}, fmt.Errorf("signing: last config %s: version %d is above %d", name, l.Version, uint64(MaxVersion))
	}
	if sum, err := hex.DecodeString(l.SHA256); (err != nil || len(sum) != 32) && !(l.Version == 0 && l.SHA256 == "") {
		return LastConfig{}, fmt.Errorf("signing: last config %s: sha256 %.70q is not 64 hex digits", name, l.SHA256)
	}
	return l, nil
}

// SaveLastConfig writes l to path atomically (a temporary file in the same
// directory, synced, renamed over path, the directory synced), so a power
// cut leaves the old or the new version, never a torn file.
func SaveLastConfig(path string, l LastConfig) error {
	data, err := json.Marshal(l)
	if err != nil { // an int and a string: cannot fail
		return fmt.Errorf("signing: last config: %w", err)
	}
	if err := atomicfile.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("signing: last config: %w", err)
	}
	return nil
}
