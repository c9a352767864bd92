//go:build !(386 || arm || mips || mipsle)

package keras

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/scigolib/hdf5"
)

func readH5(path string) (*Model, error) {
	f, err := hdf5.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open HDF5: %w", err)
	}
	defer f.Close()
	attrs, err := f.Root().Attributes()
	if err != nil {
		return nil, fmt.Errorf("cannot read root attributes: %w", err)
	}
	var config, version string
	for _, a := range attrs {
		if a.Name == "keras_version" {
			if v, err := a.ReadValue(); err == nil {
				if s, ok := v.(string); ok {
					version = s
				} else if b, ok := v.([]byte); ok {
					version = string(b)
				}
			}
			continue
		}
		if a.Name != "model_config" {
			continue
		}
		v, err := a.ReadValue()
		if err != nil {
			return nil, fmt.Errorf("cannot read model_config: %w", err)
		}
		switch s := v.(type) {
		case string:
			config = s
		case []byte:
			config = string(s)
		default:
			return nil, fmt.Errorf("model_config is a %T, not a string", v)
		}
	}
	if config == "" {
		return nil, errors.New("no model_config attribute (a weights-only file? save the whole model with model.save)")
	}
	m, err := ParseConfig([]byte(config))
	if err != nil {
		return nil, err
	}
	m.KerasVersion = version
	sets, err := datasets(f)
	if err != nil {
		return nil, err
	}
	root := "/model_weights/"
	if !hasPrefix(sets, root) {
		root = "/"
	}
	for _, l := range m.Layers {
		found, err := readUnder(sets, root+l.Name+"/")
		if err != nil {
			return nil, fmt.Errorf("layer %q: %w", l.Name, err)
		}
		if err := assignWeights(l, found); err != nil {
			return nil, err
		}
	}
	return m, validateWeights(m)
}

// readKerasWeights reads the weights of a Keras 3 model.weights.h5 into
// the layers of m.
func readKerasWeights(m *Model, path string) error {
	f, err := hdf5.Open(path)
	if err != nil {
		return fmt.Errorf("model.weights.h5: cannot open HDF5: %w", err)
	}
	defer f.Close()
	sets, err := datasets(f)
	if err != nil {
		return err
	}
	groups := kerasVarGroups(m)
	byName := make(map[string]string, len(m.Layers))
	for _, l := range m.Layers {
		byName[l.Name] = l.Name
	}
	if varGroupsPresent(sets, byName) > varGroupsPresent(sets, groups) {
		// Not Keras' own naming: a file written by another tool that
		// names the groups after the layers.
		groups = byName
	}
	for _, l := range m.Layers {
		var found []storedWeight
		for _, p := range varPrefixes(groups[l.Name]) {
			if found, err = readUnder(sets, p); err != nil {
				return fmt.Errorf("layer %q: %w", l.Name, err)
			}
			if len(found) > 0 {
				break
			}
		}
		if err := assignWeights(l, found); err != nil {
			return err
		}
	}
	return nil
}

// kerasVarGroups returns, for each layer, the group under layers/ that
// holds its variables in a .keras model.weights.h5. Keras names that group
// after the layer's class, not the layer: the class in snake case,
// numbered per class in model.layers order (conv2d, conv2d_1, ...; Keras
// 3 saving_lib._save_container_state, and tf.keras 2.13+ before it). The
// two agree only for default names in a fresh session; a model built
// twice in one notebook has layers conv2d_2, conv2d_3 stored as conv2d,
// conv2d_1. m.Layers keeps the config's order, which is model.layers'
// (the InputLayer a Sequential leaves out of model.layers is the only
// layer of its class, so it shifts no numbering).
func kerasVarGroups(m *Model) map[string]string {
	groups := make(map[string]string, len(m.Layers))
	used := map[string]int{}
	for _, l := range m.Layers {
		key := snakeCase(l.Class)
		if n, seen := used[key]; seen {
			used[key] = n + 1
			key = fmt.Sprintf("%s_%d", key, n+1)
		} else {
			used[key] = 0
		}
		groups[l.Name] = key
	}
	return groups
}

// varPrefixes are the places a layer's variables may be: Keras 3 writes
// "layers"; tf.keras 2.13 wrote "_layer_checkpoint_dependencies", which
// Keras 3's loader still reads.
func varPrefixes(group string) []string {
	return []string{"/layers/" + group + "/vars/", "/_layer_checkpoint_dependencies/" + group + "/vars/"}
}

// varGroupsPresent counts the layers whose group holds any dataset.
func varGroupsPresent(sets []namedDataset, groups map[string]string) int {
	n := 0
	for _, g := range groups {
		for _, p := range varPrefixes(g) {
			if hasPrefix(sets, p) {
				n++
				break
			}
		}
	}
	return n
}

var (
	nonWordRe = regexp.MustCompile(`\W+`)
	capWordRe = regexp.MustCompile(`(.)([A-Z][a-z]+)`)
	lowerUpRe = regexp.MustCompile(`([a-z])([A-Z])`)
)

// snakeCase is keras.src.utils.naming.to_snake_case: "Conv2D" -> "conv2d",
// "LeakyReLU" -> "leaky_re_lu", "BatchNormalization" -> "batch_normalization".
func snakeCase(class string) string {
	s := nonWordRe.ReplaceAllString(class, "")
	s = capWordRe.ReplaceAllString(s, "${1}_${2}")
	return strings.ToLower(lowerUpRe.ReplaceAllString(s, "${1}_${2}"))
}

type namedDataset struct {
	path string
	ds   *hdf5.Dataset
}

// datasets lists every dataset of the file with its full path.
func datasets(f *hdf5.File) ([]namedDataset, error) {
	var out []namedDataset
	f.Walk(func(p string, o hdf5.Object) {
		if ds, ok := o.(*hdf5.Dataset); ok {
			if !strings.HasPrefix(p, "/") {
				p = "/" + p
			}
			out = append(out, namedDataset{p, ds})
		}
	})
	return out, nil
}

func hasPrefix(sets []namedDataset, prefix string) bool {
	for _, s := range sets {
		if strings.HasPrefix(s.path, prefix) {
			return true
		}
	}
	return false
}

// readUnder reads every dataset whose path starts with prefix.
func readUnder(sets []namedDataset, prefix string) ([]storedWeight, error) {
	var out []storedWeight
	for _, s := range sets {
		if !strings.HasPrefix(s.path, prefix) {
			continue
		}
		w, err := readDataset(s)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

func readDataset(s namedDataset) (storedWeight, error) {
	info, err := s.ds.Info()
	if err != nil {
		return storedWeight{}, fmt.Errorf("%s: %w", s.path, err)
	}
	if !strings.HasPrefix(info, "Dataset: float") && !strings.HasPrefix(info, "Dataset: integer") {
		return storedWeight{}, fmt.Errorf("%s is not numeric (%s)", s.path, info)
	}
	shape, err := infoShape(info)
	if err != nil {
		return storedWeight{}, fmt.Errorf("%s: %w", s.path, err)
	}
	vals, err := s.ds.Read()
	if err != nil {
		return storedWeight{}, fmt.Errorf("%s: %w", s.path, err)
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	if n != len(vals) {
		return storedWeight{}, fmt.Errorf("%s: %d values for shape %v", s.path, len(vals), shape)
	}
	data := make([]float32, len(vals))
	for i, v := range vals {
		data[i] = float32(v)
	}
	return storedWeight{path: s.path, shape: shape, data: data}, nil
}

var (
	arrayRe = regexp.MustCompile(`, (\d+)D array \[([0-9 x]*)\]`)
	// the HDF5 library only describes dataset shapes in its Info string
)

// infoShape parses the shape out of hdf5.Dataset.Info, which prints
// "1D array [8]", "2D array [2 x 8]", "4D array [3 3 8 1]" or "scalar".
func infoShape(info string) ([]int, error) {
	mt := arrayRe.FindStringSubmatch(info)
	if mt == nil {
		if strings.Contains(info, ", scalar,") {
			return []int{}, nil
		}
		return nil, fmt.Errorf("cannot tell the shape from %q", info)
	}
	rank, err := strconv.Atoi(mt[1])
	if err != nil || rank > 8 {
		return nil, fmt.Errorf("unsupported rank in %q", info)
	}
	fields := strings.Fields(strings.ReplaceAll(mt[2], "x", " "))
	if len(fields) != rank {
		return nil, fmt.Errorf("cannot tell the shape from %q", info)
	}
	shape := make([]int, rank)
	total := int64(1)
	for i, fs := range fields {
		d, err := strconv.ParseInt(fs, 10, 64)
		if err != nil || d <= 0 || d > math.MaxInt32 {
			return nil, fmt.Errorf("bad dimension %q in %q", fs, info)
		}
		total *= d
		if total > maxWeightValues {
			return nil, fmt.Errorf("dataset has more than %d values", maxWeightValues)
		}
		shape[i] = int(d)
	}
	return shape, nil
}
